"""The registry's schema, one numbered migration at a time: frozen history, written out.

Never build a migration from ``models.py``: a model changed later would silently change what
an old migration makes. A change to the schema is a new migration here *and* the change in
``models.py``; ``tests/common/test_schema_drift.py`` compares the two.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic.operations import Operations

from services.common.storage import Migration

TS = sa.DateTime(timezone=True)


def _initial(op: Operations) -> None:
    """Version 1 exactly as every registry database has it: it was built from the models by
    copying their columns, which dropped the models' foreign keys (version 2 adds them)."""
    op.create_table(
        "aggregate_stats",
        sa.Column("assembly_id", sa.String(64), primary_key=True),
        sa.Column("municipality_code", sa.Integer, primary_key=True),
        sa.Column("feature", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(200), primary_key=True),
        sa.Column("invited", sa.Integer, nullable=False),
        sa.Column("signed_up", sa.Integer, nullable=False),
    )
    op.create_table(
        "assemblies",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("questions", sa.Text, nullable=False),
        sa.Column("session_dates", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("erased_at", TS, nullable=True),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("assembly_id", sa.String(64), nullable=False),
        sa.Column("person_id", sa.Integer, nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("invitation_id", sa.String(36), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(64), nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("detail", sa.String(500), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ux_deliveries_once", "deliveries", ["assembly_id", "person_id", "purpose"],
                    unique=True)
    op.create_table(
        "persons",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("assembly_id", sa.String(64), nullable=False),
        sa.Column("extract_id", sa.String(36), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=True),
        sa.Column("household", sa.String(64), nullable=True),
        sa.Column("municipality_code", sa.Integer, nullable=False),
        sa.Column("age_band", sa.String(8), nullable=False),
        sa.Column("sex", sa.String(8), nullable=False),
        sa.Column("sealed", sa.LargeBinary, nullable=True),
    )
    op.create_index("ux_persons_key", "persons", ["assembly_id", "key_hash"], unique=True)
    op.create_index("ix_persons_scope", "persons", ["assembly_id", "municipality_code"],
                    unique=False)
    op.create_table(
        "pool_exports",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("assembly_id", sa.String(64), nullable=False),
        sa.Column("registrant_count", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "registrants",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("assembly_id", sa.String(64), nullable=False),
        sa.Column("invitation_id", sa.String(36), nullable=True),
        sa.Column("municipality_code", sa.Integer, nullable=False),
        sa.Column("age_band", sa.String(8), nullable=False),
        sa.Column("sex", sa.String(8), nullable=False),
        sa.Column("answers", sa.Text, nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ux_registrants_invitation", "registrants", ["invitation_id"], unique=True)
    op.create_index("ix_registrants_assembly", "registrants", ["assembly_id", "state"],
                    unique=False)
    op.create_table(
        "extracts",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("assembly_id", sa.String(64), nullable=False),
        sa.Column("row_count", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("imported_at", TS, nullable=False),
    )
    op.create_table(
        "templates",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("assembly_id", sa.String(64), nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("test_sent_at", TS, nullable=True),
        sa.Column("approved_at", TS, nullable=True),
        sa.Column("approved_by", sa.String(200), nullable=True),
    )
    op.create_table(
        "rollouts",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("assembly_id", sa.String(64), nullable=False),
        sa.Column("scope", sa.String(100), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("seed", sa.String(64), nullable=False),
        sa.Column("options", sa.Text, nullable=False),
        sa.Column("allocation", sa.Text, nullable=False),
        sa.Column("template_id", sa.String(36), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "invitations",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("rollout_id", sa.String(36), nullable=False),
        sa.Column("assembly_id", sa.String(64), nullable=False),
        sa.Column("person_id", sa.Integer, nullable=True),
        sa.Column("code", sa.String(16), nullable=False),
        sa.Column("municipality_code", sa.Integer, nullable=False),
        sa.Column("age_band", sa.String(8), nullable=False),
        sa.Column("sex", sa.String(8), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("signed_up", sa.Boolean, nullable=False),
    )
    op.create_index("ux_invitations_code", "invitations", ["code"], unique=True)
    op.create_index("ix_invitations_rollout", "invitations", ["rollout_id"], unique=False)
    op.create_index("ix_invitations_person", "invitations", ["assembly_id", "person_id"],
                    unique=False)


# (table, constraint, column, referred table) in the order a table's parents come first:
# SQLite rebuilds a table to add a key, and a parent must not be rebuilt under a child
# that already refers to it.
FOREIGN_KEYS = (
    ("extracts", "extracts_assembly_id_fkey", "assembly_id", "assemblies"),
    ("templates", "templates_assembly_id_fkey", "assembly_id", "assemblies"),
    ("rollouts", "rollouts_assembly_id_fkey", "assembly_id", "assemblies"),
    ("rollouts", "rollouts_template_id_fkey", "template_id", "templates"),
    ("invitations", "invitations_rollout_id_fkey", "rollout_id", "rollouts"),
)


def _foreign_keys(op: Operations) -> None:
    """The foreign keys the models always declared. Nothing the registry writes breaks them
    (a parent row is read before its child is written, and no parent is ever deleted)."""
    for table in dict.fromkeys(t for t, *_ in FOREIGN_KEYS):
        # On PostgreSQL an ALTER TABLE; on SQLite, which cannot add a constraint, the
        # table is copied into a new one that has it.
        with op.batch_alter_table(table) as batch:
            for name, column, referred in ((n, c, r) for t, n, c, r in FOREIGN_KEYS
                                           if t == table):
                batch.create_foreign_key(name, referred, [column], ["id"])


def _published_draws(op: Operations) -> None:
    op.create_table(
        "registry_published_draws",
        sa.Column("assembly_id", sa.String(200), primary_key=True),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("lottery_sha256", sa.String(64), nullable=False),
        sa.Column("pinned_by", sa.String(40), nullable=False),
        sa.Column("pinned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("panel_event_id", sa.String(64), nullable=True),
        sa.Column("reserve_event_id", sa.String(64), nullable=True),
    )


MIGRATIONS = [
    Migration(1, "assemblies, extracts, persons, rollouts, invitations, deliveries, "
                 "registrants, pool exports, aggregate statistics", _initial),
    Migration(2, "foreign keys of extracts, templates, rollouts and invitations",
              _foreign_keys),
    Migration(3, "the lottery each assembly published: only its draw applies, once",
              _published_draws),
]
