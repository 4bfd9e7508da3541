"""Support votes: rounds on a draft's current version, secret ballots, and the count.

Roll call: the sessions service will own attendance; until it publishes presence per
voting round, a facilitator records who is present with ``PUT /rounds/<id>/roll-call``
(a list of seated member ids). Only members on that list may vote in that round.
"""
from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from services.common import audit
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


def voter_key(key_hex: str, member_id: str) -> str:
    return hmac.new(bytes.fromhex(key_hex), member_id.encode(), hashlib.sha256).hexdigest()


def record_ballot(conn: sa.Connection, round_id: str, code: Any, level: Any) -> None:
    """Record one member's vote in an open round: once per round, only members present at
    the roll call, and secretly (the ballot is keyed by an HMAC, the audit has no level).
    Used by the JSON API and the members' voting page alike."""
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
    conn.execute(m.ballots.insert().values(
        round_id=round_id, voter_key=voter_key(r.hmac_key, member.member_id), level=level))
    # Audited without the level: the log must not break the secrecy of the ballot.
    audit.record(conn, actor=f"member:{member.member_id}", role="member",
                 action="round.vote", target=f"round:{round_id}")


def close_round(conn: sa.Connection, ctx: ServiceContext, r: Row, on: date) -> dict[str, Any]:
    """Count an open round and close it; a recommendation that reaches the threshold is
    adopted and announced. The HMAC key is erased, so afterwards not even the database ties
    a ballot to a member. Returns the result."""
    must_be_open(r)
    levels = queries.ballot_levels(conn, r.id)
    result = {**scales.tally(r.scale, levels, r.threshold), "closed_on": on.isoformat()}
    conn.execute(m.rounds.update().where(m.rounds.c.id == r.id).values(
        status="closed", result=result, hmac_key=None, closed_at=datetime.now(UTC)))
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
