"""Storage layer on SQLite and on a real PostgreSQL server."""
from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from services.common import storage
from services.common.storage import Migration


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request, tmp_path):
    if request.param == "sqlite":
        eng = storage.make_engine(f"sqlite:///{tmp_path}/svc.sqlite3")
        yield eng
        eng.dispose()
        return
    url = request.getfixturevalue("postgres_url")
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    name = f"t_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    eng = storage.make_engine(url.rsplit("/", 1)[0] + f"/{name}")
    yield eng
    eng.dispose()
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def _create_pool(op):
    op.create_table("pool_member",
                    sa.Column("id", sa.String(36), primary_key=True),
                    sa.Column("municipality_code", sa.String(4), nullable=False))


def _add_state(op):
    op.add_column("pool_member", sa.Column("state", sa.String(20), nullable=False,
                                           server_default="pool"))


MIGRATIONS = [Migration(1, "pool members", _create_pool), Migration(2, "member state", _add_state)]


def test_migrations_apply_once_and_in_order(engine):
    assert storage.migrate(engine, "registry", MIGRATIONS[:1]) == [1]
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO pool_member (id, municipality_code) VALUES ('p1', '0230')"))
    assert storage.migrate(engine, "registry", MIGRATIONS) == [2]
    assert storage.migrate(engine, "registry", MIGRATIONS) == []
    assert storage.schema_version(engine, "registry") == 2
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT state FROM pool_member")).scalar_one() == "pool"
    # Another service's migrations are tracked apart, in the same database.
    assert storage.schema_version(engine, "sessions") == 0


def test_failed_migration_leaves_schema_untouched(engine):
    def broken(op):
        op.create_table("half_done", sa.Column("id", sa.Integer, primary_key=True))
        raise RuntimeError("boom")

    storage.migrate(engine, "registry", MIGRATIONS[:1])
    with pytest.raises(RuntimeError, match="boom"):
        storage.migrate(engine, "registry", [*MIGRATIONS[:1], Migration(2, "broken", broken)])
    assert storage.schema_version(engine, "registry") == 1
    assert "half_done" not in sa.inspect(engine).get_table_names()


def test_versions_must_increase(engine):
    with pytest.raises(storage.StorageError, match="increasing"):
        storage.migrate(engine, "registry", [MIGRATIONS[1], MIGRATIONS[0]])


def test_apply_once_in_the_handlers_transaction(engine):
    storage.migrate(engine, "registry", MIGRATIONS)
    with engine.begin() as conn:
        assert storage.apply_once(conn, "registry.signups", "ev-1")
        conn.execute(sa.text(
            "INSERT INTO pool_member (id, municipality_code) VALUES ('p1', '0101')"))
    with engine.begin() as conn:
        assert not storage.apply_once(conn, "registry.signups", "ev-1")
        assert storage.apply_once(conn, "sessions.panel", "ev-1")  # other group, own memory
    # A handler that fails rolls back its claim together with its effect.
    with pytest.raises(RuntimeError):
        with engine.begin() as conn:
            assert storage.apply_once(conn, "registry.signups", "ev-2")
            raise RuntimeError("handler failed")
    guard = storage.SqlAppliedEvents(engine)
    assert guard.seen("registry.signups", "ev-1")
    assert not guard.seen("registry.signups", "ev-2")
    guard.record("registry.signups", "ev-2")
    guard.record("registry.signups", "ev-2")
    assert guard.seen("registry.signups", "ev-2")
