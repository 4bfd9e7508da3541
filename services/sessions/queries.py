"""Reading the service's state: assemblies, the programme, members and quotas, the
composition against the quotas, attendance and table seatings. No writes."""
from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from services.common.hookspecs import AssemblyFormat
from services.common.plugins import PluginError
from services.common.service import ServiceContext
from services.common.web import ApiError, found
from services.sessions import groups, panel, programme
from services.sessions import models as m

# A row as a plain dict of column name -> value.
Row = dict[str, Any]


def assembly(conn: Connection, assembly_id: str) -> Row:
    query = sa.select(m.assemblies).where(m.assemblies.c.id == assembly_id)
    return dict(found(conn.execute(query).mappings().first(), "assembly_id",
                      f"no assembly {assembly_id!r}"))


def assembly_exists(conn: Connection, assembly_id: str) -> bool:
    found = conn.scalar(sa.select(m.assemblies.c.id).where(m.assemblies.c.id == assembly_id))
    return found is not None


def assembly_format(ctx: ServiceContext, row: Row) -> AssemblyFormat:
    try:
        return ctx.plugins.format(row["format"])
    except PluginError as exc:
        raise ApiError("format", exc.reason, 422) from None


def sessions(conn: Connection, assembly_id: str) -> list[Row]:
    rows = conn.execute(sa.select(m.sessions).where(m.sessions.c.assembly_id == assembly_id)
                        .order_by(m.sessions.c.starts_at, m.sessions.c.id)).mappings()
    out = []
    for number, row in enumerate(rows, start=1):
        s = dict(row)
        s["number"] = number
        s["starts_at"], s["ends_at"] = programme.utc(s["starts_at"]), programme.utc(s["ends_at"])
        out.append(s)
    return out


def session(conn: Connection, session_id: str) -> Row:
    query = sa.select(m.sessions).where(m.sessions.c.id == session_id)
    row = found(conn.execute(query).mappings().first(), "session_id",
                f"no session {session_id!r}")
    return next(s for s in sessions(conn, row["assembly_id"]) if s["id"] == session_id)


def agenda(conn: Connection, session_id: str) -> list[Row]:
    return [dict(r) for r in conn.execute(
        sa.select(m.agenda_items).where(m.agenda_items.c.session_id == session_id)
        .order_by(m.agenda_items.c.position)).mappings()]


def guests(conn: Connection, session_id: str) -> list[Row]:
    return [{"kind": r.kind, "name": r.name, "organisation": r.organisation}
            for r in conn.execute(sa.select(m.guests).where(m.guests.c.session_id == session_id)
                                  .order_by(m.guests.c.id))]


def members(conn: Connection, assembly_id: str, statuses: Sequence[str] | None = None) -> list[Row]:
    query = sa.select(m.members).where(m.members.c.assembly_id == assembly_id)
    if statuses:
        query = query.where(m.members.c.status.in_(statuses))
    rows = conn.execute(query.order_by(m.members.c.substitute_rank.nulls_first(),
                                       m.members.c.member_id)).mappings()
    return [{**dict(r), "features": json.loads(r["features"])} for r in rows]


def member(conn: Connection, assembly_id: str, member_id: str) -> Row:
    found = [x for x in members(conn, assembly_id) if x["member_id"] == member_id]
    if not found:
        raise ApiError("member_id", f"{member_id!r} is not on this assembly's panel or "
                                    "substitute list", 404)
    return found[0]


def quotas(conn: Connection, assembly_id: str) -> list[Row]:
    return [dict(r) for r in conn.execute(
        sa.select(m.quotas.c.feature, m.quotas.c.value, m.quotas.c.min, m.quotas.c.max)
        .where(m.quotas.c.assembly_id == assembly_id)
        .order_by(m.quotas.c.feature, m.quotas.c.value)).mappings()]


def programme_view(ctx: ServiceContext, conn: Connection, assembly_id: str, public: bool) -> Row:
    row = assembly(conn, assembly_id)
    planned = sessions(conn, assembly_id)
    out = {"assembly": {"id": row["id"], "name": row["name"],
                        "format": row["format"], "seats": row["seats"]},
           "sessions": [{"id": s["id"], "number": s["number"], "title": s["title"],
                         "starts_at": s["starts_at"].isoformat(),
                         "ends_at": s["ends_at"].isoformat(),
                         "hours": round(programme.hours(s), 2), "place": s["place"],
                         "host": s["host"], "held": s["held_at"] is not None,
                         "agenda": [{k: a[k] for k in ("id", "kind", "title", "minutes")}
                                    for a in agenda(conn, s["id"])],
                         "guests": guests(conn, s["id"])} for s in planned]}
    out["check"] = programme.check(assembly_format(ctx, row), planned)
    seated = members(conn, assembly_id, panel.SEATED)
    if public:
        # Names only with the member's consent; everyone else is counted, not listed.
        out["members"] = {"seated": len(seated),
                          "named": sorted(x["display_name"] for x in seated
                                          if x["name_consent"] and x["display_name"])}
    return out


