"""Database files private to the service, deleted content overwritten, and erased rows
purged from the WAL (SQLite) and from dead row versions (PostgreSQL)."""
from __future__ import annotations

import os
import pathlib
import stat

import pytest
import sqlalchemy as sa

from services.common import storage

MARK = b"ERASED-PERSON-0042"


def _table() -> sa.Table:
    return sa.Table("people", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("sealed", sa.LargeBinary, nullable=True))


def _mode(path: pathlib.Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_sqlite_files_and_their_folder_are_private(tmp_path):
    old = os.umask(0o022)  # a typical umask: files 0644 unless the code says otherwise
    try:
        path = tmp_path / "data" / "registry.sqlite3"
        engine = storage.make_engine(f"sqlite:///{path}")
        table = _table()
        table.metadata.create_all(engine)
        with engine.begin() as conn:
            conn.execute(table.insert().values(id=1, sealed=MARK))
        files = [path, pathlib.Path(f"{path}-wal"), pathlib.Path(f"{path}-shm")]
        assert all(f.exists() for f in files)
        assert {f.name: _mode(f) for f in files} == {f.name: 0o600 for f in files}
        assert _mode(path.parent) == 0o700
        engine.dispose()
        # A file an older version left readable by everyone is tightened.
        os.chmod(path, 0o644)
        storage.make_engine(f"sqlite:///{path}").dispose()
        assert _mode(path) == 0o600
    finally:
        os.umask(old)


def test_every_sqlite_connection_overwrites_deleted_content(tmp_path):
    engine = storage.make_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA secure_delete").scalar() == 1


def test_purge_after_an_erasure_leaves_no_copy_in_the_wal_or_the_file(tmp_path):
    path = tmp_path / "registry.sqlite3"
    engine = storage.make_engine(f"sqlite:///{path}")
    table = _table()
    table.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(table.insert(), [{"id": i, "sealed": MARK + b"%03d" % i} for i in range(50)])
    with engine.begin() as conn:
        conn.execute(table.update().values(sealed=None))
    wal = pathlib.Path(f"{path}-wal")
    assert MARK in wal.read_bytes()  # what the issue found: the WAL keeps the sealed record
    reader = engine.connect()  # an idle pooled connection must not keep the log alive
    reader.close()
    done = storage.purge_erased(engine, [table])
    assert "truncated" in done
    assert wal.stat().st_size == 0
    assert MARK not in path.read_bytes()


@pytest.mark.postgres
def test_postgresql_purge_vacuums_the_dead_row_versions_away(postgres_database):
    engine = storage.make_engine(postgres_database)
    table = _table()
    table.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(table.insert(), [{"id": i, "sealed": MARK + b"%03d" % i} for i in range(50)])
    with engine.begin() as conn:
        conn.execute(table.update().where(table.c.id < 10).values(sealed=None))
        conn.execute(table.delete().where(table.c.id.between(10, 19)))

    def on_disk() -> bytes:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("CHECKPOINT")  # the table's pages written to its file
            path = conn.exec_driver_sql("SELECT pg_relation_filepath('people')").scalar()
            return bytes(conn.exec_driver_sql("SELECT pg_read_binary_file(%(p)s)",
                                              {"p": path}).scalar())

    erased = [MARK + b"%03d" % i for i in range(20)]
    assert any(m in on_disk() for m in erased)  # dead versions still in the pages
    assert "vacuumed people" in storage.purge_erased(engine, [table])
    data = on_disk()
    assert not [m for m in erased if m in data]
    assert all(MARK + b"%03d" % i in data for i in range(20, 50))  # the others are kept
    engine.dispose()
