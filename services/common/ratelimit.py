"""Rate limits and lockout on the endpoints that take a citizen's or a member's code.

A code is the only key a citizen holds (an invitation code, a member code, a response
code), so guessing one must be slow. Failed tries are counted twice: per client (the remote
address; behind a trusted proxy the address the proxy forwarded, see ``trusted_proxy``) and
per code (its SHA-256, never the code). Too many failures inside the window lock the client,
or the code, for a while, and every repeated lockout of the same key lasts twice as long as
the one before (up to a maximum); a successful use never counts. A locked client or code is
answered 429 with ``Retry-After`` before the code is even looked up, so a lockout cannot be
used as an oracle either.

The counters live in the service's own database (``rate_limit_counters``, created on first
use like ``audit_log``) and change only by atomic upserts, so every waitress thread and every
replica of the service sees the same counts.
"""
from __future__ import annotations

import hashlib
import math
import random
import threading
import time
import weakref
from dataclasses import dataclass

import sqlalchemy as sa
from flask import Response, jsonify, request
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from services.common.settings import ServiceSettings
from services.common.web import ApiError

_meta = sa.MetaData()
rate_limit_counters = sa.Table(
    "rate_limit_counters", _meta,
    # "client:<sha256>" or "code:<sha256>": never an address or a code in the clear.
    sa.Column("key", sa.String(80), primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False),
    # Seconds since the epoch: compared arithmetically in SQL the same way on every dialect.
    sa.Column("window_start", sa.Float, nullable=False),
    sa.Column("last_failure", sa.Float, nullable=False),
    sa.Column("locked_until", sa.Float, nullable=False),
    sa.Column("lockouts", sa.Integer, nullable=False),
)

_created: weakref.WeakSet[Engine] = weakref.WeakSet()
_create_lock = threading.Lock()
# Share of failures that also sweep counters nobody will need again.
_PRUNE_SHARE = 0.02


class RateLimited(ApiError):
    """Too many failed tries: answered 429 with ``Retry-After`` (``response``)."""

    def __init__(self, field: str, retry_after: int) -> None:
        minutes = max(1, math.ceil(retry_after / 60))
        super().__init__(field, f"too many failed tries; try again in {minutes} minute"
                                f"{'s' if minutes != 1 else ''}", 429)
        self.retry_after = retry_after


def response(exc: RateLimited) -> tuple[Response, int, dict[str, str]]:
    """The JSON answer to a locked client or code (register on a blueprint with
    ``blueprint.register_error_handler(RateLimited, ratelimit.response)``)."""
    return (jsonify(error=exc.reason, field=exc.field), 429,
            {"Retry-After": str(exc.retry_after)})


@dataclass(frozen=True)
class Limits:
    """The limits of one service (from its settings, ``Limits.of``)."""

    failures_per_client: int = 10
    failures_per_code: int = 5
    window_seconds: int = 600
    lockout_seconds: int = 900
    max_lockout_seconds: int = 86_400

    @classmethod
    def of(cls, settings: ServiceSettings) -> Limits:
        return cls(failures_per_client=settings.code_failures_per_client,
                   failures_per_code=settings.code_failures_per_code,
                   window_seconds=settings.code_failure_window_seconds,
                   lockout_seconds=settings.code_lockout_seconds,
                   max_lockout_seconds=settings.code_lockout_max_seconds)


def create_tables(engine: Engine) -> None:
    """Create the counters' table once per engine (idempotent, safe across replicas)."""
    if engine in _created:
        return
    with _create_lock:
        if engine not in _created:
            _meta.create_all(engine, checkfirst=True)
            _created.add(engine)


def _digest(kind: str, value: str) -> str:
    # surrogatepass: a lone surrogate is refused elsewhere, but must never crash the count.
    return f"{kind}:{hashlib.sha256(value.encode('utf-8', 'surrogatepass')).hexdigest()}"


def client_key(address: str | None) -> str:
    return _digest("client", address or "unknown")


def code_key(code: str) -> str:
    """Codes are compared as typed by citizens: case, spaces and dashes do not matter."""
    return _digest("code", "".join(ch for ch in code.upper() if ch.isalnum()))


