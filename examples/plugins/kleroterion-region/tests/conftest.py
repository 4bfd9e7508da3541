"""A stand-in for the region's SMS gateway: records what it is sent, answers 202."""
from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


class Gateway:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.url = ""


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    recorded = Gateway()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            recorded.messages.append({"key": self.headers.get("X-Api-Key"),
                                      **json.loads(body)})
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    recorded.url = f"http://127.0.0.1:{server.server_address[1]}/v1/messages"
    try:
        yield recorded
    finally:
        server.shutdown()
        server.server_close()
