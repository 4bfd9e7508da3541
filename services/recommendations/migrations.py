"""Schema migrations of the recommendations service (numbered, never edited once shipped).

Every version spells its tables out with Alembic operations instead of reusing models.py, so
that a later change to a model cannot change what an old version did on a database that
already has it (models.py is the one source of the current schema;
tests/common/test_schema_drift.py checks the two agree). Version 2 uses the common module's
``event_outbox`` definition because that module owns the table.
"""
from __future__ import annotations

import random
from typing import Any

import sqlalchemy as sa
from alembic.operations import Operations

from services.common import outbox as common_outbox
from services.common.storage import Migration


def _ts(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _v1(op: Operations) -> None:
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


def _v2(op: Operations) -> None:
    """Move to the shared outbox: what ``rec_outbox`` has not published yet goes into
    ``event_outbox`` (oldest first, so the relay keeps the order), then ``rec_outbox`` goes.

    ``event_outbox`` is the common module's table and may not exist yet (the Outbox creates
    it after the migrations), so it is created here from its owner's definition. An event id
    already in ``event_outbox`` is skipped: the unique key would refuse it, and it is the
    same event. Rows go over in batches so a large backlog does not sit in memory at once.
    """
    conn = op.get_bind()
    common_outbox.event_outbox.create(conn, checkfirst=True)
    old = sa.table("rec_outbox", sa.column("id", sa.Integer), sa.column("event_id", sa.String),
                   sa.column("envelope", sa.LargeBinary),
                   sa.column("created_at", sa.DateTime(timezone=True)),
                   sa.column("published_at", sa.DateTime(timezone=True)))
    new = common_outbox.event_outbox
    last_id = 0
    while True:
        rows = conn.execute(
            sa.select(old.c.id, old.c.event_id, old.c.envelope, old.c.created_at)
            .where(old.c.published_at.is_(None), old.c.id > last_id)
            .order_by(old.c.id).limit(500)).fetchall()
        if not rows:
            break
        last_id = rows[-1].id
        present = set(conn.scalars(sa.select(new.c.event_id).where(
            new.c.event_id.in_([r.event_id for r in rows]))))
        # routing_key stays NULL: the old publisher used the default key (the assembly).
        batch = [{"event_id": r.event_id, "routing_key": None, "envelope": bytes(r.envelope),
                  "created_at": r.created_at} for r in rows if r.event_id not in present]
        for row in batch:  # one by one, so the new ids follow the old order
            conn.execute(new.insert().values(**row))
    op.drop_table("rec_outbox")


def _v3(op: Operations) -> None:
    op.create_table(
        "rec_released_reports",
        sa.Column("assembly_id", sa.String(64), primary_key=True),
        sa.Column("lang", sa.String(8), primary_key=True),
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("report", sa.String(100), nullable=False),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("released_by", sa.String(200), nullable=False),
        _ts("released_at"),
    )


def _v4(op: Operations) -> None:
    """The evaluation: facts from the other services and anonymous questionnaires. The
    anonymous tables are WITHOUT ROWID on SQLite, so not even the storage order follows the
    answering order."""
    op.create_table(
        "rec_evaluation_facts",
        sa.Column("assembly_id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(32), primary_key=True),
        sa.Column("data", sa.JSON, nullable=False),
        _ts("updated_at"),
    )
    op.create_table(
        "rec_questionnaires",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("assembly_id", sa.String(64), nullable=False, index=True),
        sa.Column("audience", sa.String(16), nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("session_id", sa.String(64), nullable=True),
        sa.Column("title", sa.JSON, nullable=False),
        sa.Column("questions", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("responses", sa.Integer, nullable=False),
        sa.Column("hmac_key", sa.LargeBinary, nullable=True),
        _ts("created_at"),
        _ts("closed_at", nullable=True),
    )
    op.create_table(
        "rec_questionnaire_respondents",
        sa.Column("questionnaire_id", sa.String(36), primary_key=True),
        sa.Column("respondent_key", sa.String(64), primary_key=True),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "rec_respondent_codes",
        sa.Column("questionnaire_id", sa.String(36), primary_key=True),
        sa.Column("code_hash", sa.String(64), primary_key=True),
        sa.Column("used", sa.Boolean, nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "rec_answer_tallies",
        sa.Column("questionnaire_id", sa.String(36), primary_key=True),
        sa.Column("question_id", sa.String(64), primary_key=True),
        sa.Column("option", sa.String(64), primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
    )
    op.create_table(
        "rec_answer_comments",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("questionnaire_id", sa.String(36), nullable=False, index=True),
        sa.Column("question_id", sa.String(64), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sqlite_with_rowid=False,
    )


def _published_draws(op: Operations) -> None:
    op.create_table(
        "rec_published_draws",
        sa.Column("assembly_id", sa.String(200), primary_key=True),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("lottery_sha256", sa.String(64), nullable=False),
        sa.Column("pinned_by", sa.String(40), nullable=False),
        sa.Column("pinned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("panel_event_id", sa.String(64), nullable=True),
        sa.Column("reserve_event_id", sa.String(64), nullable=True),
    )


def _ballots_as_counts(op: Operations) -> None:
    """Ballot secrecy by construction: ``rec_ballots`` (one row per ballot, in voting order)
    becomes ``rec_round_tallies`` (a count per level of every round, closed or open, so a
    round in progress keeps its votes and goes on); the voters of every round are written
    again in random order into a table without row ids (SQLite) so their storage order no
    longer follows the voting; the rounds' HMAC keys are dropped with their column. What the
    old rows leave in SQLite's write-ahead log goes at the next close or vote
    (``voting.forget_history``); secure_delete zeroes the freed pages."""
    conn = op.get_bind()
    op.create_table(
        "rec_round_tallies",
        sa.Column("round_id", sa.String(36), primary_key=True),
        sa.Column("level", sa.String(40), primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
        sqlite_with_rowid=False,
    )
    rounds = sa.table("rec_rounds", sa.column("id", sa.String), sa.column("scale", sa.JSON))
    ballots = sa.table("rec_ballots", sa.column("round_id", sa.String),
                       sa.column("level", sa.String))
    tallies = sa.table("rec_round_tallies", sa.column("round_id", sa.String),
                       sa.column("level", sa.String), sa.column("count", sa.Integer))
    counted: dict[tuple[str, str], int] = {
        (r.round_id, r.level): int(r.n) for r in conn.execute(
            sa.select(ballots.c.round_id, ballots.c.level, sa.func.count().label("n"))
            .group_by(ballots.c.round_id, ballots.c.level))}
    rows: dict[tuple[str, str], int] = {}
    for r in conn.execute(sa.select(rounds.c.id, rounds.c.scale)):
        for level in r.scale or []:
            rows[(r.id, level["key"])] = 0
    rows.update(counted)  # a level no longer on the scale keeps its ballots
    if rows:
        conn.execute(tallies.insert(), [{"round_id": rid, "level": lv, "count": n}
                                        for (rid, lv), n in sorted(rows.items())])
    op.drop_table("rec_ballots")

    voters = sa.table("rec_round_voters", sa.column("round_id", sa.String),
                      sa.column("member_id", sa.String))
    by_round: dict[str, list[str]] = {}
    for r in conn.execute(sa.select(voters.c.round_id, voters.c.member_id)):
        by_round.setdefault(r.round_id, []).append(r.member_id)
    shuffled: list[dict[str, str]] = []
    for rid in sorted(by_round):
        members = by_round[rid]
        random.SystemRandom().shuffle(members)
        shuffled.extend({"round_id": rid, "member_id": mid} for mid in members)
    if conn.dialect.name == "sqlite":
        op.drop_table("rec_round_voters")
        op.create_table(
            "rec_round_voters",
            sa.Column("round_id", sa.String(36), primary_key=True),
            sa.Column("member_id", sa.String(64), primary_key=True),
            sqlite_with_rowid=False,
        )
    else:
        conn.execute(voters.delete())
    if shuffled:
        conn.execute(voters.insert(), shuffled)

    with op.batch_alter_table("rec_rounds") as batch:
        batch.drop_column("hmac_key")


MIGRATIONS = [
    Migration(1, "recommendations, versions, amendments, rounds, ballots, answers, "
                 "implementation, outbox", _v1),
    Migration(2, "move unpublished events to the shared event_outbox; drop rec_outbox", _v2),
    Migration(3, "released final reports (the files the public sees)", _v3),
    Migration(4, "evaluation facts and anonymous questionnaires", _v4),
    Migration(5, "the lottery each assembly published: only its draw applies, once",
              _published_draws),
    Migration(6, "ballots kept only as counts per level; voters without order; round keys "
                 "dropped", _ballots_as_counts),
]
