"""One data-access layer for every service: SQLAlchemy 2 on SQLite (embedded) or PostgreSQL.

Each service owns its database and its schema. Schema changes are numbered migrations run
with Alembic's operations (``op.create_table``, ``op.add_column`` …) inside one transaction,
so a failed migration leaves the schema as it was; the applied versions are recorded per
service in ``schema_migrations``.

A SQLite file, and the -wal and -shm files SQLite makes beside it with the same mode, is
readable by the service's user only (0600, its folder 0700), and every connection runs with
``secure_delete`` so deleted content is overwritten with zeros whatever SQLite's build
defaults are. After erasing personal data a service calls ``purge_erased`` so that no copy
survives in the write-ahead log (SQLite) or in dead row versions (PostgreSQL).
"""
from __future__ import annotations

import logging
import os
import pathlib
import stat
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

log = logging.getLogger("kleroterion.storage")
DATABASE_FILE_MODE = 0o600
DATABASE_FOLDER_MODE = 0o700


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


def sqlite_path(url: str) -> pathlib.Path | None:
    """The file of a SQLite URL, or None for an in-memory database or another database."""
    if not url.startswith("sqlite"):
        return None
    path = url.split("///", 1)[-1]
    if not path or path == ":memory:" or path.startswith("file::memory:"):
        return None
    return pathlib.Path(path)


def _private_database_file(path: pathlib.Path) -> None:
    """Create the folder (0700) and the file (0600) before SQLite does, and tighten files an
    older version left readable by others; SQLite gives the -wal and -shm files the mode of
    the database file."""
    if not path.parent.is_dir():
        path.parent.mkdir(parents=True, mode=DATABASE_FOLDER_MODE)
        os.chmod(path.parent, DATABASE_FOLDER_MODE)  # mkdir's mode is filtered by the umask
    fd = os.open(path, os.O_RDWR | os.O_CREAT, DATABASE_FILE_MODE)
    os.close(fd)
    for candidate in (path, pathlib.Path(f"{path}-wal"), pathlib.Path(f"{path}-shm"),
                      pathlib.Path(f"{path}-journal")):
        try:
            if stat.S_IMODE(candidate.stat().st_mode) & 0o077:
                os.chmod(candidate, DATABASE_FILE_MODE)
        except FileNotFoundError:
            continue


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; a SQLite file is created private to the service's user (its
    folder too), and SQLite is set up for several threads (WAL, a busy timeout, foreign keys
    on) and to overwrite deleted content (secure_delete)."""
    if url.startswith("sqlite"):
        path = sqlite_path(url)
        if path is not None:
            _private_database_file(path)
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                                  **kwargs)

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: object) -> None:
            # pysqlite's own transaction handling skips DDL and breaks SAVEPOINT; take
            # control so migrations and nested claims are really transactional.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            # Erased and sealed data must not linger in free pages of the file, whatever
            # SQLITE_SECURE_DELETE this build of SQLite was compiled with.
            cur.execute("PRAGMA secure_delete=ON")
            if path is not None:
                cur.execute("PRAGMA journal_mode=WAL")
            cur.close()

        @sa.event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return sa.create_engine(url, pool_pre_ping=True, **kwargs)


class PurgeIncomplete(StorageError):
    """Erased data may still have a copy: the WAL could not be emptied (readers held it)."""


def purge_erased(engine: Engine, tables: Sequence[sa.Table], *, attempts: int = 20,
                 wait: float = 0.05) -> str:
    """Remove the copies that erased rows leave behind once the erasure has committed.

    SQLite: ``PRAGMA wal_checkpoint(TRUNCATE)`` copies the log into the file (where
    secure_delete has zeroed the old content) and empties the log; it is retried while
    other connections still read old frames. PostgreSQL: ``VACUUM`` of ``tables`` prunes
    the dead row versions that still hold the erased values, so they are no longer in the
    table's pages (PostgreSQL's own WAL and backups keep them until they rotate: see
    docs/SECURITY.md). Returns what was done, for the audit line."""
    if engine.dialect.name == "sqlite":
        if sqlite_path(str(engine.url)) is None:
            return "in-memory database: nothing to purge"
        for _ in range(attempts):
            with engine.connect() as conn:
                # Straight on the driver: outside any transaction, which a checkpoint needs.
                cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
                try:
                    busy, frames, done = cur.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                finally:
                    cur.close()
            if busy == 0 and frames in (0, -1) and done in (0, -1):
                return "sqlite: write-ahead log checkpointed and truncated"
            time.sleep(wait)
        log.warning("write-ahead log still in use after an erasure",
                    extra={"attempts": attempts})
        raise PurgeIncomplete("the write-ahead log is still in use by other connections; "
                              "erased data stays in it until the next checkpoint")
    if engine.dialect.name == "postgresql":
        names = [engine.dialect.identifier_preparer.format_table(t) for t in tables]
        if not names:
            return "postgresql: no table to vacuum"
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(f"VACUUM (ANALYZE) {', '.join(names)}")
        return f"postgresql: vacuumed {', '.join(t.name for t in tables)}"
    return f"{engine.dialect.name}: no purge known for this database"


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
