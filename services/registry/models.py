"""The registry's tables (SQLAlchemy Core), created by migrations.py.

Personal data (person key, name, address, birth date, contact details) lives only in
``persons.sealed`` (AES-GCM). What the lottery and statistics need — municipality, age band,
sex, a keyed hash of the household — is kept beside it in the clear.
"""
from __future__ import annotations

import sqlalchemy as sa

from services.common import published_draw

metadata = sa.MetaData()
TS = sa.DateTime(timezone=True)

assemblies = sa.Table(
    "assemblies", metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("questions", sa.Text, nullable=False),  # JSON list of stratification questions
    sa.Column("session_dates", sa.Text, nullable=False),  # JSON list of ISO dates
    sa.Column("status", sa.String(16), nullable=False),  # open, ended
    sa.Column("created_at", TS, nullable=False),
    sa.Column("erased_at", TS, nullable=True),
)

extracts = sa.Table(
    "extracts", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("assembly_id", sa.String(64), sa.ForeignKey("assemblies.id"), nullable=False),
    sa.Column("row_count", sa.Integer, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("imported_at", TS, nullable=False),
)

persons = sa.Table(
    "persons", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("assembly_id", sa.String(64), nullable=False),
    sa.Column("extract_id", sa.String(36), nullable=False),
    sa.Column("key_hash", sa.String(64), nullable=True),  # HMAC of the person key; NULL once erased
    sa.Column("household", sa.String(64), nullable=True),  # HMAC of the normalised address
    sa.Column("municipality_code", sa.Integer, nullable=False),
    sa.Column("age_band", sa.String(8), nullable=False),
    sa.Column("sex", sa.String(8), nullable=False),
    sa.Column("sealed", sa.LargeBinary, nullable=True),
    sa.Index("ux_persons_key", "assembly_id", "key_hash", unique=True),
    sa.Index("ix_persons_scope", "assembly_id", "municipality_code"),
)

templates = sa.Table(
    "templates", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("assembly_id", sa.String(64), sa.ForeignKey("assemblies.id"), nullable=False),
    sa.Column("content", sa.Text, nullable=False),  # JSON {language: {subject, body}}
    sa.Column("created_at", TS, nullable=False),
    sa.Column("test_sent_at", TS, nullable=True),
    sa.Column("approved_at", TS, nullable=True),
    sa.Column("approved_by", sa.String(200), nullable=True),
)

rollouts = sa.Table(
    "rollouts", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("assembly_id", sa.String(64), sa.ForeignKey("assemblies.id"), nullable=False),
    sa.Column("scope", sa.String(100), nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("seed", sa.String(64), nullable=False),
    sa.Column("options", sa.Text, nullable=False),  # JSON: weights, one_per_household
    sa.Column("allocation", sa.Text, nullable=False),  # JSON: municipality -> invitations
    sa.Column("template_id", sa.String(36), sa.ForeignKey("templates.id"), nullable=True),
    sa.Column("status", sa.String(16), nullable=False),  # drawn, sending
    sa.Column("created_at", TS, nullable=False),
)

invitations = sa.Table(
    "invitations", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("rollout_id", sa.String(36), sa.ForeignKey("rollouts.id"), nullable=False),
    sa.Column("assembly_id", sa.String(64), nullable=False),
    sa.Column("person_id", sa.Integer, nullable=True),  # NULL once erased
    sa.Column("code", sa.String(16), nullable=False),
    # Copied so that statistics survive erasure of the person.
    sa.Column("municipality_code", sa.Integer, nullable=False),
    sa.Column("age_band", sa.String(8), nullable=False),
    sa.Column("sex", sa.String(8), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("signed_up", sa.Boolean, nullable=False),
    sa.Index("ux_invitations_code", "code", unique=True),
    sa.Index("ix_invitations_rollout", "rollout_id"),
    sa.Index("ix_invitations_person", "assembly_id", "person_id"),
)

# One row per (assembly, person, purpose), written before a channel is called: the guard
# that makes a crash or a redelivered event never send twice.
deliveries = sa.Table(
    "deliveries", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("assembly_id", sa.String(64), nullable=False),
    sa.Column("person_id", sa.Integer, nullable=False),
    sa.Column("purpose", sa.String(16), nullable=False),  # invitation, selected
    sa.Column("invitation_id", sa.String(36), nullable=False),
    # sending, sent, failed, unreachable, manual_check
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("channel", sa.String(64), nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("detail", sa.String(500), nullable=False),
    sa.Column("updated_at", TS, nullable=False),
    sa.Index("ux_deliveries_once", "assembly_id", "person_id", "purpose", unique=True),
)

registrants = sa.Table(
    "registrants", metadata,
    sa.Column("id", sa.String(36), primary_key=True),  # random UUID: the pseudonymous pool id
    sa.Column("assembly_id", sa.String(64), nullable=False),
    sa.Column("invitation_id", sa.String(36), nullable=True),
    sa.Column("municipality_code", sa.Integer, nullable=False),
    sa.Column("age_band", sa.String(8), nullable=False),
    sa.Column("sex", sa.String(8), nullable=False),
    sa.Column("answers", sa.Text, nullable=False),  # JSON {question id: option}
    sa.Column("language", sa.String(2), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
    sa.Index("ux_registrants_invitation", "invitation_id", unique=True),
    sa.Index("ix_registrants_assembly", "assembly_id", "state"),
)

pool_exports = sa.Table(
    "pool_exports", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("assembly_id", sa.String(64), nullable=False),
    sa.Column("registrant_count", sa.Integer, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("created_at", TS, nullable=False),
)

# What is left of an assembly after its personal data is erased: counts only.
aggregate_stats = sa.Table(
    "aggregate_stats", metadata,
    sa.Column("assembly_id", sa.String(64), primary_key=True),
    sa.Column("municipality_code", sa.Integer, primary_key=True),
    sa.Column("feature", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(200), primary_key=True),
    sa.Column("invited", sa.Integer, nullable=False),
    sa.Column("signed_up", sa.Integer, nullable=False),
)

# The lottery the assembly published, as this service learnt it (``published_draw.py``):
# only its draw is applied, once.
published_draws = published_draw.table("registry_published_draws", metadata)
