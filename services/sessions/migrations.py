"""Schema of the sessions service, one numbered migration at a time. A migration is a
snapshot: later changes to models.py come as new migrations (op.add_column …)."""
from __future__ import annotations

import sqlalchemy as sa
from alembic.operations import Operations

from services.common.storage import Migration


def _initial(op: Operations) -> None:
    op.create_table(
        "assemblies",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("format", sa.String(64), nullable=False),
        sa.Column("seats", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )

    op.create_table(
        "sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("assembly_id", sa.String(64), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("place", sa.String(300), nullable=False),
        sa.Column("host", sa.String(200), nullable=False),
        sa.Column("held_at", sa.DateTime(timezone=True), nullable=True),
    )

    op.create_table(
        "agenda_items",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("minutes", sa.Integer, nullable=False),
        sa.Column("table_size", sa.Integer, nullable=True),
    )

    # Invited experts and stakeholders are public figures speaking in that role.
    op.create_table(
        "guests",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("organisation", sa.String(200), nullable=False, server_default=""),
    )

    # status: substitute (on the reserve list), offered, confirmed, declined, withdrawn.
    op.create_table(
        "members",
        sa.Column("assembly_id", sa.String(64), primary_key=True),
        sa.Column("member_id", sa.String(64), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("substitute_rank", sa.Integer, nullable=True),
        sa.Column("features", sa.Text, nullable=False, server_default="{}"),
        sa.Column("display_name", sa.String(200), nullable=True),
        sa.Column("name_consent", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("replaces", sa.String(64), nullable=True),
        sa.Column("left_before_session", sa.Integer, nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )

    op.create_table(
        "quotas",
        sa.Column("assembly_id", sa.String(64), primary_key=True),
        sa.Column("feature", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(100), primary_key=True),
        sa.Column("min", sa.Integer, nullable=False),
        sa.Column("max", sa.Integer, nullable=False),
    )

    op.create_table(
        "attendance",
        sa.Column("session_id", sa.String(64), primary_key=True),
        sa.Column("member_id", sa.String(64), primary_key=True),
        sa.Column("present", sa.Boolean, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
    )

    # A vacancy no substitute on the list could fill: waiting for a top-up draw.
    op.create_table(
        "vacancies",
        sa.Column("assembly_id", sa.String(64), primary_key=True),
        sa.Column("vacated_by", sa.String(64), primary_key=True),
        sa.Column("before_session", sa.Integer, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),  # open, filled, not_replaced
    )

    op.create_table(
        "group_constraints",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("assembly_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("members", sa.Text, nullable=False),
        sa.Column("table_no", sa.Integer, nullable=True),
    )

    op.create_table(
        "seatings",
        sa.Column("agenda_item_id", sa.String(64), primary_key=True),
        sa.Column("member_id", sa.String(64), primary_key=True),
        sa.Column("assembly_id", sa.String(64), nullable=False),
        sa.Column("table_no", sa.Integer, nullable=False),
    )
    op.create_index("ix_sessions_assembly_id", "sessions", ["assembly_id"])
    op.create_index("ix_agenda_items_session_id", "agenda_items", ["session_id"])
    op.create_index("ix_guests_session_id", "guests", ["session_id"])
    op.create_index("ix_group_constraints_assembly_id", "group_constraints", ["assembly_id"])
    op.create_index("ix_seatings_assembly_id", "seatings", ["assembly_id"])


def _seated_when_held(op: Operations) -> None:
    op.add_column("sessions", sa.Column("seated", sa.Integer, nullable=True))


def _published_draws(op: Operations) -> None:
    op.create_table(
        "sessions_published_draws",
        sa.Column("assembly_id", sa.String(200), primary_key=True),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("lottery_sha256", sa.String(64), nullable=False),
        sa.Column("pinned_by", sa.String(40), nullable=False),
        sa.Column("pinned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("panel_event_id", sa.String(64), nullable=True),
        sa.Column("reserve_event_id", sa.String(64), nullable=True),
    )


MIGRATIONS = [Migration(1, "programme, panel, attendance, vacancies and seatings", _initial),
              Migration(2, "members seated when a session was held", _seated_when_held),
              Migration(3, "the lottery each assembly published: only its draw applies, once",
                        _published_draws)]
