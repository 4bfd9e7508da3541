"""Fixtures that hand tests the real components (Kafka, PostgreSQL) and the shared data.

A component comes from an environment variable set by whoever started it
(tools/kafka/broker.sh, tools/postgres/server.sh, .ci/run). When it is missing the test is
skipped, except under KLERO_REQUIRE_REAL=1 (``make test``, CI), where a missing component
is a failure: a suite that silently skipped its Kafka tests would pass for the wrong reason.
"""
from __future__ import annotations

import contextlib
import logging
import os
import shutil
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _real_component(env: str, what: str, how: str) -> str:
    value = os.environ.get(env, "").strip()
    if value:
        return value
    message = f"{env} is not set: no real {what} to test against (start one with {how})"
    if os.environ.get("KLERO_REQUIRE_REAL") == "1":
        pytest.fail(f"KLERO_REQUIRE_REAL=1 but {message}", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    """``host:port`` of a real Apache Kafka broker."""
    return _real_component("KLERO_TEST_KAFKA_BOOTSTRAP", "Kafka broker",
                           "tools/kafka/broker.sh start")


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """SQLAlchemy URL (``postgresql+psycopg://...``) of a real PostgreSQL database."""
    return _real_component("KLERO_TEST_POSTGRES_URL", "PostgreSQL server",
                           "tools/postgres/server.sh start")


@pytest.fixture
def postgres_database(postgres_url: str) -> Iterator[str]:
    """The URL of a fresh PostgreSQL database of its own for one test, dropped after it."""
    import sqlalchemy as sa

    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    name = f"test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield postgres_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def shared_instances() -> Path:
    """The shared folder of problem instances, beside the repository unless overridden."""
    return Path(os.environ.get("KLERO_SHARED_INSTANCES", REPO.parent / "shared" / "instances"))


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Path of Debian's Chromium (tools/browser/ensure.sh installs it)."""
    found = os.environ.get("KLERO_TEST_CHROMIUM", "").strip() or shutil.which("chromium") or ""
    if found:
        return found
    return _real_component("KLERO_TEST_CHROMIUM", "Chromium browser", "tools/browser/ensure.sh")


@pytest.fixture(scope="session")
def browser(chromium_path):
    """Headless Chromium driven by Playwright, with the flags this closed network needs."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(
            executable_path=chromium_path, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"])
        yield instance
        instance.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def live_server():
    """Serve a WSGI app on a free loopback port in a thread; yields a start(app) -> url."""
    from werkzeug.serving import make_server

    servers = []

    def start(app) -> str:
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        servers.append((server, thread))
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server, thread in servers:
        server.shutdown()
        thread.join(5)


class _KeptRecords(logging.Handler):
    def __init__(self, records: list):
        super().__init__(logging.DEBUG)
        self.records = records

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def kept_logs():
    """``with kept_logs("services.x.y") as records:`` keeps what that logger emits inside the
    block. Building a service reconfigures the root logger (where caplog listens); a handler
    on the module's own logger sees its records whatever the order of the fixtures."""

    @contextlib.contextmanager
    def keep(name: str):
        records: list[logging.LogRecord] = []
        handler, logger = _KeptRecords(records), logging.getLogger(name)
        logger.addHandler(handler)
        try:
            yield records
        finally:
            logger.removeHandler(handler)

    return keep
