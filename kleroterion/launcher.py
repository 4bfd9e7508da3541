"""``kleroterion serve <service>``: run one service as its own process (what a pod runs).

Flask services are served by waitress (a production WSGI server, threads not forks, so the
service's bus consumers can run beside it in the same process); sortition runs its gRPC
server. SIGTERM stops taking requests, lets running ones finish, stops the consumers after
their current batch (they commit what they handled) and exits.
"""
from __future__ import annotations

import argparse
import logging
import signal
import threading
import time
from types import FrameType

from kleroterion.cli import Subparsers
from kleroterion.service_table import SERVICES
from kleroterion.service_table import service as service_entry
from services.common.bus import ConsumerWorker
from services.common.service import context_of

log = logging.getLogger(__name__)


def serve_flask(service: str, host: str, port: int, threads: int, grace: float = 20) -> int:
    from waitress import wasyncore
    from waitress.server import create_server

    entry = service_entry(service)
    app_module = entry.module("app")
    settings = entry.settings()
    app = app_module.create_app(settings)
    ctx = context_of(app)
    consumers = app_module.consumers(ctx) if hasattr(app_module, "consumers") else []
    worker = ConsumerWorker(consumers).start()
    ctx.outbox.try_publish()  # what a crash or a broker outage left unpublished
    ctx.outbox.start_relay()
    # waitress refuses connections past connection_limit (default 100): sign-up days bring
    # many citizens at once, each holding a keep-alive connection.
    server = create_server(app, host=host, port=port, threads=threads, connection_limit=1000,
                           channel_timeout=30)
    stopping = threading.Event()

    def _drain_and_exit() -> None:
        # Runs beside the event loop: stop accepting, let running requests finish and their
        # answers go out, then empty the loop's map so server.run() returns.
        server.trigger.pull_trigger(lambda: wasyncore.dispatcher.close(server))
        server.task_dispatcher.shutdown(cancel_pending=False, timeout=grace)
        deadline = time.monotonic() + 2
        while any(ch.total_outbufs_len for ch in list(server.active_channels.values())) \
                and time.monotonic() < deadline:
            time.sleep(0.05)
        server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))

    def _terminate(signum: int, _frame: FrameType | None) -> None:
        if not stopping.is_set():
            stopping.set()
            log.info("stopping", extra={"signal": signum})
            threading.Thread(target=_drain_and_exit, name="drain", daemon=True).start()

    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, _terminate)
    log.info("serving", extra={"service": service, "port": port, "consumers": len(consumers)})
    try:
        server.run()
    finally:
        worker.stop()
        ctx.close()
    return 0


def _serve(args: argparse.Namespace) -> int:
    if args.service == "sortition":
        from services.common import logs

        entry = service_entry("sortition")
        # Given on the command line they win; otherwise KLERO_SORTITION_HOST/_PORT (or the
        # defaults) decide, so a pod's environment is honoured.
        overrides: dict[str, object] = {}
        if args.port is not None:
            overrides["port"] = args.port
        if args.host is not None:
            overrides["host"] = args.host
        settings = entry.settings(**overrides)
        logs.configure("sortition", settings.log_level, settings.log_format)
        return int(entry.module("server").serve(settings))
    return serve_flask(args.service, args.host or "0.0.0.0", args.port or 8080, args.threads)


def add_parser(sub: Subparsers) -> None:
    p = sub.add_parser("serve", help="run one service until SIGTERM (what a pod runs)")
    p.add_argument("service", choices=tuple(SERVICES))
    p.add_argument("--host", default=None,
                   help="address to listen on (default 0.0.0.0); sortition: default "
                        "KLERO_SORTITION_HOST")
    p.add_argument("--port", type=int, default=None,
                   help="HTTP port (default 8080); sortition: gRPC port (default 50051)")
    p.add_argument("--threads", type=int, default=8, help="request threads (Flask services)")
    p.set_defaults(func=_serve)
