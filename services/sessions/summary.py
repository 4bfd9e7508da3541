"""The process as it stands, for the evaluation reports: every session, the panel's
composition as drawn and as seated, dropouts and replacements, the guests heard. Counts
only: no member id leaves here. No writes."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from services.contracts.kleroterion.v1 import sessions_events_pb2 as pb
from services.sessions import models as m
from services.sessions import panel, programme, queries


def _drawn(member: Mapping[str, Any]) -> bool:
    # Seated by panel_drawn itself: substitutes carry a rank, and a seat they took names
    # whom they replace.
    return member["substitute_rank"] is None and member["replaces"] is None


def process_summarised(conn: Connection, assembly_id: str, timezone: str) -> pb.ProcessSummarised:
    zone = ZoneInfo(timezone)
    seats = conn.scalar(sa.select(m.assemblies.c.seats).where(m.assemblies.c.id == assembly_id))
    planned = queries.sessions(conn, assembly_id)
    held_ids = [s["id"] for s in planned if s["held_at"] is not None]
    marks: dict[str, tuple[int, int]] = {}
    for session_id, present, marked in conn.execute(
            sa.select(m.attendance.c.session_id,
                      sa.func.sum(sa.case((m.attendance.c.present.is_(True), 1), else_=0)),
                      sa.func.count())
            .where(m.attendance.c.session_id.in_(held_ids)).group_by(m.attendance.c.session_id)):
        marks[session_id] = (int(present or 0), marked)
    sessions = []
    for s in planned:
        held = s["held_at"] is not None
        present, marked = marks.get(s["id"], (0, 0))
        # Who held a seat when the session was recorded as held; a session held before that
        # was stored counts those whose attendance was taken.
        seated = (s["seated"] if s["seated"] is not None else marked) if held else 0
        sessions.append(pb.SessionSummary(
            session_id=s["id"], title=s["title"],
            date=s["starts_at"].astimezone(zone).date().isoformat(),
            planned_hours=programme.hours(s), held=held, present=present if held else 0,
            seated=seated))

    everyone = queries.members(conn, assembly_id)
    drawn = panel.counts(x["features"] for x in everyone if _drawn(x))
    seated_now = panel.counts(x["features"] for x in everyone if x["status"] in panel.SEATED)
    quotas = queries.quotas(conn, assembly_id)
    # The quota categories, and any value a member has that no quota names; without quotas,
    # every feature the draw carried.
    features = {q["feature"] for q in quotas} or {f for f, _ in drawn + seated_now}
    categories = sorted({(q["feature"], q["value"]) for q in quotas}
                        | {k for k in drawn + seated_now if k[0] in features})
    composition = [pb.CompositionCount(feature=f, value=v, drawn=drawn[(f, v)],
                                       seated=seated_now[(f, v)]) for f, v in categories]

    vacancies = [r.state for r in conn.execute(
        sa.select(m.vacancies.c.state).where(m.vacancies.c.assembly_id == assembly_id))]
    substitutes_seated = [x for x in everyone if x["replaces"] is not None]
    guests = []
    for s in planned:
        if s["id"] in held_ids:
            guests += [pb.GuestHeard(session_id=s["id"], **g)
                       for g in queries.guests(conn, s["id"])]
    return pb.ProcessSummarised(
        sessions=sessions, composition=composition, seats=seats or 0,
        # Every seat given up, declined or withdrawn from, by a drawn member or a substitute:
        # one vacancy each, as each was announced by member_withdrew.
        withdrawals=len(vacancies),
        withdrawals_after_cutoff=vacancies.count("not_replaced"),
        replacements=sum(1 for x in substitutes_seated if x["status"] != "declined"),
        open_vacancies=vacancies.count("open"),
        guests=guests,
        declined_offers=sum(1 for x in substitutes_seated if x["status"] == "declined"))
