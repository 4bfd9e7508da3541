"""Registry benchmarks (``make bench-registry``): a 1,000,000-row extract import and 100,000
invitations dispatched through Kafka to an outbox channel, each on SQLite and PostgreSQL.
Prints rows/s, seconds and peak RSS; the targets are under 2 minutes each.

Real components: the Kafka broker at KLERO_KAFKA_BOOTSTRAP, else one started (and stopped)
with tools/kafka/broker.sh; the PostgreSQL server at KLERO_BENCH_POSTGRES_URL, else one
started (and stopped) with tools/postgres/server.sh (``--no-postgres`` skips it). Each run
gets fresh databases on that server. Both started components live in a private run folder,
so they never touch anyone else's broker or server."""
from __future__ import annotations

import argparse
import contextlib
import os
import pathlib
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import sqlalchemy as sa

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from services.common.geography import municipalities  # noqa: E402
from services.common.hookspecs import DeliveryResult, Invitation, hookimpl  # noqa: E402
from services.common.plugins import PluginHost  # noqa: E402
from services.registry import app as registry_app  # noqa: E402
from services.registry.importer import ColumnMapping, import_extract  # noqa: E402
from services.registry.settings import Settings  # noqa: E402

MAPPING = ColumnMapping.parse({"columns": {
    "person_key": "cpr", "name": "name", "address": "address", "postcode": "postcode",
    "municipality_code": "kommunekode", "birth_date": "birth_date", "sex": "sex",
    "email": "email"}})


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate(path: pathlib.Path, rows: int) -> None:
    """A synthetic extract: unique 10-digit person keys (row k is key k, zero-padded), so a
    file of any size imports without duplicates."""
    codes = sorted(municipalities())
    rnd = random.Random(1)
    with path.open("w", encoding="utf-8") as f:
        f.write("cpr,name,address,postcode,kommunekode,birth_date,sex,email\n")
        for k in range(rows):
            y, m, d = rnd.randint(1930, 2006), rnd.randint(1, 12), rnd.randint(1, 28)
            f.write(f"{k:010d},Borger {k},Testvej {k // 2} {rnd.randint(1, 9)}. tv,"
                    f"{rnd.randint(1000, 9990)},{codes[k % len(codes)]},{y}-{m:02d}-{d:02d},"
                    f"{'MK'[k % 2]},b{k}@example.invalid\n")


def build(url: str, data_dir: str, *channels, bus=None):
    settings = Settings.from_env(data_dir=data_dir, database_url=url, send_backoff_ms=0,
                                 encryption_key="" if url.startswith("sqlite") else
                                 "q3W2l9rsN8oYB2m0TlPZ9QeQJg2YbZ9r3u5X5f8Hk0o=")
    host = PluginHost(enabled=["bench"], extra_plugins=[("bench", _Plugin(*channels))])
    return registry_app.build(settings, bus=bus, plugins=host)


class Outbox:
    name = "outbox"

    def __init__(self):
        self.count = 0
        self.lock = threading.Lock()

    def can_reach(self, r):
        return True

    def render(self, r, template, assembly):
        return Invitation("outbox", r, template["subject"], template["body"],
                          assembly["signup_url"])

    def send(self, invitation):
        with self.lock:
            self.count += 1
        return DeliveryResult("sent")

    def delivery_status(self, invitation_id):
        return None


class _Plugin:
    def __init__(self, *channels):
        self.channels = channels

    @hookimpl
    def register_invitation_channels(self, settings):
        return list(self.channels)


@contextlib.contextmanager
def fresh_pg_database(server_url: str):
    """A new, empty database on the PostgreSQL server, dropped afterwards."""
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    name = f"bench_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield server_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


@contextlib.contextmanager
def component(script: str, env_var: str, run_env: str, run_dir: pathlib.Path):
    """The address of a real component: the one ``env_var`` names, else one started with
    ``script`` in ``run_dir`` and stopped afterwards."""
    given = os.environ.get(env_var)
    if given:
        yield given
        return
    env = {**os.environ, run_env: str(run_dir)}
    out = subprocess.run(["bash", str(ROOT / script), "start"], check=True, env=env,
                         stdout=subprocess.PIPE, text=True).stdout
    try:
        yield out.strip().splitlines()[-1]
    finally:
        subprocess.run(["bash", str(ROOT / script), "stop"], env=env, stdout=subprocess.DEVNULL)


def bench_import(label: str, url: str, data_dir: str, path: pathlib.Path) -> None:
    ctx = build(url, data_dir, Outbox())
    with ctx.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO assemblies (id, name, questions, session_dates, status, "
                             "created_at) VALUES ('bench', 'bench', '[]', '[]', 'open', "
                             "CURRENT_TIMESTAMP)"))
    rss_before = peak_rss_mb()
    started = time.perf_counter()
    with ctx.engine.begin() as conn, path.open("rb") as stream:
        result = import_extract(conn, "bench", stream, MAPPING, ctx.sealer)
    seconds = time.perf_counter() - started
    assert result.ok, result.errors[:5]
    print(f"import[{label}]: {result.rows} rows in {seconds:.1f} s = {result.rows / seconds:,.0f} "
          f"rows/s; peak RSS {peak_rss_mb():.0f} MB (before the import {rss_before:.0f} MB)",
          flush=True)
    ctx.close()