def next_session(conn: Connection, assembly_id: str) -> int:
    held = [s for s in sessions(conn, assembly_id) if s["held_at"] is not None]
    return len(held) + 1


def composition(conn: Connection, assembly_id: str) -> Row:
    row = assembly(conn, assembly_id)
    everyone = members(conn, assembly_id)
    seated = [x for x in everyone if x["status"] in panel.SEATED]
    report = panel.quota_report([x["features"] for x in seated], quotas(conn, assembly_id))
    vacancies = [dict(r) for r in conn.execute(sa.select(
        m.vacancies.c.vacated_by, m.vacancies.c.before_session, m.vacancies.c.state)
        .where(m.vacancies.c.assembly_id == assembly_id)).mappings()]
    return {"assembly_id": assembly_id, "seats": row["seats"], "seated": len(seated),
            "quotas_ok": all(r["ok"] for r in report), "quotas": report,
            "vacancies": vacancies,
            "members": [{"member_id": x["member_id"], "status": x["status"],
                         "substitute_rank": x["substitute_rank"], "replaces": x["replaces"],
                         "features": x["features"]} for x in everyone]}


def attendance(ctx: ServiceContext, conn: Connection, assembly_id: str) -> Row:
    row = assembly(conn, assembly_id)
    fmt = assembly_format(ctx, row)
    planned_sessions = sessions(conn, assembly_id)
    planned = sum(programme.hours(s) for s in planned_sessions)
    held = [s for s in planned_sessions if s["held_at"] is not None]
    held_hours = sum(programme.hours(s) for s in held)
    remaining = planned - held_hours
    by_id = {s["id"]: s for s in planned_sessions}
    present: dict[str, float] = {}
    for r in conn.execute(sa.select(m.attendance.c.session_id, m.attendance.c.member_id)
                          .where(m.attendance.c.session_id.in_(list(by_id)),
                                 m.attendance.c.present.is_(True))):
        present[r.member_id] = present.get(r.member_id, 0.0) + programme.hours(by_id[r.session_id])
    share = fmt.dropout.min_attendance_share
    rows = []
    for x in members(conn, assembly_id, panel.SEATED):
        attended = round(present.get(x["member_id"], 0.0), 2)
        rows.append({"member_id": x["member_id"], "hours_attended": attended,
                     "flagged": held_hours > 0 and attended < share * held_hours - 1e-9,
                     "cannot_reach_minimum": attended + remaining < share * planned - 1e-9})
    return {"planned_hours": round(planned, 2), "held_hours": round(held_hours, 2),
            "min_attendance_share": share, "members": rows}


def constraints(conn: Connection, assembly_id: str) -> list[groups.Constraint]:
    # Named by position, as in the list the facilitator last sent (constraints[0] …).
    return [groups.Constraint(r.kind, tuple(json.loads(r.members)), r.table_no)
            for r in conn.execute(sa.select(m.group_constraints)
                                  .where(m.group_constraints.c.assembly_id == assembly_id)
                                  .order_by(m.group_constraints.c.id))]


def group_item(conn: Connection, item_id: str) -> tuple[Row, Row]:
    query = sa.select(m.agenda_items).where(m.agenda_items.c.id == item_id)
    item = found(conn.execute(query).mappings().first(), "agenda_item_id",
                 f"no agenda item {item_id!r}")
    if item["kind"] != "group_work":
        raise ApiError("agenda_item_id", f"{item_id!r} is {item['kind']}, not group_work", 422)
    return dict(item), session(conn, item["session_id"])


def present(conn: Connection, assembly_id: str, session_id: str) -> list[Row]:
    """Who sits down at the tables: once check-in has begun, those checked in; before it,
    every seated member not reported absent."""
    marks = {r.member_id: r.present for r in conn.execute(
        sa.select(m.attendance.c.member_id, m.attendance.c.present)
        .where(m.attendance.c.session_id == session_id))}
    seated = members(conn, assembly_id, panel.SEATED)
    if any(marks.values()):
        return [x for x in seated if marks.get(x["member_id"]) is True]
    return [x for x in seated if marks.get(x["member_id"]) is not False]


def tables(conn: Connection, item_id: str) -> list[list[str]]:
    out: dict[int, list[str]] = {}
    for r in conn.execute(sa.select(m.seatings.c.table_no, m.seatings.c.member_id)
                          .where(m.seatings.c.agenda_item_id == item_id)
                          .order_by(m.seatings.c.table_no, m.seatings.c.member_id)):
        out.setdefault(r.table_no, []).append(r.member_id)
    return [out[t] for t in sorted(out)]


def history(conn: Connection, assembly_id: str, except_item: str) -> list[list[list[str]]]:
    rounds: dict[str, dict[int, list[str]]] = {}
    for r in conn.execute(sa.select(m.seatings).where(m.seatings.c.assembly_id == assembly_id,
                                                      m.seatings.c.agenda_item_id != except_item)):
        rounds.setdefault(r.agenda_item_id, {}).setdefault(r.table_no, []).append(r.member_id)
    return [list(t.values()) for t in rounds.values()]
