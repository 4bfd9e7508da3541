"""Shared fixtures for the channel plugins: a template, an assembly and a local HTTP server
that records what it was sent and answers as each test tells it to."""
from __future__ import annotations

import threading
import time
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

TEMPLATE = {
    "da": {"subject": "Invitation til {assembly_name}",
           "body": "Kære borger\n\nDu er udtrukket til {assembly_name}. Tilmeld dig senest "
                   "{deadline} på {signup_url} med koden {code}.\n\nVenlig hilsen\n{sender}"},
    "en": {"subject": "Invitation to {assembly_name}",
           "body": "Dear citizen\n\nYou have been drawn for {assembly_name}. Sign up by "
                   "{deadline} at {signup_url} with the code {code}.\n\nKind regards\n{sender}"},
}

ASSEMBLY = {
    "id": "a-2026-klima",
    "name": {"da": "Borgersamlingen om klima", "en": "The climate assembly"},
    "signup_base_url": "https://tilmeld.regionh.dk/s",
    "deadline": date(2026, 3, 12),
    "sender": "Region Hovedstaden",
}


@pytest.fixture
def template():
    return TEMPLATE


@pytest.fixture
def assembly():
    return dict(ASSEMBLY)


class Recorder:
    def __init__(self):
        self.requests: list[dict] = []
        # Status codes to answer with, one per request; 200 once the list is used up.
        self.statuses: list[int] = []
        self.delay = 0.0


@pytest.fixture
def http_server():
    recorder = Recorder()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length)
            recorder.requests.append({"path": self.path, "headers": dict(self.headers),
                                      "body": body})
            if recorder.delay:
                time.sleep(recorder.delay)
            status = recorder.statuses.pop(0) if recorder.statuses else 200
            payload = b'{"to": "echoed personal data"}'
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting, as the timeout tests intend

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    recorder.url = f"http://127.0.0.1:{server.server_address[1]}/send"
    try:
        yield recorder
    finally:
        server.shutdown()
        server.server_close()
