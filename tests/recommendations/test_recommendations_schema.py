"""models.py and migrations.py describe the same schema: the tables the migrations create
have the columns, types, nullability, keys and indexes that the queries' models assume."""
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from services.common import storage
from services.recommendations import models
from services.recommendations.migrations import MIGRATIONS


def _ours(name, type_, _parent):
    # Other tables in the database (schema_migrations, event_outbox …) belong to common.
    return type_ != "table" or name.startswith("rec_")


def _differences(engine, metadata):
    """What differs between the migrated database and ``metadata``; empty when they agree."""
    out = []
    inspector = sa.inspect(engine)
    tables = {t for t in inspector.get_table_names() if t.startswith("rec_")}
    if tables != set(metadata.tables):
        out.append(("tables", sorted(tables ^ set(metadata.tables))))
    for name in sorted(tables & set(metadata.tables)):
        model = metadata.tables[name]
        db = {c["name"]: c for c in inspector.get_columns(name)}
        if set(db) != set(model.c.keys()):
            out.append((name, "columns", sorted(set(db) ^ set(model.c.keys()))))
        for col in model.c:
            if col.name in db and db[col.name]["nullable"] != col.nullable:
                out.append((name, col.name, "nullable", db[col.name]["nullable"]))
        pk = inspector.get_pk_constraint(name)["constrained_columns"]
        if sorted(pk) != sorted(c.name for c in model.primary_key):
            out.append((name, "primary key", pk))
    # Types, indexes and unique constraints, as Alembic's autogenerate compares them.
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True,
                                                         "include_name": _ours})
        out += compare_metadata(context, metadata)
    return out


def _migrated(url):
    engine = storage.make_engine(url)
    assert storage.migrate(engine, "recommendations", MIGRATIONS) == [m.version for m in MIGRATIONS]
    return engine


def test_models_match_the_migrations_on_sqlite(tmp_path):
    engine = _migrated(f"sqlite:///{tmp_path}/schema.sqlite3")
    try:
        assert _differences(engine, models.metadata) == []
        # The comparison sees drift: a model with a changed column is caught.
        drifted = sa.MetaData()
        for table in models.metadata.tables.values():
            table.to_metadata(drifted)
        drifted.tables["rec_answers"].c.reasons.nullable = True
        drifted.tables["rec_answers"].c.answered_by.type = sa.Integer()
        drifted.tables["rec_members"].append_column(sa.Column("extra", sa.String(10)))
        found = _differences(engine, drifted)
        assert ("rec_answers", "reasons", "nullable", False) in found
        assert ("rec_members", "columns", ["extra"]) in found
        assert any(d[0][0] == "modify_type" and d[0][3] == "answered_by"
                   for d in found if isinstance(d, list))
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_models_match_the_migrations_on_postgres(postgres_database):
    engine = _migrated(postgres_database)
    try:
        assert _differences(engine, models.metadata) == []
    finally:
        engine.dispose()
