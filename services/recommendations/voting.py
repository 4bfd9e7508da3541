"""Support votes: rounds on a draft's current version, secret ballots, and the count.

Roll call: the sessions service will own attendance; until it publishes presence per
voting round, a facilitator records who is present with ``PUT /rounds/<id>/roll-call``
(a list of seated member ids). Only members on that list may vote in that round.

Ballot secrecy by construction: nothing stored links a member to a level.
- No ballot row exists. A vote adds one to its level's count, and the same statement
  rewrites every level's row of the round (adding zero to the others), so the rows that
  change, their order and (PostgreSQL) their transaction ids are the same whatever the level.
- ``round_voters`` holds only (round, member): no time, no sequence, and SQLite keeps it
  WITHOUT ROWID (in key order). At the close the round's voters are deleted and written
  again in random order, so not even their place in the pages or (PostgreSQL) their
  transaction id follows the voting order.
- The audit line of a vote names the round, not the member: who voted is in
  ``round_voters``, and a per-member line in the chained, timestamped log would give the
  voting order that a copy of the database taken during the round could pair with counts.
- After every vote, and insistently at the close, ``forget_history`` empties SQLite's
  write-ahead log (whose frames are the before/after pictures of every vote) and, at the
  close, vacuums PostgreSQL's dead row versions; ``secure_delete`` (storage.make_engine)
  zeroes what SQLite frees.
Left to the operator: someone who copies the database *during* a round, between two votes,
learns the level of the vote cast in between; see docs/SECURITY.md.
"""
from __future__ import annotations

import logging
import random
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from services.common import audit, storage
from services.common.service import ServiceContext
from services.common.web import ApiError
from services.recommendations import assemblies, outgoing, queries
from services.recommendations import models as m
from services.recommendations import scale as scales
from services.recommendations.inputs import Refused
from services.recommendations.queries import Row


def must_be_open(r: Row) -> None:
    if r.status != "open":
        raise ApiError("round_id", "the voting round is closed", 409)


log = logging.getLogger("kleroterion.recommendations.voting")
# The tables whose history could pair a member with a level.
SECRET_TABLES = (m.round_voters, m.round_tallies, m.rounds)


def open_tally(conn: sa.Connection, round_id: str, scale: Sequence[Mapping[str, Any]]) -> None:
    """A zero count for every level of the round's scale, made together when it opens."""
    conn.execute(m.round_tallies.insert(), [
        {"round_id": round_id, "level": lv["key"], "count": 0} for lv in scale])


def _count_ballot(conn: sa.Connection, round_id: str, levels: Sequence[str],
                  level: str) -> None:
    t = m.round_tallies
    missing = set(levels) - set(conn.scalars(sa.select(t.c.level)
                                             .where(t.c.round_id == round_id)))
    if missing:  # a scale level added to a round before its counts were made
        conn.execute(t.insert(), [{"round_id": round_id, "level": lv, "count": 0}
                                  for lv in sorted(missing)])
    # Every level's row is written, so the write itself does not tell the level.
    conn.execute(t.update().where(t.c.round_id == round_id).values(
        count=t.c.count + sa.case((t.c.level == level, 1), else_=0)))


def forget_history(engine: Engine, *, insist: bool) -> None:
    """Purge what the database keeps of earlier states of the voting tables (after the
    commit): SQLite's write-ahead log, PostgreSQL's dead row versions. After a vote
    (``insist=False``) one quick try on SQLite, as other readers may hold the log; at the
    close (``insist=True``) the purge is retried and, on PostgreSQL, the tables vacuumed."""
    if engine.dialect.name != "sqlite" and not insist:
        return  # dead row versions are not readable through SQL; the close vacuums them
    try:
        storage.purge_erased(engine, list(SECRET_TABLES),
                             attempts=20 if insist else 2, wait=0.05 if insist else 0.01)
    except storage.PurgeIncomplete:
        # The vote or the close is committed either way; the next one empties the log.
        log.warning("voting history still in the write-ahead log", extra={"insist": insist})


def record_ballot(conn: sa.Connection, round_id: str, code: Any, level: Any) -> None:
    """Record one member's vote in an open round: once per round, only members present at
    the roll call, and secretly (a count per level, the audit names neither member nor
    level). Used by the JSON API and the members' voting page alike."""
    if not isinstance(code, str) or not code.strip():
        raise Refused("code_missing", "member_code", "is required", 401)
    r = queries.round_row(conn, round_id)
    if r.status != "open":
        raise Refused("closed", "round_id", "the voting round is closed", 409)
    member = assemblies.member_by_code(conn, code)
    if member is None:
        raise Refused("code_unknown", "member_code", "unknown member code", 401)
    if member.assembly_id != r.assembly_id or not member.seated:
        raise Refused("not_seated", "member_code",
                      "only seated members of this assembly may vote", 403)
    if not queries.is_present(conn, round_id, member.member_id):
        raise Refused("not_present", "member_code",
                      "the member is not on this round's roll call", 403)
    levels = [lv["key"] for lv in r.scale]
    if level not in levels:
        raise Refused("level", "level", f"must be one of {', '.join(levels)}", 422)
    if queries.has_voted(conn, round_id, member.member_id):
        raise Refused("already_voted", "member_code", "has already voted in this round", 409)
    try:
        with conn.begin_nested():
            conn.execute(m.round_voters.insert().values(round_id=round_id,
                                                        member_id=member.member_id))
    except IntegrityError:  # a second request of the same member raced this one
        raise Refused("already_voted", "member_code",
                      "has already voted in this round", 409) from None
    _count_ballot(conn, round_id, levels, level)
    # Neither the level nor the member: see the module's docstring.
    audit.record(conn, actor="member", role="member", action="round.vote",
                 target=f"round:{round_id}")


def _shuffle_voters(conn: sa.Connection, round_id: str) -> None:
    v = m.round_voters
    voters = list(conn.scalars(sa.select(v.c.member_id).where(v.c.round_id == round_id)))
    random.SystemRandom().shuffle(voters)
    conn.execute(v.delete().where(v.c.round_id == round_id))
    if voters:
        conn.execute(v.insert(), [{"round_id": round_id, "member_id": mid} for mid in voters])


def close_round(conn: sa.Connection, ctx: ServiceContext, r: Row, on: date) -> dict[str, Any]:
    """Count an open round and close it; a recommendation that reaches the threshold is
    adopted and announced. The voters are written again in random order; the caller runs
    ``forget_history`` after the commit. Returns the result."""
    must_be_open(r)
    counts = queries.round_tally(conn, r.id)
    levels = [level for lv in r.scale for level in [lv["key"]] * counts.get(lv["key"], 0)]
    result = {**scales.tally(r.scale, levels, r.threshold), "closed_on": on.isoformat()}
    conn.execute(m.rounds.update().where(m.rounds.c.id == r.id).values(
        status="closed", result=result, closed_at=datetime.now(UTC)))
    _shuffle_voters(conn, r.id)
    rec = queries.rec_row(conn, r.recommendation_id)
    if result["threshold_met"]:
        conn.execute(m.recommendations.update().where(m.recommendations.c.id == rec.id)
                     .values(status="adopted", adopted_round_id=r.id,
                             support_share=result["support_share"],
                             updated_at=datetime.now(UTC)))
        v = queries.version_row(conn, rec.id, r.version)
        assert v is not None  # a round is opened on an existing version
        outgoing.recommendation_adopted(
            conn, ctx, assembly_id=r.assembly_id, recommendation_id=rec.id, title=v.title,
            result=result, threshold=r.threshold, round_id=r.id, round_number=r.number,
            version=r.version)
    return result
