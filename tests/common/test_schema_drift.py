"""Each service's schema has one source: its models. Migrations are frozen history, and the
schema they build must be exactly what the models describe, on SQLite and on PostgreSQL, so
a model changed without a migration (or the reverse) fails here."""
from __future__ import annotations

import importlib
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from services.common import storage

SERVICES = ("registry", "sortition", "sessions", "recommendations")


def _models_and_migrations(service: str) -> tuple[sa.MetaData, list[storage.Migration]]:
    models = importlib.import_module(f"services.{service}.models")
    migrations = importlib.import_module(f"services.{service}.migrations")
    return models.metadata, list(migrations.MIGRATIONS)


def _drift(url: str, service: str) -> list[Any]:
    metadata, migrations = _models_and_migrations(service)
    engine = storage.make_engine(url)
    try:
        storage.migrate(engine, service, migrations)
        own = set(metadata.tables)
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={
                "compare_type": True,
                "compare_server_default": False,
                # Tables of the platform's common parts (migrations, applied events, outbox,
                # audit, tokens) are created by services.common, not by the service.
                "include_name": lambda name, kind, _parent: kind != "table" or name in own,
            })
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


@pytest.mark.parametrize("service", SERVICES)
def test_migrated_schema_equals_the_models_on_sqlite(service: str, tmp_path) -> None:
    assert _drift(f"sqlite:///{tmp_path / 'db.sqlite'}", service) == []


@pytest.mark.postgres
@pytest.mark.parametrize("service", SERVICES)
def test_migrated_schema_equals_the_models_on_postgres(service: str,
                                                       postgres_database: str) -> None:
    assert _drift(postgres_database, service) == []


def test_drift_is_found(tmp_path) -> None:
    """The comparison itself can fail: a column the migrations never made is reported."""
    metadata, migrations = _models_and_migrations("sessions")
    changed = sa.MetaData()
    for table in metadata.tables.values():
        table.to_metadata(changed)
    next(iter(changed.tables.values())).append_column(sa.Column("not_migrated", sa.Integer))
    engine = storage.make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    storage.migrate(engine, "sessions", migrations)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), changed)
    engine.dispose()
    assert any(d[0] == "add_column" and d[3].name == "not_migrated" for d in diff)
