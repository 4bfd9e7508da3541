"""``kleroterion demo``: the main job on embedded defaults, in one process.

Each step runs the real code of what exists so far and prints what it did; a step for a
part that is not built yet is not faked.
"""
from __future__ import annotations

import pathlib
import shutil
import time

from services.common import events, storage
from services.common.bus import InProcessBus
from services.common.plugins import PluginHost
from services.common.settings import ServiceSettings
from services.contracts.kleroterion.v1.platform_events_pb2 import AssemblyCreated


def _say(step: str, text: str) -> None:
    print(f"[{step}] {text}", flush=True)


def run(out: pathlib.Path, fmt_name: str = "assembly") -> int:
    started = time.perf_counter()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    settings = ServiceSettings.from_env(data_dir=str(out / "data"), bus="inprocess")

    host = PluginHost.from_settings(settings)
    fmt = host.format(fmt_name)
    _say("plugins", f"enabled: {', '.join(host.enabled)}; format {fmt.name} "
                    f"({fmt.title['da']}): {fmt.default_seats} seats, at least {fmt.min_hours:g} "
                    f"hours over {fmt.min_sessions} sessions")

    for service in ("registry", "sortition", "sessions", "recommendations"):
        url = ServiceSettings.from_env(service=service, data_dir=settings.data_dir).database()
        engine = storage.make_engine(url)
        storage.migrate(engine, service, [])
        engine.dispose()
    _say("storage", f"one SQLite database per service under {settings.data_dir}")

    bus = InProcessBus(prefix=settings.topic_prefix)
    received: list[events.Envelope] = []
    consumer = bus.consumer("demo.audit", ["assembly_created"], received.append)
    bus.publish(events.new_event(
        AssemblyCreated(name="Borgersamling om klimatilpasning", format=fmt.name,
                        seats=fmt.default_seats, scope="Region Hovedstaden"),
        assembly_id="demo-assembly", region="hovedstaden", producer="demo"))
    consumer.poll_once(1.0)
    consumer.close()
    event = received[0]
    _say("bus", f"{event.event_type} delivered on {events.topic_for(event.event_type)} "
                f"(event {event.event_id[:8]}…, seats {event.assembly_created.seats})")

    _say("done", f"in {time.perf_counter() - started:.1f} s; output in {out}")
    return 0


def add_parser(sub) -> None:
    p = sub.add_parser("demo", help="run a whole assembly on embedded defaults")
    p.add_argument("--out", type=pathlib.Path, default=pathlib.Path("out/demo"),
                   help="folder for the report, the transparency page and the data")
    p.add_argument("--format", default="assembly", help="assembly format plugin to use")
    p.set_defaults(func=lambda args: run(args.out, args.format))
