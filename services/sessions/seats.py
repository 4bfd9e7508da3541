"""Changing who holds a seat: seating the drawn panel and listing substitutes (from
sortition's events), vacating a seat, and offering it to the next substitute who keeps the
quotas or asking sortition for a top-up draw. Each function works inside the caller's
transaction and returns the event payloads its change announces."""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from services.common.hookspecs import AssemblyFormat
from services.common.service import ServiceContext
from services.common.web import ApiError
from services.contracts.kleroterion.v1 import sessions_events_pb2 as pb
from services.sessions import models as m
from services.sessions import panel, queries

LEFT = ("declined", "withdrawn")
ANSWERS = ("confirmed", "declined")


def _now() -> datetime:
    return datetime.now(UTC)


def _features_json(features: Mapping[str, str]) -> str:
    return json.dumps({k: str(v) for k, v in features.items()}, sort_keys=True)


def seat_panel(conn: Connection, assembly_id: str,
               drawn: Iterable[tuple[str, Mapping[str, str]]],
               quota_ranges: Iterable[Mapping[str, Any]]) -> None:
    """Offer a seat to every drawn member, with the features the draw carried; the quotas
    of the draw replace any earlier ones (a draw without quotas leaves them as they are)."""
    known = set(conn.scalars(sa.select(m.members.c.member_id)
                             .where(m.members.c.assembly_id == assembly_id)))
    for member_id, features in drawn:
        if member_id in known:
            if features:
                conn.execute(m.members.update().where(m.members.c.assembly_id == assembly_id,
                                                      m.members.c.member_id == member_id)
                             .values(features=_features_json(features), updated_at=_now()))
            continue
        known.add(member_id)
        conn.execute(m.members.insert().values(
            assembly_id=assembly_id, member_id=member_id, status="offered",
            features=_features_json(features), updated_at=_now()))
    quota_ranges = list(quota_ranges)
    if quota_ranges:
        conn.execute(m.quotas.delete().where(m.quotas.c.assembly_id == assembly_id))
        for q in quota_ranges:
            conn.execute(m.quotas.insert().values(assembly_id=assembly_id, feature=q["feature"],
                                                  value=q["value"], min=q["min"], max=q["max"]))


def list_substitutes(conn: Connection, assembly_id: str,
                     drawn: Iterable[tuple[str, Mapping[str, str]]]) -> None:
    """Append drawn substitutes to the reserve list. A top-up draw appends; the order of
    earlier substitutes stands."""
    known = set(conn.scalars(sa.select(m.members.c.member_id)
                             .where(m.members.c.assembly_id == assembly_id)))
    rank = conn.scalar(sa.select(sa.func.coalesce(sa.func.max(m.members.c.substitute_rank), 0))
                       .where(m.members.c.assembly_id == assembly_id)) or 0
    for member_id, features in drawn:
        if member_id in known:
            continue
        known.add(member_id)
        rank += 1
        conn.execute(m.members.insert().values(
            assembly_id=assembly_id, member_id=member_id, status="substitute",
            substitute_rank=rank, features=_features_json(features), updated_at=_now()))


def offer_next(conn: Connection, assembly_id: str, vacated_by: str) -> list[Any]:
    """Offer the vacated seat to the next substitute who keeps the quotas; otherwise open a
    vacancy and ask sortition for a top-up draw."""
    everyone = queries.members(conn, assembly_id)
    seated = [x for x in everyone if x["status"] in panel.SEATED]
    subs = [x for x in everyone if x["status"] == "substitute"]
    chosen = panel.choose_substitute([x["features"] for x in seated],
                                     [(s["member_id"], s["features"]) for s in subs],
                                     queries.quotas(conn, assembly_id))
    if chosen is None:
        vacated = next(x for x in everyone if x["member_id"] == vacated_by)
        conn.execute(m.vacancies.update().where(m.vacancies.c.assembly_id == assembly_id,
                                                m.vacancies.c.vacated_by == vacated_by)
                     .values(state="open"))
        before = conn.scalar(sa.select(m.vacancies.c.before_session).where(
            m.vacancies.c.assembly_id == assembly_id, m.vacancies.c.vacated_by == vacated_by))
        # Sortition keeps the seated on every panel of the top-up and leaves out who left.
        return [pb.ReplacementRequested(
            vacated_by=vacated_by, features=vacated["features"], before_session=before,
            seated_ids=sorted(x["member_id"] for x in seated),
            withdrawn_ids=sorted(x["member_id"] for x in everyone if x["status"] in LEFT))]
    rank = next(s["substitute_rank"] for s in subs if s["member_id"] == chosen)
    conn.execute(m.members.update().where(m.members.c.assembly_id == assembly_id,
                                          m.members.c.member_id == chosen)
                 .values(status="offered", replaces=vacated_by, updated_at=_now()))
    conn.execute(m.vacancies.update().where(m.vacancies.c.assembly_id == assembly_id,
                                            m.vacancies.c.vacated_by == vacated_by)
                 .values(state="filled"))
    return [pb.SeatOffered(vacated_by=vacated_by, substitute_id=chosen, substitute_rank=rank or 0)]


