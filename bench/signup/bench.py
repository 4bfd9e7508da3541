"""Sign-up benchmark (``make bench-signup``): the registry as one worker process
(``kleroterion serve registry``, waitress) and many concurrent citizens on its public
sign-up endpoint. Prints throughput (requests/s, sign-ups/s), latency p50/p95/p99 per kind
of request, errors, and checks that every accepted sign-up is in the pool.

Embedded SQLite by default; ``--database-url postgresql+psycopg://...`` (or
KLERO_BENCH_POSTGRES_URL) runs it on PostgreSQL, which must be an empty database.

Each client is a thread with its own keep-alive connection (http.client). A client takes
the next unused invitation code, reads the form (``GET /api/public/signup/<code>``, or the
HTML page ``/signup?code=`` every other time) and signs up (``POST /api/public/signup``),
until the time is up or the codes run out.
"""
from __future__ import annotations

import argparse
import csv
import http.client
import io
import itertools
import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid

ROOT = pathlib.Path(__file__).resolve().parents[2]
KLERO = ROOT / ".venv" / "bin" / "kleroterion"
MUNICIPALITIES = (101, 147, 151, 153, 155, 157, 159, 161, 163, 165, 167, 169, 173, 175, 183,
                  185, 187, 190, 201, 210, 217, 219, 223, 230, 240, 250, 260, 270, 400)
QUESTIONS = [{"id": "education", "label": {"da": "Uddannelse", "en": "Education"},
              "options": [{"value": v, "label": {"da": v, "en": v}}
                          for v in ("short", "medium", "long")]}]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    def __init__(self, port: int, token: str | None = None):
        self.port = port
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict | None = None) -> tuple[int, bytes]:
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers={**self.headers,
                                                                    **(headers or {})})
                response = self.conn.getresponse()
                return response.status, response.read()
            except (http.client.HTTPException, ConnectionError):
                # The server closed an idle keep-alive connection: reconnect once.
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt == 2:
                    raise
        raise AssertionError

    def json(self, method: str, path: str, payload=None) -> tuple[int, dict]:
        body = json.dumps(payload).encode() if payload is not None else None
        status, raw = self.request(method, path, body, {"Content-Type": "application/json"})
        return status, json.loads(raw or b"{}")


def extract(rows: int) -> bytes:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["cpr", "name", "address", "postcode", "kommunekode", "birth_date", "sex"])
    for k in range(rows):
        w.writerow([f"{k:010d}", f"Borger {k}", f"Testvej {k}", 1000 + k % 8000,
                    MUNICIPALITIES[k % len(MUNICIPALITIES)],
                    f"{1940 + k % 60}-{1 + k % 12:02d}-{1 + k % 28:02d}", "MK"[k % 2]])
    return out.getvalue().encode()


def multipart(fields: dict[str, tuple[str | None, bytes]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, (filename, data) in fields.items():
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        parts.append(f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
                     + data + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def prepare(port: int, token: str, invitations: int) -> tuple[str, list[str]]:
    """An assembly with ``invitations`` drawn invitation codes; returns (assembly, codes)."""
    api = Client(port, token)
    status, body = api.json("POST", "/api/assemblies", {
        "id": "bench", "name": "Bench assembly", "questions": QUESTIONS,
        "session_dates": ["2030-03-01", "2030-03-15"]})
    assert status == 201, body
    data, ctype = multipart({"file": ("extract.csv", extract(invitations)),
                             "mapping": (None, json.dumps(
        {"columns": {"person_key": "cpr", "name": "name", "address": "address",
                     "postcode": "postcode", "municipality_code": "kommunekode",
                     "birth_date": "birth_date", "sex": "sex"}}).encode())})
    status, raw = api.request("POST", "/api/assemblies/bench/extracts", data,
                              {"Content-Type": ctype})
    assert status == 201, raw[:500]
    status, body = api.json("POST", "/api/assemblies/bench/rollouts", {
        "scope": "hovedstaden", "size": invitations, "seed": "be0c4"})
    assert status == 201, body
    return "bench", body["id"]


def codes_from(database_url: str) -> list[str]:
    """The drawn codes, read from the registry's database (only a citizen's letter has
    them; the API never shows them)."""
    import sqlalchemy as sa
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        codes = conn.execute(sa.text("SELECT code FROM invitations WHERE assembly_id = 'bench' "
                                     "ORDER BY id")).scalars().all()
    engine.dispose()
    return list(codes)


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, round(q / 100 * (len(sorted_values) - 1))))
    return sorted_values[k]


def run_clients(port: int, codes: list[str], clients: int, seconds: float):
    next_code = iter(codes).__next__
    lock = threading.Lock()
    latencies: dict[str, list[float]] = {"form": [], "form_html": [], "signup": []}
    statuses: dict[str, dict[int, int]] = {k: {} for k in latencies}
    accepted: list[str] = []
    errors: list[str] = []
    stop_at = time.monotonic() + seconds
    start = threading.Barrier(clients + 1)

    def client(n: int) -> None:
        c = Client(port)
        mine_lat: dict[str, list[float]] = {k: [] for k in latencies}
        mine_st: dict[str, dict[int, int]] = {k: {} for k in latencies}
        mine_ok: list[str] = []
        start.wait()
        for turn in itertools.count():
            if time.monotonic() >= stop_at:
                break
            with lock:
                try:
                    code = next_code()
                except StopIteration:
                    break
            try:
                kind = "form_html" if (n + turn) % 2 else "form"
                path = (f"/signup?code={code}" if kind == "form_html"
                        else f"/api/public/signup/{code}")
                t0 = time.perf_counter()
                status, _ = c.request("GET", path)
                mine_lat[kind].append(time.perf_counter() - t0)
                mine_st[kind][status] = mine_st[kind].get(status, 0) + 1
                t0 = time.perf_counter()
                status, body = c.json("POST", "/api/public/signup", {
                    "code": code, "answers": {"education": ("short", "medium", "long")[turn % 3]},
                    "available": True, "consent": True, "language": "da"})
                mine_lat["signup"].append(time.perf_counter() - t0)
                mine_st["signup"][status] = mine_st["signup"].get(status, 0) + 1
                if status == 201:
                    mine_ok.append(body["registrant_id"])
            except Exception as exc:  # noqa: BLE001 - a benchmark counts, not crashes
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}")
        with lock:
            for k in latencies:
                latencies[k] += mine_lat[k]
                for s, n_ in mine_st[k].items():
                    statuses[k][s] = statuses[k].get(s, 0) + n_
            accepted.extend(mine_ok)

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.monotonic()
    for t in threads:
        t.join()
    return time.monotonic() - t0, latencies, statuses, accepted, errors


