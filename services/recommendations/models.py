"""The recommendations service's tables: the one source of its schema (migrations.py is the
frozen history that builds it; tests/common/test_schema_drift.py checks they agree).

Ballot secrecy by construction (``voting.py``): there is no ballot row at all. A vote adds
one to its level's count in ``round_tallies`` (every level's row is written by every vote,
so not even the row that changed tells the level); ``round_voters`` says only which members
have voted (to refuse a second vote). Neither has a time, an id or a row order that follows
the voting: both are WITHOUT ROWID on SQLite (stored in key order), and the close of a round
rewrites its voters in random order and empties the write-ahead log (``voting.py``).
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from services.common import published_draw

metadata = sa.MetaData()


def _ts(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


assemblies = sa.Table(
    "rec_assemblies", metadata,
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

members = sa.Table(
    "rec_members", metadata,
    sa.Column("assembly_id", sa.String(64), primary_key=True),
    sa.Column("member_id", sa.String(64), primary_key=True),
    sa.Column("seated", sa.Boolean, nullable=False),
    sa.Column("code_hash", sa.String(64), nullable=True, unique=True),
    _ts("changed_at"),
)

sessions_held = sa.Table(
    "rec_sessions_held", metadata,
    sa.Column("assembly_id", sa.String(64), primary_key=True),
    sa.Column("session_id", sa.String(64), primary_key=True),
    sa.Column("hours", sa.Float, nullable=False),
    sa.Column("present", sa.Integer, nullable=False),
    sa.Column("seated", sa.Integer, nullable=False),
    _ts("held_at"),
)

recommendations = sa.Table(
    "rec_recommendations", metadata,
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

versions = sa.Table(
    "rec_versions", metadata,
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

lineage = sa.Table(
    "rec_lineage", metadata,
    sa.Column("parent_id", sa.String(36), primary_key=True),
    sa.Column("child_id", sa.String(36), primary_key=True),
    sa.Column("kind", sa.String(10), nullable=False),  # merge | split
    _ts("created_at"),
)

amendments = sa.Table(
    "rec_amendments", metadata,
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

rounds = sa.Table(
    "rec_rounds", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("recommendation_id", sa.String(36), nullable=False, index=True),
    sa.Column("assembly_id", sa.String(64), nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("status", sa.String(10), nullable=False),  # open | closed
    sa.Column("threshold", sa.Float, nullable=False),
    sa.Column("scale", sa.JSON, nullable=False),
    sa.Column("result", sa.JSON, nullable=True),
    _ts("opened_at"),
    _ts("closed_at", nullable=True),
    sa.UniqueConstraint("recommendation_id", "number", name="uq_rec_rounds_number"),
)

presence = sa.Table(
    "rec_round_presence", metadata,
    sa.Column("round_id", sa.String(36), primary_key=True),
    sa.Column("member_id", sa.String(64), primary_key=True),
)

# Who has voted, and nothing else: no time, no order (WITHOUT ROWID: stored by key).
round_voters = sa.Table(
    "rec_round_voters", metadata,
    sa.Column("round_id", sa.String(36), primary_key=True),
    sa.Column("member_id", sa.String(64), primary_key=True),
    sqlite_with_rowid=False,
)

# The ballots as counts: one row per level of the round's scale, all made when the round
# opens, so neither their existence nor their order says which level was chosen first.
round_tallies = sa.Table(
    "rec_round_tallies", metadata,
    sa.Column("round_id", sa.String(36), primary_key=True),
    sa.Column("level", sa.String(40), primary_key=True),
    sa.Column("count", sa.Integer, nullable=False),
    sqlite_with_rowid=False,
)

minority_statements = sa.Table(
    "rec_minority_statements", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("recommendation_id", sa.String(36), nullable=False, index=True),
    sa.Column("round_id", sa.String(36), nullable=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("supporters", sa.Integer, nullable=True),
    sa.Column("recorded_by", sa.String(200), nullable=False),
    _ts("created_at"),
)

answers = sa.Table(
    "rec_answers", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("recommendation_id", sa.String(36), nullable=False, index=True),
    sa.Column("answer", sa.String(30), nullable=False),
    sa.Column("reasons", sa.Text, nullable=False),
    sa.Column("answered_on", sa.Date, nullable=False),
    sa.Column("answered_by", sa.String(200), nullable=False),
    sa.Column("recorded_by", sa.String(200), nullable=False),
    _ts("recorded_at"),
)

implementation = sa.Table(
    "rec_implementation", metadata,
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

milestones = sa.Table(
    "rec_milestones", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("recommendation_id", sa.String(36), nullable=False, index=True),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("due", sa.Date, nullable=True),
    sa.Column("done_on", sa.Date, nullable=True),
    _ts("created_at"),
)

# Events go to the shared outbox (services/common/outbox.py: event_outbox); migration 2
# moved what the service's own rec_outbox still held there and dropped it.

# The final report as released by an operator: the files are kept as they were released,
# so the public copy does not change with later answers until it is released again.
released_reports = sa.Table(
    "rec_released_reports", metadata,
    sa.Column("assembly_id", sa.String(64), primary_key=True),
    sa.Column("lang", sa.String(8), primary_key=True),
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("report", sa.String(100), nullable=False),
    sa.Column("media_type", sa.String(100), nullable=False),
    sa.Column("content", sa.LargeBinary, nullable=False),
    sa.Column("released_by", sa.String(200), nullable=False),
    _ts("released_at"),
)

# --- evaluation (evaluation.py, questionnaires.py) -------------------------------------------

# What the other services tell the evaluation, newest snapshot per kind: "funnel" (registry:
# population, invited, signed up per feature value), "selection" (sortition: fairness of the
# distribution), "process" (sessions: sessions, composition, dropouts, guests heard), and
# "population_targets" (entered by an organiser for features the extract does not hold).
evaluation_facts = sa.Table(
    "rec_evaluation_facts", metadata,
    sa.Column("assembly_id", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(32), primary_key=True),
    sa.Column("data", sa.JSON, nullable=False),
    _ts("updated_at"),
)

questionnaires = sa.Table(
    "rec_questionnaires", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("assembly_id", sa.String(64), nullable=False, index=True),
    sa.Column("audience", sa.String(16), nullable=False),  # member, observer, organiser
    sa.Column("stage", sa.String(16), nullable=False),  # session, final
    sa.Column("session_id", sa.String(64), nullable=True),
    sa.Column("title", sa.JSON, nullable=False),  # {da, en}
    sa.Column("questions", sa.JSON, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # open, closed
    sa.Column("responses", sa.Integer, nullable=False),
    sa.Column("hmac_key", sa.LargeBinary, nullable=True),  # erased at close
    _ts("created_at"),
    _ts("closed_at", nullable=True),
)

# Anonymity: nothing stored links an answer to a member. Who has answered is kept as an HMAC
# under the questionnaire's key (erased when it closes); closed-question answers only as
# counters; free-text answers as rows with a random key and no time. The tables are
# WITHOUT ROWID on SQLite so that not even the storage order follows the answering order.
questionnaire_respondents = sa.Table(
    "rec_questionnaire_respondents", metadata,
    sa.Column("questionnaire_id", sa.String(36), primary_key=True),
    sa.Column("respondent_key", sa.String(64), primary_key=True),
    sqlite_with_rowid=False,
)

# One-time codes for observers and organisers, handed out on paper: not tied to a name.
respondent_codes = sa.Table(
    "rec_respondent_codes", metadata,
    sa.Column("questionnaire_id", sa.String(36), primary_key=True),
    sa.Column("code_hash", sa.String(64), primary_key=True),
    sa.Column("used", sa.Boolean, nullable=False),
    sqlite_with_rowid=False,
)

answer_tallies = sa.Table(
    "rec_answer_tallies", metadata,
    sa.Column("questionnaire_id", sa.String(36), primary_key=True),
    sa.Column("question_id", sa.String(64), primary_key=True),
    sa.Column("option", sa.String(64), primary_key=True),
    sa.Column("count", sa.Integer, nullable=False),
)

answer_comments = sa.Table(
    "rec_answer_comments", metadata,
    sa.Column("id", sa.String(36), primary_key=True),  # random, so no order
    sa.Column("questionnaire_id", sa.String(36), nullable=False, index=True),
    sa.Column("question_id", sa.String(64), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sqlite_with_rowid=False,
)

# The lottery the assembly published, as this service learnt it (``published_draw.py``):
# only its draw is applied, once.
published_draws = published_draw.table("rec_published_draws", metadata)