def vacate(conn: Connection, fmt: AssemblyFormat, assembly: Mapping[str, Any],
           member: Mapping[str, Any], status: str, reason: str,
           before_session: int) -> list[Any]:
    if member["status"] not in panel.SEATED:
        raise ApiError("member_id", f"{member['member_id']!r} holds no seat (status "
                                    f"{member['status']})", 409)
    after_cutoff = before_session > fmt.dropout.replace_before_session
    conn.execute(m.members.update().where(m.members.c.assembly_id == assembly["id"],
                                          m.members.c.member_id == member["member_id"])
                 .values(status=status, left_before_session=before_session, updated_at=_now()))
    conn.execute(m.vacancies.insert().values(
        assembly_id=assembly["id"], vacated_by=member["member_id"], before_session=before_session,
        state="not_replaced" if after_cutoff else "open"))
    out: list[Any] = [pb.MemberWithdrew(member_id=member["member_id"],
                                        before_session=before_session, reason=reason,
                                        after_cutoff=after_cutoff)]
    if not after_cutoff:
        out += offer_next(conn, assembly["id"], member["member_id"])
    return out


def fill_open_vacancies(conn: Connection, assembly_id: str) -> list[Any]:
    """Offer open vacancies to substitutes who keep the quotas now (after a top-up draw or
    an import of features); a vacancy still without one is not asked for again."""
    open_ = conn.execute(sa.select(m.vacancies.c.vacated_by).where(
        m.vacancies.c.assembly_id == assembly_id, m.vacancies.c.state == "open")
        .order_by(m.vacancies.c.before_session, m.vacancies.c.vacated_by)).scalars().all()
    out: list[Any] = []
    for vacated_by in open_:
        out += [p for p in offer_next(conn, assembly_id, vacated_by)
                if isinstance(p, pb.SeatOffered)]
    return out


def answer_offer(conn: Connection, ctx: ServiceContext, assembly_id: str, member_id: str,
                 answer: str, reason: str = "declined the seat") -> list[Any]:
    """A member's answer to their seat offer, whether a facilitator records it or the
    member gives it on the registry's page (``seat_answered``): a confirmation takes the
    seat (and fills the seat it replaces), a decline vacates it for the next substitute.
    Raises ApiError naming the field when there is no open offer to answer."""
    if answer not in ANSWERS:
        raise ApiError("answer", "must be 'confirmed' or 'declined'", 422)
    assembly = queries.assembly(conn, assembly_id)
    member = queries.member(conn, assembly_id, member_id)
    if member["status"] != "offered":
        raise ApiError("member_id", f"{member_id!r} has no open seat offer (status "
                                    f"{member['status']})", 409)
    out: list[Any] = [pb.MemberResponded(member_id=member_id, answer=answer)]
    if answer == "confirmed":
        conn.execute(m.members.update().where(m.members.c.assembly_id == assembly_id,
                                              m.members.c.member_id == member_id)
                     .values(status="confirmed", updated_at=_now()))
        if member["replaces"]:
            out.append(pb.SeatFilled(vacated_by=member["replaces"], substitute_id=member_id))
    else:
        out += vacate(conn, queries.assembly_format(ctx, assembly), assembly, member,
                      "declined", reason, queries.next_session(conn, assembly_id))
    return out