def wait_ready(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the registry exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the registry did not become ready")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--clients", type=int,
                   default=int(os.environ.get("BENCH_SIGNUP_CLIENTS", 200)))
    p.add_argument("--seconds", type=float,
                   default=float(os.environ.get("BENCH_SIGNUP_SECONDS", 60)))
    p.add_argument("--invitations", type=int,
                   default=int(os.environ.get("BENCH_SIGNUP_INVITATIONS", 30000)),
                   help="codes to prepare (more than the run can use)")
    p.add_argument("--threads", type=int, default=int(os.environ.get("BENCH_SIGNUP_THREADS", 8)),
                   help="waitress request threads of the one worker process")
    p.add_argument("--database-url", default=os.environ.get("KLERO_BENCH_POSTGRES_URL", ""),
                   help="PostgreSQL URL (an empty database); default: embedded SQLite")
    args = p.parse_args(argv)

    work = pathlib.Path(tempfile.mkdtemp(prefix="bench-signup-"))
    database_url = args.database_url or f"sqlite:///{work}/registry.sqlite3"
    env = {**os.environ, "KLERO_DATA_DIR": str(work), "KLERO_REGISTRY_DATABASE_URL": database_url,
           "KLERO_LOG_LEVEL": "WARNING", "KLERO_BUS": "inprocess", "KLERO_PLUGINS": "formats"}
    if args.database_url and not env.get("KLERO_REGISTRY_ENCRYPTION_KEY"):
        import base64
        env["KLERO_REGISTRY_ENCRYPTION_KEY"] = base64.urlsafe_b64encode(os.urandom(32)).decode()
    token = subprocess.run([str(KLERO), "token", "registry", "--role", "platform_operator",
                            "--subject", "bench"], env=env, check=True, capture_output=True,
                           text=True).stdout.strip().splitlines()[-1]
    port = free_port()
    log = (work / "registry.log").open("w")
    proc = subprocess.Popen([str(KLERO), "serve", "registry", "--host", "127.0.0.1", "--port",
                             str(port), "--threads", str(args.threads)], env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        wait_ready(port, proc)
        t0 = time.monotonic()
        assembly, rollout = prepare(port, token, args.invitations)
        codes = codes_from(database_url)
        print(f"registry pid {proc.pid} on :{port}, {args.threads} threads, "
              f"{'PostgreSQL' if args.database_url else 'SQLite'}; prepared {len(codes)} codes "
              f"in {time.monotonic() - t0:.1f} s; {args.clients} clients for {args.seconds:.0f} s",
              flush=True)
        elapsed, lat, statuses, accepted, errors = run_clients(port, codes, args.clients,
                                                               args.seconds)
        status, pool = Client(port, token).json("GET", f"/api/assemblies/{assembly}/registrants")
        assert status == 200, pool
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()

    requests = sum(len(v) for v in lat.values())
    print(f"\n{elapsed:.1f} s, {requests} requests: {requests / elapsed:.0f} requests/s, "
          f"{len(accepted)} sign-ups: {len(accepted) / elapsed:.0f} sign-ups/s")
    print(f"{'request':<34}{'count':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}  statuses")
    names = {"form": "GET /api/public/signup/<code>", "form_html": "GET /signup?code=<code>",
             "signup": "POST /api/public/signup"}
    for kind, values in lat.items():
        v = sorted(values)
        print(f"{names[kind]:<34}{len(v):>8}{percentile(v, 50) * 1000:>9.1f}"
              f"{percentile(v, 95) * 1000:>9.1f}{percentile(v, 99) * 1000:>9.1f}  "
              f"{dict(sorted(statuses[kind].items()))}")
    everything = sorted(x for values in lat.values() for x in values)
    print(f"{'all':<34}{len(everything):>8}{percentile(everything, 50) * 1000:>9.1f}"
          f"{percentile(everything, 95) * 1000:>9.1f}{percentile(everything, 99) * 1000:>9.1f}")
    bad = {k: {s: n for s, n in st.items() if s >= 400 and not (k != "signup" and s == 409)}
           for k, st in statuses.items()}
    print(f"errors: {len(errors)} client exceptions {errors[:3]}; error statuses {bad}")
    in_pool = {r["id"] for r in pool["registrants"]} if "registrants" in pool else set()
    lost = set(accepted) - in_pool
    print(f"pool: {len(in_pool)} registrants; accepted sign-ups missing from the pool: {len(lost)}")
    return 1 if lost or errors or any(bad.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