def retry_after(conn: Connection, keys: list[str], now: float) -> int:
    """Seconds until the last of ``keys`` is unlocked; 0 when none is locked."""
    until = conn.scalar(sa.select(sa.func.max(rate_limit_counters.c.locked_until))
                        .where(rate_limit_counters.c.key.in_(keys)))
    return max(0, math.ceil(float(until) - now)) if until is not None and until > now else 0


def _upsert_failure(conn: Connection, key: str, now: float, limits: Limits) -> None:
    c = rate_limit_counters.c
    fresh = {"key": key, "failures": 1, "window_start": now, "last_failure": now,
             "locked_until": 0.0, "lockouts": 0}
    expired = c.window_start <= now - limits.window_seconds
    forgotten = c.last_failure <= now - limits.max_lockout_seconds
    update = {
        "failures": sa.case((expired, 1), else_=c.failures + 1),
        "window_start": sa.case((expired, now), else_=c.window_start),
        "last_failure": now,
        # A key quiet for longer than the longest lockout starts again at the first lockout.
        "lockouts": sa.case((forgotten, 0), else_=c.lockouts),
    }
    insert = (postgresql.insert(rate_limit_counters) if conn.dialect.name == "postgresql"
              else sqlite.insert(rate_limit_counters))
    conn.execute(insert.values(**fresh).on_conflict_do_update(
        index_elements=[c.key], set_=update))


def _lock_if_over(conn: Connection, key: str, limit: int, now: float, limits: Limits) -> None:
    c = rate_limit_counters.c
    row = conn.execute(sa.select(c.failures, c.lockouts).where(c.key == key)).one()
    if row.failures < limit:
        return
    seconds = min(limits.lockout_seconds * 2 ** min(row.lockouts, 20),
                  limits.max_lockout_seconds)
    conn.execute(rate_limit_counters.update().where(c.key == key).values(
        locked_until=now + seconds, lockouts=c.lockouts + 1, failures=0, window_start=now))


def _prune(conn: Connection, now: float, limits: Limits) -> None:
    c = rate_limit_counters.c
    conn.execute(rate_limit_counters.delete().where(
        c.locked_until < now, c.window_start < now - limits.window_seconds,
        c.last_failure < now - limits.max_lockout_seconds))


class CodeGuard:
    """One request's guard: ``check()`` before the code is looked up, ``failed()`` after a
    refusal that concerns the code (run it after the request's own transaction has ended:
    SQLite has one writer)."""

    def __init__(self, engine: Engine, limits: Limits, field: str, code: str | None,
                 client: str | None) -> None:
        self.engine = engine
        self.limits = limits
        self.field = field
        self.client = client_key(client)
        self.code = code_key(code) if code and code.strip() else None
        create_tables(engine)

    def keys(self) -> list[str]:
        return [self.client] + ([self.code] if self.code else [])

    def check(self) -> None:
        """Raise RateLimited when the client or the code is locked."""
        with self.engine.connect() as conn:
            wait = retry_after(conn, self.keys(), time.time())
        if wait:
            raise RateLimited(self.field, wait)

    def failed(self) -> None:
        """Count a failed try against the client and the code, in one transaction."""
        now = time.time()
        with self.engine.begin() as conn:
            _upsert_failure(conn, self.client, now, self.limits)
            _lock_if_over(conn, self.client, self.limits.failures_per_client, now, self.limits)
            if self.code:
                _upsert_failure(conn, self.code, now, self.limits)
                _lock_if_over(conn, self.code, self.limits.failures_per_code, now, self.limits)
            if random.random() < _PRUNE_SHARE:  # housekeeping, not security
                _prune(conn, now, self.limits)


def guard(engine: Engine, settings: ServiceSettings, field: str, code: object) -> CodeGuard:
    """The guard of the current request for the code in ``field`` (already checked: raises
    RateLimited when the client or the code is locked). The client is the remote address,
    which ``web.install`` takes from X-Forwarded-For only when ``trusted_proxy`` is on."""
    g = CodeGuard(engine, Limits.of(settings), field, code if isinstance(code, str) else None,
                  request.remote_addr)
    g.check()
    return g
