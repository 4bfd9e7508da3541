"""The registry's migrations: version 1 is what every registry database made before version 2
has (the models' columns and indexes, no foreign keys), and version 2 gives such a database
the models' foreign keys without losing a row."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.exc import IntegrityError

from services.common import storage
from services.registry import models
from services.registry.migrations import MIGRATIONS

NOW = datetime(2030, 1, 1, tzinfo=UTC)


# Tables that later migrations (3 on) add: not part of a version 1 or 2 database.
LATER_TABLES = {models.published_draws.name}


def _models_without_foreign_keys() -> sa.MetaData:
    bare = sa.MetaData()
    for table in models.metadata.sorted_tables:
        if table.name in LATER_TABLES:
            continue
        sa.Table(table.name, bare,
                 *(sa.Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable,
                             autoincrement=c.autoincrement) for c in table.columns),
                 *(sa.Index(i.name, *(c.name for c in i.columns), unique=i.unique)
                   for i in table.indexes))
    return bare


def _diff(engine: sa.Engine, metadata: sa.MetaData) -> list[object]:
    own = set(metadata.tables)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "compare_type": True,
            "include_name": lambda name, kind, _parent: kind != "table" or name in own})
        return list(compare_metadata(context, metadata))


def _foreign_keys(engine: sa.Engine) -> set[tuple[str, str, str]]:
    inspector = sa.inspect(engine)
    return {(table, fk["constrained_columns"][0], fk["referred_table"])
            for table in ("extracts", "templates", "rollouts", "invitations")
            for fk in inspector.get_foreign_keys(table)}


def _upgrade_keeps_rows_and_adds_foreign_keys(url: str) -> None:
    engine = storage.make_engine(url)
    try:
        assert storage.migrate(engine, "registry", MIGRATIONS[:1]) == [1]
        assert _diff(engine, _models_without_foreign_keys()) == []
        assert _foreign_keys(engine) == set()
        with engine.begin() as conn:
            conn.execute(models.assemblies.insert().values(
                id="a1", name="Vand", questions="[]", session_dates="[]", status="open",
                created_at=NOW))
            conn.execute(models.extracts.insert().values(
                id="e1", assembly_id="a1", row_count=1, sha256="0" * 64, imported_at=NOW))
            conn.execute(models.templates.insert().values(
                id="t1", assembly_id="a1", content="{}", created_at=NOW))
            conn.execute(models.rollouts.insert().values(
                id="r1", assembly_id="a1", scope="Danmark", size=1, seed="ff", options="{}",
                allocation="{}", template_id="t1", status="sending", created_at=NOW))
            conn.execute(models.invitations.insert().values(
                id="i1", rollout_id="r1", assembly_id="a1", person_id=None, code="ABCDEFGHJK",
                municipality_code=101, age_band="18-29", sex="female", status="sent",
                signed_up=False))

        assert storage.migrate(engine, "registry", MIGRATIONS) == [2, 3]
        assert _diff(engine, models.metadata) == []
        assert _foreign_keys(engine) == {
            ("extracts", "assembly_id", "assemblies"), ("templates", "assembly_id", "assemblies"),
            ("rollouts", "assembly_id", "assemblies"), ("rollouts", "template_id", "templates"),
            ("invitations", "rollout_id", "rollouts")}
        with engine.connect() as conn:
            assert conn.execute(sa.select(models.invitations.c.code,
                                          models.rollouts.c.template_id)
                                .join(models.rollouts)).all() == [("ABCDEFGHJK", "t1")]
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(models.templates.insert().values(
                id="t2", assembly_id="no-such-assembly", content="{}", created_at=NOW))
    finally:
        engine.dispose()


def test_a_version_1_database_gets_the_foreign_keys_on_sqlite(tmp_path) -> None:
    _upgrade_keeps_rows_and_adds_foreign_keys(f"sqlite:///{tmp_path / 'registry.sqlite'}")


@pytest.mark.postgres
def test_a_version_1_database_gets_the_foreign_keys_on_postgres(postgres_database: str) -> None:
    _upgrade_keeps_rows_and_adds_foreign_keys(postgres_database)
