"""Schema migrations of the recommendations service (numbered, never edited once shipped).

Version 1 spells its tables out instead of reusing models.py, so that a later change to a
model cannot change what version 1 did on a database that already has it.
"""
from __future__ import annotations

import sqlalchemy as sa

from services.common.storage import Migration


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _v1(op) -> None:
    op.create_table(
        "rec_assemblies",
        sa.Column("assembly_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, server_default=""),
        sa.Column("scale", sa.JSON, nullable=True),  # null: the default scale
        sa.Column("threshold", sa.Float, nullable=False),
        sa.Column("receiving_body", sa.String(200), nullable=True),
        sa.Column("body_kind", sa.String(40), nullable=True),
        sa.Column("handed_over_on", sa.Date, nullable=True),
        sa.Column("answer_deadline", sa.Date, nullable=True),
        sa.Column("report_input", sa.JSON, nullable=True),
        _ts("created_at"),
    )
    op.create_table(
        "rec_members",
        sa.Column("assembly_id", sa.String(64), primary_key=True),
        sa.Column("member_id", sa.String(64), primary_key=True),
        sa.Column("seated", sa.Boolean, nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=True, unique=True),
        _ts("changed_at"),
    )
    op.create_table(
        "rec_sessions_held",
        sa.Column("assembly_id", sa.String(64), primary_key=True),
        sa.Column("session_id", sa.String(64), primary_key=True),
        sa.Column("hours", sa.Float, nullable=False),
        sa.Column("present", sa.Integer, nullable=False),
        sa.Column("seated", sa.Integer, nullable=False),
        _ts("held_at"),
    )
    op.create_table(
        "rec_recommendations",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("assembly_id", sa.String(64), nullable=False, index=True),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("current_version", sa.Integer, nullable=False),
        sa.Column("group_name", sa.String(200), nullable=False, server_default=""),
        sa.Column("answer_deadline", sa.Date, nullable=True),
        sa.Column("adopted_round_id", sa.String(36), nullable=True),
        sa.Column("support_share", sa.Float, nullable=True),
        _ts("created_at"),
        _ts("updated_at"),
    )
    op.create_table(
        "rec_versions",
        sa.Column("recommendation_id", sa.String(36), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("rationale", sa.Text, nullable=False),
        sa.Column("theme", sa.String(200), nullable=False),
        sa.Column("values", sa.JSON, nullable=False),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("author", sa.String(200), nullable=False),
        _ts("created_at"),
    )
    op.create_table(
        "rec_lineage",
        sa.Column("parent_id", sa.String(36), primary_key=True),
        sa.Column("child_id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(10), nullable=False),  # merge | split
        _ts("created_at"),
    )
    op.create_table(
        "rec_amendments",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("recommendation_id", sa.String(36), nullable=False, index=True),
        sa.Column("base_version", sa.Integer, nullable=False),
        sa.Column("changes", sa.JSON, nullable=False),
        sa.Column("rationale", sa.Text, nullable=False),
        sa.Column("proposed_by", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("result_version", sa.Integer, nullable=True),
        sa.Column("decided_by", sa.String(200), nullable=True),
        _ts("created_at"),
        _ts("decided_at", nullable=True),
    )
    op.create_table(
        "rec_rounds",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("recommendation_id", sa.String(36), nullable=False, index=True),
        sa.Column("assembly_id", sa.String(64), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),  # open | closed
        sa.Column("threshold", sa.Float, nullable=False),
        sa.Column("scale", sa.JSON, nullable=False),
        sa.Column("hmac_key", sa.String(64), nullable=True),
        sa.Column("result", sa.JSON, nullable=True),
        _ts("opened_at"),
        _ts("closed_at", nullable=True),
        sa.UniqueConstraint("recommendation_id", "number", name="uq_rec_rounds_number"),
    )
    op.create_table(
        "rec_round_presence",
        sa.Column("round_id", sa.String(36), primary_key=True),
        sa.Column("member_id", sa.String(64), primary_key=True),
    )
    op.create_table(
        "rec_round_voters",
        sa.Column("round_id", sa.String(36), primary_key=True),
        sa.Column("member_id", sa.String(64), primary_key=True),
    )
    op.create_table(
        "rec_ballots",
        sa.Column("round_id", sa.String(36), primary_key=True),
        sa.Column("voter_key", sa.String(64), primary_key=True),
        sa.Column("level", sa.String(40), nullable=False),
    )
    op.create_table(
        "rec_minority_statements",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("recommendation_id", sa.String(36), nullable=False, index=True),
        sa.Column("round_id", sa.String(36), nullable=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("supporters", sa.Integer, nullable=True),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        _ts("created_at"),
    )
    op.create_table(
        "rec_answers",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("recommendation_id", sa.String(36), nullable=False, index=True),
        sa.Column("answer", sa.String(30), nullable=False),
        sa.Column("reasons", sa.Text, nullable=False),
        sa.Column("answered_on", sa.Date, nullable=False),
        sa.Column("answered_by", sa.String(200), nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        _ts("recorded_at"),
    )
    op.create_table(
        "rec_implementation",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("recommendation_id", sa.String(36), nullable=False, index=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("percent", sa.Integer, nullable=True),
        sa.Column("responsible_committee", sa.String(200), nullable=True),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("updated_on", sa.Date, nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        _ts("recorded_at"),
    )
    op.create_table(
        "rec_milestones",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("recommendation_id", sa.String(36), nullable=False, index=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("due", sa.Date, nullable=True),
        sa.Column("done_on", sa.Date, nullable=True),
        _ts("created_at"),
    )
    op.create_table(
        "rec_outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(64), nullable=False, unique=True),
        sa.Column("envelope", sa.LargeBinary, nullable=False),
        _ts("created_at"),
        _ts("published_at", nullable=True),
    )


MIGRATIONS = [
    Migration(1, "recommendations, versions, amendments, rounds, ballots, answers, "
                 "implementation, outbox", _v1),
]
