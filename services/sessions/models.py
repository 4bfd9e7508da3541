"""The sessions service's tables: the one source of its schema. migrations.py is the
frozen history that builds it; tests/common/test_schema_drift.py fails when the two differ."""
from __future__ import annotations

import sqlalchemy as sa

from services.common import published_draw

metadata = sa.MetaData()

assemblies = sa.Table(
    "assemblies", metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("format", sa.String(64), nullable=False),
    sa.Column("seats", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

sessions = sa.Table(
    "sessions", metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("assembly_id", sa.String(64), nullable=False, index=True),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("place", sa.String(300), nullable=False),
    sa.Column("host", sa.String(200), nullable=False),
    sa.Column("held_at", sa.DateTime(timezone=True), nullable=True),
    # Members holding a seat when the session was recorded as held: seats change later.
    sa.Column("seated", sa.Integer, nullable=True),
)

agenda_items = sa.Table(
    "agenda_items", metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("session_id", sa.String(64), nullable=False, index=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("minutes", sa.Integer, nullable=False),
    sa.Column("table_size", sa.Integer, nullable=True),
)

# Invited experts and stakeholders are public figures speaking in that role.
guests = sa.Table(
    "guests", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("session_id", sa.String(64), nullable=False, index=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("organisation", sa.String(200), nullable=False, server_default=""),
)

# status: substitute (on the reserve list), offered, confirmed, declined, withdrawn.
members = sa.Table(
    "members", metadata,
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

quotas = sa.Table(
    "quotas", metadata,
    sa.Column("assembly_id", sa.String(64), primary_key=True),
    sa.Column("feature", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(100), primary_key=True),
    sa.Column("min", sa.Integer, nullable=False),
    sa.Column("max", sa.Integer, nullable=False),
)

attendance = sa.Table(
    "attendance", metadata,
    sa.Column("session_id", sa.String(64), primary_key=True),
    sa.Column("member_id", sa.String(64), primary_key=True),
    sa.Column("present", sa.Boolean, nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("recorded_by", sa.String(200), nullable=False),
)

# A vacancy no substitute on the list could fill: waiting for a top-up draw.
vacancies = sa.Table(
    "vacancies", metadata,
    sa.Column("assembly_id", sa.String(64), primary_key=True),
    sa.Column("vacated_by", sa.String(64), primary_key=True),
    sa.Column("before_session", sa.Integer, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),  # open, filled, not_replaced
)

group_constraints = sa.Table(
    "group_constraints", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("assembly_id", sa.String(64), nullable=False, index=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("members", sa.Text, nullable=False),
    sa.Column("table_no", sa.Integer, nullable=True),
)

seatings = sa.Table(
    "seatings", metadata,
    sa.Column("agenda_item_id", sa.String(64), primary_key=True),
    sa.Column("member_id", sa.String(64), primary_key=True),
    sa.Column("assembly_id", sa.String(64), nullable=False, index=True),
    sa.Column("table_no", sa.Integer, nullable=False),
)

# The lottery the assembly published, as this service learnt it (``published_draw.py``):
# only its draw is applied, once.
published_draws = published_draw.table("sessions_published_draws", metadata)
