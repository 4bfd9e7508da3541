"""How the sortition service's own database got its schema: frozen history, written out
with Alembic operations and never built from ``models.py`` (the one source of the schema).
A change to the schema is a new migration here and the same change in ``models.py``;
``tests/common/test_schema_drift.py`` fails when the two disagree."""
from __future__ import annotations

import sqlalchemy as sa
from alembic.operations import Operations

from services.common.storage import Migration


def _runs(op: Operations) -> None:
    op.create_table(
        "sortition_runs",
        sa.Column("run_id", sa.String(64), primary_key=True),
        sa.Column("assembly_id", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("algorithm", sa.String(32), nullable=False),
        sa.Column("pool_sha256", sa.String(64), nullable=False),
        # The pool as the request carried it (pseudonymous ids, features, quotas): the
        # substitutes of a drawn panel are computed from it after a restart.
        sa.Column("pool_json", sa.Text, nullable=False),
        sa.Column("probabilities_json", sa.Text, nullable=False),
        sa.Column("min_probability", sa.Float, nullable=False),
        sa.Column("gini", sa.Float, nullable=False),
        sa.Column("lottery_json", sa.Text, nullable=False),
        sa.Column("lottery_sha256", sa.String(64), nullable=False),
        sa.Column("lottery_size", sa.Integer, nullable=False),
        sa.Column("max_rounding_deviation", sa.Float, nullable=False),
        sa.Column("seed", sa.Text, nullable=True),
        sa.Column("panel_index", sa.Integer, nullable=True),
        sa.Column("panel_json", sa.Text, nullable=True),
        sa.Column("drawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("substitutes_json", sa.Text, nullable=True),
    )
    op.create_index("ix_sortition_runs_assembly", "sortition_runs", ["assembly_id"])


def _publication(op: Operations) -> None:
    with op.batch_alter_table("sortition_runs") as batch:
        batch.add_column(sa.Column("published_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("published_by", sa.String(200), nullable=True))
        batch.add_column(sa.Column("seed_entered_by", sa.String(200), nullable=True))
        batch.add_column(sa.Column("seed_source", sa.Text, nullable=True))
        batch.add_column(sa.Column("top_up_of", sa.String(64), nullable=True))
    # One published run per assembly: the database refuses a second even if two
    # publications race.
    op.create_table(
        "sortition_publications",
        sa.Column("assembly_id", sa.String(200), primary_key=True),
        sa.Column("run_id", sa.String(64), nullable=False, unique=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
    )


MIGRATIONS = [Migration(1, "runs: computed distributions, published lotteries and draws", _runs),
              Migration(2, "publication: one frozen run per assembly, who entered the seed",
                        _publication)]