def bench_dispatch(label: str, url: str, bootstrap: str, count: int, data_dir: str,
                   consumers: int) -> None:
    from services.common.bus import ConsumerWorker, KafkaBus, KafkaConfig

    prefix = f"bench{uuid.uuid4().hex[:8]}"
    bus = KafkaBus(KafkaConfig((bootstrap,)), prefix=prefix, partitions=6)
    outbox = Outbox()
    ctx = build(url, data_dir, outbox, bus=bus)
    app = registry_app.create_app(context=ctx)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {ctx.tokens.issue('bench', 'platform_operator')}"}
    client.post("/api/assemblies", json={"id": "d", "name": "Bench", "questions": [],
                                         "session_dates": ["2030-01-01"]}, headers=headers)
    path = pathlib.Path(data_dir) / f"small-{label}.csv"
    generate(path, count)
    with ctx.engine.begin() as conn, path.open("rb") as stream:
        assert import_extract(conn, "d", stream, MAPPING, ctx.sealer).ok
    r = client.post("/api/assemblies/d/rollouts", json={"scope": "Danmark", "size": count},
                    headers=headers)
    rid = r.json["id"]
    tid = client.post("/api/assemblies/d/templates", json={"content": {"da": {
        "subject": "Invitation", "body": "Din kode: {code}"}}}, headers=headers).json["id"]
    client.post(f"/api/templates/{tid}/test-send", json={"channel": "outbox", "recipient": {
        "name": "T"}}, headers=headers)
    client.post(f"/api/templates/{tid}/approve", headers=headers)
    outbox.count = 0
    bus.ensure_event_topics(["invitation_requested", "invitation_delivered"])
    worker = ConsumerWorker([ctx.dispatcher.consumer() for _ in range(consumers)]).start()
    # As in `kleroterion serve registry`: events go through the outbox, and its relay thread
    # publishes them, so neither the send request nor the channel worker waits on the broker.
    ctx.outbox.start_relay()
    count_sent = sa.text("SELECT count(*) FROM deliveries WHERE state='sent'")
    started = time.perf_counter()
    r = client.post(f"/api/rollouts/{rid}/send", json={"template_id": tid}, headers=headers)
    assert r.status_code == 202, r.json
    published = time.perf_counter() - started
    deadline = started + 600
    sent = 0
    while time.perf_counter() < deadline:
        with ctx.engine.connect() as conn:  # done when every outcome is recorded
            sent = conn.scalar(count_sent)
        if sent >= count:
            break
        time.sleep(0.2)
    seconds = time.perf_counter() - started
    worker.stop()
    print(f"dispatch[kafka→{label}]: {sent} of {count} invitations sent (outbox got "
          f"{outbox.count}) in {seconds:.1f} s = {sent / seconds:,.0f}/s (publishing took "
          f"{published:.1f} s; {consumers} consumer(s)); peak RSS {peak_rss_mb():.0f} MB",
          flush=True)
    assert sent == count == outbox.count, "every invitation sent exactly once"
    ctx.close()
    bus.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--invitations", type=int, default=100_000)
    parser.add_argument("--consumers", type=int, default=1,
                        help="dispatch consumers of the group (threads in this process)")
    parser.add_argument("--only", choices=("import", "dispatch"))
    parser.add_argument("--no-postgres", action="store_true",
                        help="SQLite only (do not start or use PostgreSQL)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="klero-bench-") as tmp, \
            contextlib.ExitStack() as stack:
        run = pathlib.Path(tmp) / "run"
        pg = None
        if not args.no_postgres:
            pg = stack.enter_context(component("tools/postgres/server.sh",
                                               "KLERO_BENCH_POSTGRES_URL",
                                               "KLERO_POSTGRES_RUN_DIR", run / "postgres"))
        if args.only in (None, "import"):
            path = pathlib.Path(tmp) / "extract.csv"
            started = time.perf_counter()
            generate(path, args.rows)
            print(f"generated {args.rows} rows ({path.stat().st_size / 1e6:.0f} MB) in "
                  f"{time.perf_counter() - started:.1f} s", flush=True)
            bench_import("sqlite", f"sqlite:///{tmp}/import.sqlite3", tmp, path)
            if pg:
                with fresh_pg_database(pg) as url:
                    bench_import("postgresql", url, tmp, path)
            else:
                print("import[postgresql]: skipped (--no-postgres)")
            path.unlink()
        if args.only in (None, "dispatch"):
            bootstrap = stack.enter_context(component("tools/kafka/broker.sh",
                                                      "KLERO_KAFKA_BOOTSTRAP",
                                                      "KLERO_KAFKA_RUN_DIR", run / "kafka"))
            bench_dispatch("sqlite", f"sqlite:///{tmp}/dispatch.sqlite3", bootstrap,
                           args.invitations, tmp, args.consumers)
            if pg:
                with fresh_pg_database(pg) as url:
                    bench_dispatch("postgresql", url, bootstrap, args.invitations, tmp,
                                   args.consumers)
            else:
                print("dispatch[kafka→postgresql]: skipped (--no-postgres)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
