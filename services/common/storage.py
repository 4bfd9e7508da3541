"""One data-access layer for every service: SQLAlchemy 2 on SQLite (embedded) or PostgreSQL.

Each service owns its database and its schema. Schema changes are numbered migrations run
with Alembic's operations (``op.create_table``, ``op.add_column`` …) inside one transaction,
so a failed migration leaves the schema as it was; the applied versions are recorded per
service in ``schema_migrations``.
"""
from __future__ import annotations

import pathlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError


class StorageError(RuntimeError):
    pass


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    apply: Callable[[Operations], None]


_meta = sa.MetaData()
schema_migrations = sa.Table(
    "schema_migrations", _meta,
    sa.Column("service", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("description", sa.String(200), nullable=False),
    sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
)
# Event ids a consumer group has applied. Handlers insert here in the same transaction as
# their effect, so a redelivered event is recognised even after a crash.
applied_events = sa.Table(
    "applied_events", _meta,
    sa.Column("consumer_group", sa.String(200), primary_key=True),
    sa.Column("event_id", sa.String(64), primary_key=True),
    sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; a SQLite file's folder is created, and SQLite is set up for
    several threads (WAL, a busy timeout, foreign keys on)."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            pathlib.Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                                  **kwargs)

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: object) -> None:
            # pysqlite's own transaction handling skips DDL and breaks SAVEPOINT; take
            # control so migrations and nested claims are really transactional.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            if path and path != ":memory:":
                cur.execute("PRAGMA journal_mode=WAL")
            cur.close()

        @sa.event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return sa.create_engine(url, pool_pre_ping=True, **kwargs)


def migrate(engine: Engine, service: str, migrations: Sequence[Migration]) -> list[int]:
    """Bring the service's schema up to date; return the versions applied now."""
    versions = [m.version for m in migrations]
    if versions != sorted(set(versions)):
        raise StorageError(f"{service}: migration versions must be unique and increasing")
    _meta.create_all(engine)
    applied_now: list[int] = []
    with engine.begin() as conn:
        done = set(conn.scalars(sa.select(schema_migrations.c.version)
                                .where(schema_migrations.c.service == service)))
        ops = Operations(MigrationContext.configure(conn))
        for m in migrations:
            if m.version in done:
                continue
            m.apply(ops)
            conn.execute(schema_migrations.insert().values(
                service=service, version=m.version, description=m.description,
                applied_at=datetime.now(UTC)))
            applied_now.append(m.version)
    return applied_now


def schema_version(engine: Engine, service: str) -> int:
    _meta.create_all(engine)
    with engine.connect() as conn:
        return conn.scalar(sa.select(sa.func.coalesce(sa.func.max(schema_migrations.c.version), 0))
                           .where(schema_migrations.c.service == service)) or 0


def apply_once(conn: Connection, group: str, event_id: str) -> bool:
    """Claim ``event_id`` for ``group`` inside the caller's transaction. False means it was
    applied before and the handler must do nothing."""
    try:
        with conn.begin_nested():
            conn.execute(applied_events.insert().values(
                consumer_group=group, event_id=event_id, applied_at=datetime.now(UTC)))
    except IntegrityError:
        return False
    return True


class SqlAppliedEvents:
    """The bus's applied-events guard kept in the service's database (survives restarts)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        _meta.create_all(engine)

    def seen(self, group: str, event_id: str) -> bool:
        with self.engine.connect() as conn:
            count = conn.scalar(sa.select(sa.func.count()).select_from(applied_events).where(
                applied_events.c.consumer_group == group,
                applied_events.c.event_id == event_id))
            return (count or 0) > 0

    def record(self, group: str, event_id: str) -> None:
        with self.engine.begin() as conn:
            apply_once(conn, group, event_id)

    def seen_many(self, group: str, event_ids: Iterable[str]) -> set[str]:
        with self.engine.connect() as conn:
            return _applied_among(conn, group, list(event_ids))

    def record_many(self, group: str, event_ids: Iterable[str]) -> None:
        ids = list(dict.fromkeys(event_ids))
        with self.engine.begin() as conn:
            already = _applied_among(conn, group, ids)
            now = datetime.now(UTC)
            rows = [{"consumer_group": group, "event_id": i, "applied_at": now}
                    for i in ids if i not in already]
            if rows:
                conn.execute(applied_events.insert(), rows)


def _applied_among(conn: Connection, group: str, ids: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(ids), 500):  # stay under the databases' bound-parameter limits
        found.update(conn.scalars(sa.select(applied_events.c.event_id).where(
            applied_events.c.consumer_group == group,
            applied_events.c.event_id.in_(ids[start:start + 500]))))
    return found
