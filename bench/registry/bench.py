"""Registry benchmarks (``make bench-registry``): a 1,000,000-row extract import (SQLite and,
with KLERO_BENCH_POSTGRES_URL, PostgreSQL) and 100,000 invitations dispatched through Kafka
to an outbox channel. Prints rows/s, seconds and peak RSS; the targets are under 2 minutes
each."""
from __future__ import annotations

import argparse
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

from services.common.hookspecs import DeliveryResult, Invitation, hookimpl  # noqa: E402
from services.common.plugins import PluginHost  # noqa: E402
from services.registry import app as registry_app  # noqa: E402
from services.registry.geography import municipalities  # noqa: E402
from services.registry.importer import ColumnMapping, import_extract  # noqa: E402
from services.registry.settings import Settings  # noqa: E402

MAPPING = ColumnMapping.parse({"columns": {
    "person_key": "cpr", "name": "name", "address": "address", "postcode": "postcode",
    "municipality_code": "kommunekode", "birth_date": "birth_date", "sex": "sex",
    "email": "email"}})


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate(path: pathlib.Path, rows: int) -> None:
    codes = sorted(municipalities())
    rnd = random.Random(1)
    with path.open("w", encoding="utf-8") as f:
        f.write("cpr,name,address,postcode,kommunekode,birth_date,sex,email\n")
        for k in range(rows):
            y, m, d = rnd.randint(1930, 2006), rnd.randint(1, 12), rnd.randint(1, 28)
            f.write(f"{d:02d}{m:02d}{y % 100:02d}{k % 10000:04d}{k // 10000:0>0}"[:6]
                    + f"{k:04d}"[-4:] + f"{k // 10000:02d}"[:0]
                    + f",Borger {k},Testvej {k // 2} {rnd.randint(1, 9)}. tv,"
                    f"{rnd.randint(1000, 9990)},{codes[k % len(codes)]},{y}-{m:02d}-{d:02d},"
                    f"{'MK'[k % 2]},b{k}@example.invalid\n")


def unique_keys(path: pathlib.Path, rows: int) -> None:
    """Rewrite the key column with unique 10-digit keys (k zero-padded)."""
    tmp = path.with_suffix(".tmp")
    with path.open(encoding="utf-8") as src, tmp.open("w", encoding="utf-8") as dst:
        dst.write(next(src))
        for k, line in enumerate(src):
            dst.write(f"{k:010d}" + line[line.index(","):])
    tmp.replace(path)


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
        return Invitation("outbox", r, template["subject"], template["body"], assembly["signup_url"])

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


def bench_import(label: str, url: str, data_dir: str, path: pathlib.Path) -> None:
    ctx = build(url, data_dir, Outbox())
    with ctx.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO assemblies (id, name, questions, session_dates, status, "
                             "created_at) VALUES ('bench', 'bench', '[]', '[]', 'open', "
                             "CURRENT_TIMESTAMP)"))
    started = time.perf_counter()
    with ctx.engine.begin() as conn, path.open("rb") as stream:
        result = import_extract(conn, "bench", stream, MAPPING, ctx.sealer)
    seconds = time.perf_counter() - started
    assert result.ok, result.errors[:5]
    print(f"import[{label}]: {result.rows} rows in {seconds:.1f} s = {result.rows / seconds:,.0f} "
          f"rows/s; peak RSS {peak_rss_mb():.0f} MB", flush=True)
    ctx.close()


def bench_dispatch(bootstrap: str, count: int, data_dir: str) -> None:
    from services.common.bus import ConsumerWorker, KafkaBus, KafkaConfig

    prefix = f"bench{uuid.uuid4().hex[:8]}"
    bus = KafkaBus(KafkaConfig((bootstrap,)), prefix=prefix, partitions=6)
    outbox = Outbox()
    ctx = build(f"sqlite:///{data_dir}/dispatch.sqlite3", data_dir, outbox, bus=bus)
    app = registry_app.create_app(context=ctx)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {ctx.tokens.issue('bench', 'platform_operator')}"}
    client.post("/api/assemblies", json={"id": "d", "name": "Bench", "questions": [],
                                         "session_dates": ["2030-01-01"]}, headers=headers)
    path = pathlib.Path(data_dir) / "small.csv"
    generate(path, count)
    unique_keys(path, count)
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
    worker = ConsumerWorker([ctx.dispatcher.consumer()]).start()
    started = time.perf_counter()
    r = client.post(f"/api/rollouts/{rid}/send", json={"template_id": tid}, headers=headers)
    published = time.perf_counter() - started
    deadline = started + 600
    while outbox.count < count and time.perf_counter() < deadline:
        time.sleep(0.5)
    seconds = time.perf_counter() - started
    worker.stop()
    with ctx.engine.connect() as conn:
        sent = conn.scalar(sa.text("SELECT count(*) FROM deliveries WHERE state='sent'"))
    print(f"dispatch[kafka→sqlite]: {sent} of {count} invitations sent (outbox got "
          f"{outbox.count}) in {seconds:.1f} s = {sent / seconds:,.0f}/s (publishing took "
          f"{published:.1f} s); peak RSS {peak_rss_mb():.0f} MB", flush=True)
    ctx.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--invitations", type=int, default=100_000)
    parser.add_argument("--only", choices=("import", "dispatch"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="klero-bench-") as tmp:
        if args.only in (None, "import"):
            path = pathlib.Path(tmp) / "extract.csv"
            started = time.perf_counter()
            generate(path, args.rows)
            unique_keys(path, args.rows)
            print(f"generated {args.rows} rows ({path.stat().st_size / 1e6:.0f} MB) in "
                  f"{time.perf_counter() - started:.1f} s", flush=True)
            bench_import("sqlite", f"sqlite:///{tmp}/import.sqlite3", tmp, path)
            pg = os.environ.get("KLERO_BENCH_POSTGRES_URL")
            if pg:
                bench_import("postgresql", pg, tmp, path)
            else:
                print("import[postgresql]: skipped (set KLERO_BENCH_POSTGRES_URL)")
        if args.only in (None, "dispatch"):
            bootstrap = os.environ.get("KLERO_KAFKA_BOOTSTRAP")
            started_broker = False
            if not bootstrap:
                out = subprocess.run(["bash", str(ROOT / "tools/kafka/broker.sh"), "start"],
                                     check=True, capture_output=True, text=True).stdout
                bootstrap, started_broker = out.strip().splitlines()[-1], True
            try:
                bench_dispatch(bootstrap, args.invitations, tmp)
            finally:
                if started_broker:
                    subprocess.run(["bash", str(ROOT / "tools/kafka/broker.sh"), "stop"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
