"""The sessions service: the programme, the panel's seats, attendance, rotating groups and
dropouts, after sortition has drawn the panel (Flask).

Operators call the JSON API under ``/api`` with a bearer token; the public (and observers)
read the programme under ``/public`` without one. Events come in from sortition and the
platform (``panel_drawn``, ``substitutes_drawn``, ``assembly_created``) and go out for
every change of a seat, a session held, a flag and a seating summary.
"""
from __future__ import annotations

import io
import json
import uuid
from datetime import date, datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Blueprint, Flask, Response, current_app, jsonify, render_template, request

from services.common import audit, events, storage
from services.common.auth import current_principal, require
from services.common.plugins import PluginError
from services.common.service import ServiceContext, build_context, create_flask_app
from services.common.web import ApiError
from services.contracts.kleroterion.v1 import sessions_events_pb2 as pb
from services.sessions import groups, panel, programme
from services.sessions import models as m
from services.sessions.migrations import MIGRATIONS
from services.sessions.settings import Settings

ROLES = ("platform_operator", "host", "facilitator", "observer")
READERS = ROLES
PLANNERS = ("platform_operator", "host")
FACILITATORS = ("platform_operator", "facilitator")
CONSUMER_GROUP = "sessions"
CONSUMED = ("assembly_created", "panel_drawn", "substitutes_drawn")


def build(settings: Settings | None = None, *, bus=None, plugins=None) -> ServiceContext:
    return build_context(settings or Settings.from_env(), roles=ROLES, migrations=MIGRATIONS,
                         bus=bus, plugins=plugins)


def _ctx() -> ServiceContext:
    return current_app.extensions["kleroterion.context"]


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _publish(ctx: ServiceContext, assembly_id: str, payloads) -> None:
    # After the commit: an event never announces a change that was rolled back.
    for payload in payloads:
        ctx.bus.publish(events.new_event(payload, assembly_id=assembly_id,
                                         region=ctx.settings.region, producer="sessions"))


def _audit(conn, action: str, target: str, detail: dict | None = None) -> None:
    who = current_principal()
    audit.record(conn, actor=who.subject, role=who.role, action=action, target=target,
                 detail=detail)


def _body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError("body", "must be a JSON object")
    return data


def _text(data: dict, name: str, required: bool = True, default: str = "") -> str:
    value = data.get(name, default)
    if not isinstance(value, str) or (required and not value.strip()):
        raise ApiError(name, "is required (a non-empty string)" if required else "must be a string", 422)
    return value.strip()


def _int(data: dict, name: str, default: int | None = None, minimum: int = 0) -> int:
    value = data.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ApiError(name, f"must be a whole number of at least {minimum}", 422)
    return value


def _when(data: dict, name: str, tz: str) -> datetime:
    raw = _text(data, name)
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise ApiError(name, f"not an ISO 8601 date-time: {raw!r}", 422) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(tz))
    return value.astimezone(timezone.utc)


# --- reading state ------------------------------------------------------------------------


def _assembly(conn, assembly_id: str) -> dict:
    row = conn.execute(sa.select(m.assemblies).where(m.assemblies.c.id == assembly_id)).mappings().first()
    if row is None:
        raise ApiError("assembly_id", f"no assembly {assembly_id!r}", 404)
    return dict(row)


def _format(ctx: ServiceContext, assembly: dict):
    try:
        return ctx.plugins.format(assembly["format"])
    except PluginError as exc:
        raise ApiError("format", exc.reason, 422) from None


def _sessions(conn, assembly_id: str) -> list[dict]:
    rows = conn.execute(sa.select(m.sessions).where(m.sessions.c.assembly_id == assembly_id)
                        .order_by(m.sessions.c.starts_at, m.sessions.c.id)).mappings()
    out = []
    for number, row in enumerate(rows, start=1):
        s = dict(row)
        s["number"] = number
        s["starts_at"], s["ends_at"] = programme.utc(s["starts_at"]), programme.utc(s["ends_at"])
        out.append(s)
    return out


def _session(conn, session_id: str) -> dict:
    row = conn.execute(sa.select(m.sessions).where(m.sessions.c.id == session_id)).mappings().first()
    if row is None:
        raise ApiError("session_id", f"no session {session_id!r}", 404)
    return next(s for s in _sessions(conn, row["assembly_id"]) if s["id"] == session_id)


def _agenda(conn, session_id: str) -> list[dict]:
    return [dict(r) for r in conn.execute(
        sa.select(m.agenda_items).where(m.agenda_items.c.session_id == session_id)
        .order_by(m.agenda_items.c.position)).mappings()]


def _guests(conn, session_id: str) -> list[dict]:
    return [{"kind": r.kind, "name": r.name, "organisation": r.organisation}
            for r in conn.execute(sa.select(m.guests).where(m.guests.c.session_id == session_id)
                                  .order_by(m.guests.c.id))]


def _members(conn, assembly_id: str, statuses=None) -> list[dict]:
    query = sa.select(m.members).where(m.members.c.assembly_id == assembly_id)
    if statuses:
        query = query.where(m.members.c.status.in_(statuses))
    rows = conn.execute(query.order_by(m.members.c.substitute_rank.nulls_first(),
                                       m.members.c.member_id)).mappings()
    return [{**dict(r), "features": json.loads(r["features"])} for r in rows]


def _member(conn, assembly_id: str, member_id: str) -> dict:
    found = [x for x in _members(conn, assembly_id) if x["member_id"] == member_id]
    if not found:
        raise ApiError("member_id", f"{member_id!r} is not on this assembly's panel or "
                                    "substitute list", 404)
    return found[0]


def _quotas(conn, assembly_id: str) -> list[dict]:
    return [dict(r) for r in conn.execute(
        sa.select(m.quotas.c.feature, m.quotas.c.value, m.quotas.c.min, m.quotas.c.max)
        .where(m.quotas.c.assembly_id == assembly_id)
        .order_by(m.quotas.c.feature, m.quotas.c.value)).mappings()]


def _programme(ctx: ServiceContext, conn, assembly_id: str, public: bool) -> dict:
    assembly = _assembly(conn, assembly_id)
    sessions = _sessions(conn, assembly_id)
    out = {"assembly": {"id": assembly["id"], "name": assembly["name"],
                        "format": assembly["format"], "seats": assembly["seats"]},
           "sessions": [{"id": s["id"], "number": s["number"], "title": s["title"],
                         "starts_at": s["starts_at"].isoformat(),
                         "ends_at": s["ends_at"].isoformat(),
                         "hours": round(programme.hours(s), 2), "place": s["place"],
                         "host": s["host"], "held": s["held_at"] is not None,
                         "agenda": [{k: a[k] for k in ("id", "kind", "title", "minutes")}
                                    for a in _agenda(conn, s["id"])],
                         "guests": _guests(conn, s["id"])} for s in sessions]}
    out["check"] = programme.check(_format(ctx, assembly), sessions)
    seated = _members(conn, assembly_id, panel.SEATED)
    if public:
        # Names only with the member's consent; everyone else is counted, not listed.
        out["members"] = {"seated": len(seated),
                          "named": sorted(x["display_name"] for x in seated
                                          if x["name_consent"] and x["display_name"])}
    return out


def _next_session(conn, assembly_id: str) -> int:
    held = [s for s in _sessions(conn, assembly_id) if s["held_at"] is not None]
    return len(held) + 1


# --- seats and dropouts -------------------------------------------------------------------


def _offer_next(conn, ctx, assembly_id: str, vacated_by: str) -> list:
    """Offer the vacated seat to the next substitute who keeps the quotas; otherwise open a
    vacancy and ask sortition for a top-up draw."""
    seated = [x["features"] for x in _members(conn, assembly_id, panel.SEATED)]
    subs = _members(conn, assembly_id, ("substitute",))
    quotas = _quotas(conn, assembly_id)
    chosen = panel.choose_substitute(seated, [(s["member_id"], s["features"]) for s in subs], quotas)
    if chosen is None:
        vacated = _member(conn, assembly_id, vacated_by)
        conn.execute(m.vacancies.update().where(m.vacancies.c.assembly_id == assembly_id,
                                                m.vacancies.c.vacated_by == vacated_by)
                     .values(state="open"))
        before = conn.scalar(sa.select(m.vacancies.c.before_session).where(
            m.vacancies.c.assembly_id == assembly_id, m.vacancies.c.vacated_by == vacated_by))
        return [pb.ReplacementRequested(vacated_by=vacated_by, features=vacated["features"],
                                        before_session=before)]
    rank = next(s["substitute_rank"] for s in subs if s["member_id"] == chosen)
    conn.execute(m.members.update().where(m.members.c.assembly_id == assembly_id,
                                          m.members.c.member_id == chosen)
                 .values(status="offered", replaces=vacated_by, updated_at=_now()))
    conn.execute(m.vacancies.update().where(m.vacancies.c.assembly_id == assembly_id,
                                            m.vacancies.c.vacated_by == vacated_by)
                 .values(state="filled"))
    return [pb.SeatOffered(vacated_by=vacated_by, substitute_id=chosen, substitute_rank=rank or 0)]


def _vacate(conn, ctx, assembly: dict, member: dict, status: str, reason: str,
            before_session: int) -> list:
    if member["status"] not in panel.SEATED:
        raise ApiError("member_id", f"{member['member_id']!r} holds no seat (status "
                                    f"{member['status']})", 409)
    fmt = _format(ctx, assembly)
    after_cutoff = before_session > fmt.dropout.replace_before_session
    conn.execute(m.members.update().where(m.members.c.assembly_id == assembly["id"],
                                          m.members.c.member_id == member["member_id"])
                 .values(status=status, left_before_session=before_session, updated_at=_now()))
    conn.execute(m.vacancies.insert().values(
        assembly_id=assembly["id"], vacated_by=member["member_id"], before_session=before_session,
        state="not_replaced" if after_cutoff else "open"))
    out: list = [pb.MemberWithdrew(member_id=member["member_id"], before_session=before_session,
                                   reason=reason, after_cutoff=after_cutoff)]
    if not after_cutoff:
        out += _offer_next(conn, ctx, assembly["id"], member["member_id"])
    return out


def _fill_open_vacancies(conn, ctx, assembly_id: str) -> list:
    open_ = conn.execute(sa.select(m.vacancies.c.vacated_by).where(
        m.vacancies.c.assembly_id == assembly_id, m.vacancies.c.state == "open")
        .order_by(m.vacancies.c.before_session, m.vacancies.c.vacated_by)).scalars().all()
    out = []
    for vacated_by in open_:
        out += [p for p in _offer_next(conn, ctx, assembly_id, vacated_by)
                if isinstance(p, pb.SeatOffered)]
    return out


def _composition(conn, assembly_id: str) -> dict:
    assembly = _assembly(conn, assembly_id)
    everyone = _members(conn, assembly_id)
    seated = [x for x in everyone if x["status"] in panel.SEATED]
    report = panel.quota_report([x["features"] for x in seated], _quotas(conn, assembly_id))
    vacancies = [dict(r) for r in conn.execute(sa.select(
        m.vacancies.c.vacated_by, m.vacancies.c.before_session, m.vacancies.c.state)
        .where(m.vacancies.c.assembly_id == assembly_id)).mappings()]
    return {"assembly_id": assembly_id, "seats": assembly["seats"], "seated": len(seated),
            "quotas_ok": all(r["ok"] for r in report), "quotas": report,
            "vacancies": vacancies,
            "members": [{"member_id": x["member_id"], "status": x["status"],
                         "substitute_rank": x["substitute_rank"], "replaces": x["replaces"],
                         "features": x["features"]} for x in everyone]}


# --- attendance ---------------------------------------------------------------------------


def _attendance(ctx, conn, assembly_id: str) -> dict:
    assembly = _assembly(conn, assembly_id)
    fmt = _format(ctx, assembly)
    sessions = _sessions(conn, assembly_id)
    planned = sum(programme.hours(s) for s in sessions)
    held = [s for s in sessions if s["held_at"] is not None]
    held_hours = sum(programme.hours(s) for s in held)
    remaining = planned - held_hours
    by_id = {s["id"]: s for s in sessions}
    present: dict[str, float] = {}
    for r in conn.execute(sa.select(m.attendance.c.session_id, m.attendance.c.member_id)
                          .where(m.attendance.c.session_id.in_(list(by_id)),
                                 m.attendance.c.present.is_(True))):
        present[r.member_id] = present.get(r.member_id, 0.0) + programme.hours(by_id[r.session_id])
    share = fmt.dropout.min_attendance_share
    rows = []
    for x in _members(conn, assembly_id, panel.SEATED):
        attended = round(present.get(x["member_id"], 0.0), 2)
        rows.append({"member_id": x["member_id"], "hours_attended": attended,
                     "flagged": held_hours > 0 and attended < share * held_hours - 1e-9,
                     "cannot_reach_minimum": attended + remaining < share * planned - 1e-9})
    return {"planned_hours": round(planned, 2), "held_hours": round(held_hours, 2),
            "min_attendance_share": share, "members": rows}


# --- groups -------------------------------------------------------------------------------


def _constraints(conn, assembly_id: str) -> list[groups.Constraint]:
    # Named by position, as in the list the facilitator last sent (constraints[0] …).
    return [groups.Constraint(r.kind, tuple(json.loads(r.members)), r.table_no)
            for r in conn.execute(sa.select(m.group_constraints)
                                  .where(m.group_constraints.c.assembly_id == assembly_id)
                                  .order_by(m.group_constraints.c.id))]


def _group_item(conn, item_id: str) -> tuple[dict, dict]:
    item = conn.execute(sa.select(m.agenda_items).where(m.agenda_items.c.id == item_id)).mappings().first()
    if item is None:
        raise ApiError("agenda_item_id", f"no agenda item {item_id!r}", 404)
    if item["kind"] != "group_work":
        raise ApiError("agenda_item_id", f"{item_id!r} is {item['kind']}, not group_work", 422)
    return dict(item), _session(conn, item["session_id"])


def _present(conn, assembly_id: str, session_id: str) -> list[dict]:
    """Who sits down at the tables: once check-in has begun, those checked in; before it,
    every seated member not reported absent."""
    marks = {r.member_id: r.present for r in conn.execute(
        sa.select(m.attendance.c.member_id, m.attendance.c.present)
        .where(m.attendance.c.session_id == session_id))}
    seated = _members(conn, assembly_id, panel.SEATED)
    if any(marks.values()):
        return [x for x in seated if marks.get(x["member_id"]) is True]
    return [x for x in seated if marks.get(x["member_id"]) is not False]


def _tables(conn, item_id: str) -> list[list[str]]:
    tables: dict[int, list[str]] = {}
    for r in conn.execute(sa.select(m.seatings.c.table_no, m.seatings.c.member_id)
                          .where(m.seatings.c.agenda_item_id == item_id)
                          .order_by(m.seatings.c.table_no, m.seatings.c.member_id)):
        tables.setdefault(r.table_no, []).append(r.member_id)
    return [tables[t] for t in sorted(tables)]


def _history(conn, assembly_id: str, except_item: str) -> list[list[list[str]]]:
    rounds: dict[str, dict[int, list[str]]] = {}
    for r in conn.execute(sa.select(m.seatings).where(m.seatings.c.assembly_id == assembly_id,
                                                      m.seatings.c.agenda_item_id != except_item)):
        rounds.setdefault(r.agenda_item_id, {}).setdefault(r.table_no, []).append(r.member_id)
    return [list(t.values()) for t in rounds.values()]


# --- the blueprints -----------------------------------------------------------------------


def api_blueprint() -> Blueprint:
    bp = Blueprint("sessions_api", __name__, url_prefix="/api")

    @bp.post("/assemblies")
    @require(*PLANNERS)
    def create_assembly():
        ctx, data = _ctx(), _body()
        assembly_id = _text(data, "id")
        name = _text(data, "name")
        try:
            fmt = ctx.plugins.format(_text(data, "format"))
        except PluginError as exc:
            raise ApiError("format", exc.reason, 422) from None
        seats = _int(data, "seats", fmt.default_seats, minimum=1)
        try:
            fmt.check_seats(seats)
        except ValueError as exc:
            raise ApiError("seats", str(exc).split(": ", 1)[-1], 422) from None
        with ctx.engine.begin() as conn:
            if conn.scalar(sa.select(m.assemblies.c.id).where(m.assemblies.c.id == assembly_id)):
                raise ApiError("id", f"assembly {assembly_id!r} exists", 409)
            conn.execute(m.assemblies.insert().values(id=assembly_id, name=name, format=fmt.name,
                                                      seats=seats, created_at=_now()))
            _audit(conn, "assembly.create", f"assembly:{assembly_id}",
                   {"format": fmt.name, "seats": seats})
        return jsonify(id=assembly_id, format=fmt.name, seats=seats), 201

    @bp.post("/assemblies/<assembly_id>/sessions")
    @require(*PLANNERS)
    def add_session(assembly_id):
        ctx, data = _ctx(), _body()
        with ctx.engine.begin() as conn:
            _assembly(conn, assembly_id)
            session_id = _insert_session(conn, ctx, assembly_id, data)
            _audit(conn, "session.create", f"session:{session_id}", {"assembly_id": assembly_id})
            result = _programme(ctx, conn, assembly_id, public=False)
        return jsonify(id=session_id, check=result["check"]), 201

    @bp.post("/assemblies/<assembly_id>/programme/draft")
    @require(*PLANNERS)
    def draft_programme(assembly_id):
        ctx, data = _ctx(), _body()
        try:
            start = date.fromisoformat(_text(data, "start_date"))
        except ValueError:
            raise ApiError("start_date", "not an ISO date (YYYY-MM-DD)", 422) from None
        place, host = _text(data, "place"), _text(data, "host")
        every = _int(data, "every_days", 7, minimum=1)
        with ctx.engine.begin() as conn:
            assembly = _assembly(conn, assembly_id)
            if _sessions(conn, assembly_id):
                raise ApiError("assembly_id", "the programme already has sessions", 409)
            fmt = _format(ctx, assembly)
            for s in programme.draft(fmt, start, place, host, ctx.settings.timezone, every):
                _insert_session(conn, ctx, assembly_id, {
                    **s, "starts_at": s["starts_at"].isoformat(),
                    "ends_at": s["ends_at"].isoformat()})
            _audit(conn, "programme.draft", f"assembly:{assembly_id}", {"format": fmt.name})
            result = _programme(ctx, conn, assembly_id, public=False)
        return jsonify(result), 201

    @bp.get("/assemblies/<assembly_id>/programme")
    @require(*READERS)
    def get_programme(assembly_id):
        ctx = _ctx()
        with ctx.engine.connect() as conn:
            return jsonify(_programme(ctx, conn, assembly_id, public=False))

    @bp.put("/assemblies/<assembly_id>/composition")
    @require("platform_operator")
    def import_composition(assembly_id):
        """Features (and names with consent) of the drawn members, and the quotas; the
        events from sortition carry only pseudonymous ids."""
        ctx, data = _ctx(), _body()
        people = data.get("members", {})
        if not isinstance(people, dict):
            raise ApiError("members", "must map member ids to {features, name, name_consent}", 422)
        quotas = data.get("quotas", [])
        if not isinstance(quotas, list):
            raise ApiError("quotas", "must be a list of {feature, value, min, max}", 422)
        clean_quotas = []
        for k, q in enumerate(quotas):
            if not isinstance(q, dict):
                raise ApiError(f"quotas[{k}]", "must be an object", 422)
            lo, hi = _int(q, "min", 0), _int(q, "max", 0)
            if lo > hi:
                raise ApiError(f"quotas[{k}]", f"min {lo} is above max {hi}", 422)
            clean_quotas.append({"feature": _text(q, "feature"), "value": str(q.get("value", "")),
                                 "min": lo, "max": hi})
        with ctx.engine.begin() as conn:
            _assembly(conn, assembly_id)
            known = {x["member_id"] for x in _members(conn, assembly_id)}
            for member_id, info in people.items():
                if member_id not in known:
                    raise ApiError(f"members.{member_id}", "not on this assembly's panel or "
                                                           "substitute list", 422)
                feats = (info or {}).get("features", {})
                if not isinstance(feats, dict):
                    raise ApiError(f"members.{member_id}.features", "must be an object", 422)
                values: dict[str, Any] = {"features": json.dumps({k: str(v) for k, v in feats.items()},
                                                                 sort_keys=True),
                                          "updated_at": _now()}
                if "name" in info:
                    values["display_name"] = str(info["name"]) or None
                if "name_consent" in info:
                    values["name_consent"] = bool(info["name_consent"])
                conn.execute(m.members.update().where(m.members.c.assembly_id == assembly_id,
                                                      m.members.c.member_id == member_id)
                             .values(**values))
            if "quotas" in data:
                conn.execute(m.quotas.delete().where(m.quotas.c.assembly_id == assembly_id))
                for q in clean_quotas:
                    conn.execute(m.quotas.insert().values(assembly_id=assembly_id, **q))
            # Features may arrive after a top-up draw's ids: an open vacancy can fill now.
            out = _fill_open_vacancies(conn, ctx, assembly_id)
            _audit(conn, "composition.import", f"assembly:{assembly_id}",
                   {"members": len(people), "quotas": len(clean_quotas)})
            result = _composition(conn, assembly_id)
        _publish(ctx, assembly_id, out)
        return jsonify(result)

    @bp.get("/assemblies/<assembly_id>/composition")
    @require(*READERS)
    def get_composition(assembly_id):
        with _ctx().engine.connect() as conn:
            return jsonify(_composition(conn, assembly_id))

    @bp.post("/assemblies/<assembly_id>/members/<member_id>/response")
    @require(*FACILITATORS)
    def respond(assembly_id, member_id):
        ctx, data = _ctx(), _body()
        answer = _text(data, "answer")
        if answer not in ("confirmed", "declined"):
            raise ApiError("answer", "must be 'confirmed' or 'declined'", 422)
        with ctx.engine.begin() as conn:
            assembly = _assembly(conn, assembly_id)
            member = _member(conn, assembly_id, member_id)
            if member["status"] != "offered":
                raise ApiError("member_id", f"{member_id!r} has no open seat offer (status "
                                            f"{member['status']})", 409)
            out: list = [pb.MemberResponded(member_id=member_id, answer=answer)]
            if answer == "confirmed":
                conn.execute(m.members.update().where(m.members.c.assembly_id == assembly_id,
                                                      m.members.c.member_id == member_id)
                             .values(status="confirmed", updated_at=_now()))
                if member["replaces"]:
                    out.append(pb.SeatFilled(vacated_by=member["replaces"], substitute_id=member_id))
            else:
                out += _vacate(conn, ctx, assembly, member, "declined", "declined the seat",
                               _next_session(conn, assembly_id))
            _audit(conn, f"member.{answer}", f"assembly:{assembly_id}", {"member_id": member_id})
            result = _composition(conn, assembly_id)
        _publish(ctx, assembly_id, out)
        return jsonify(result)

    @bp.post("/assemblies/<assembly_id>/members/<member_id>/withdraw")
    @require(*FACILITATORS)
    def withdraw(assembly_id, member_id):
        ctx, data = _ctx(), _body()
        reason = _text(data, "reason", required=False)
        with ctx.engine.begin() as conn:
            assembly = _assembly(conn, assembly_id)
            member = _member(conn, assembly_id, member_id)
            before = _int(data, "before_session", _next_session(conn, assembly_id), minimum=1)
            out = _vacate(conn, ctx, assembly, member, "withdrawn", reason, before)
            _audit(conn, "member.withdraw", f"assembly:{assembly_id}",
                   {"member_id": member_id, "before_session": before})
            result = _composition(conn, assembly_id)
        _publish(ctx, assembly_id, out)
        return jsonify(result)

    @bp.put("/sessions/<session_id>/attendance")
    @require(*FACILITATORS)
    def check_in(session_id):
        ctx, data = _ctx(), _body()
        member_id = _text(data, "member_id")
        present = data.get("present")
        if not isinstance(present, bool):
            raise ApiError("present", "must be true or false", 422)
        with ctx.engine.begin() as conn:
            session = _session(conn, session_id)
            member = _member(conn, session["assembly_id"], member_id)
            if member["status"] not in panel.SEATED:
                raise ApiError("member_id", f"{member_id!r} holds no seat", 409)
            conn.execute(m.attendance.delete().where(m.attendance.c.session_id == session_id,
                                                     m.attendance.c.member_id == member_id))
            conn.execute(m.attendance.insert().values(
                session_id=session_id, member_id=member_id, present=present, recorded_at=_now(),
                recorded_by=current_principal().subject))
            _audit(conn, "attendance.record", f"session:{session_id}",
                   {"member_id": member_id, "present": present})
        return jsonify(session_id=session_id, member_id=member_id, present=present)

    @bp.get("/sessions/<session_id>/attendance")
    @require(*READERS)
    def session_attendance(session_id):
        with _ctx().engine.connect() as conn:
            session = _session(conn, session_id)
            marks = {r.member_id: r.present for r in conn.execute(
                sa.select(m.attendance).where(m.attendance.c.session_id == session_id))}
            seated = _members(conn, session["assembly_id"], panel.SEATED)
        return jsonify(session_id=session_id, members=[
            {"member_id": x["member_id"], "present": marks.get(x["member_id"]),
             "name": x["display_name"] if x["name_consent"] else None} for x in seated])

    @bp.post("/sessions/<session_id>/held")
    @require(*FACILITATORS)
    def session_held(session_id):
        ctx = _ctx()
        with ctx.engine.begin() as conn:
            session = _session(conn, session_id)
            if session["held_at"] is not None:
                raise ApiError("session_id", "the session is already recorded as held", 409)
            conn.execute(m.sessions.update().where(m.sessions.c.id == session_id)
                         .values(held_at=_now()))
            assembly_id = session["assembly_id"]
            present = conn.scalar(sa.select(sa.func.count()).select_from(m.attendance).where(
                m.attendance.c.session_id == session_id, m.attendance.c.present.is_(True)))
            seated = len(_members(conn, assembly_id, panel.SEATED))
            report = _attendance(ctx, conn, assembly_id)
            _audit(conn, "session.held", f"session:{session_id}", {"present": present})
        out: list = [pb.SessionHeld(session_id=session_id, hours=programme.hours(session),
                                    present=present, seated=seated)]
        out += [pb.AttendanceFlagged(member_id=r["member_id"], hours_attended=r["hours_attended"],
                                     hours_held=report["held_hours"],
                                     min_share=report["min_attendance_share"])
                for r in report["members"] if r["flagged"]]
        _publish(ctx, assembly_id, out)
        return jsonify(report)

    @bp.get("/assemblies/<assembly_id>/attendance")
    @require(*READERS)
    def assembly_attendance(assembly_id):
        ctx = _ctx()
        with ctx.engine.connect() as conn:
            return jsonify(_attendance(ctx, conn, assembly_id))

    @bp.put("/assemblies/<assembly_id>/group-constraints")
    @require(*FACILITATORS)
    def set_constraints(assembly_id):
        ctx, data = _ctx(), _body()
        items = data.get("constraints")
        if not isinstance(items, list):
            raise ApiError("constraints", "must be a list of {kind, members, table}", 422)
        rows = []
        for k, c in enumerate(items):
            field = f"constraints[{k}]"
            if not isinstance(c, dict) or c.get("kind") not in groups.KINDS:
                raise ApiError(f"{field}.kind", f"must be one of {', '.join(groups.KINDS)}", 422)
            members = c.get("members")
            if not (isinstance(members, list) and members and all(isinstance(x, str) for x in members)):
                raise ApiError(f"{field}.members", "must be a non-empty list of member ids", 422)
            if c["kind"] != "fixed" and len(members) < 2:
                raise ApiError(f"{field}.members", f"'{c['kind']}' needs at least two members", 422)
            table = c.get("table")
            if c["kind"] == "fixed":
                table = _int(c, "table", minimum=1)
            rows.append({"kind": c["kind"], "members": json.dumps(members), "table_no": table})
        with ctx.engine.begin() as conn:
            _assembly(conn, assembly_id)
            known = {x["member_id"] for x in _members(conn, assembly_id)}
            for k, row in enumerate(rows):
                unknown = [x for x in json.loads(row["members"]) if x not in known]
                if unknown:
                    raise ApiError(f"constraints[{k}].members", f"unknown members: {', '.join(unknown)}", 422)
            conn.execute(m.group_constraints.delete()
                         .where(m.group_constraints.c.assembly_id == assembly_id))
            for row in rows:
                conn.execute(m.group_constraints.insert().values(assembly_id=assembly_id, **row))
            _audit(conn, "groups.constraints", f"assembly:{assembly_id}", {"count": len(rows)})
        return jsonify(count=len(rows))

    @bp.post("/agenda-items/<item_id>/groups")
    @require(*FACILITATORS)
    def assign_groups(item_id):
        ctx, data = _ctx(), _body()
        with ctx.engine.begin() as conn:
            item, session = _group_item(conn, item_id)
            assembly_id = session["assembly_id"]
            size = _int(data, "table_size", item["table_size"] or ctx.settings.default_table_size,
                        minimum=2)
            seed = data.get("seed", item_id)
            present = _present(conn, assembly_id, session["id"])
            history = _history(conn, assembly_id, item_id)
            try:
                tables = groups.assign_round(
                    [x["member_id"] for x in present], {x["member_id"]: x["features"] for x in present},
                    size, met=groups.count_pairs(history),
                    constraints=_constraints(conn, assembly_id), seed=str(seed))
            except groups.GroupingError as exc:
                raise ApiError(exc.field, exc.reason, 422) from None
            conn.execute(m.seatings.delete().where(m.seatings.c.agenda_item_id == item_id))
            for number, table in enumerate(tables, start=1):
                for member_id in table:
                    conn.execute(m.seatings.insert().values(
                        agenda_item_id=item_id, member_id=member_id, assembly_id=assembly_id,
                        table_no=number))
            stats = groups.pair_stats([*history, tables])
            _audit(conn, "groups.assign", f"agenda_item:{item_id}",
                   {"tables": len(tables), "seated": len(present), "seed": str(seed)})
        _publish(ctx, assembly_id, [pb.GroupsAssigned(
            session_id=session["id"], agenda_item_id=item_id, tables=len(tables),
            seated=len(present), distinct_pairs_so_far=stats["distinct_pairs"],
            repeat_pairs_so_far=stats["repeat_pairings"])])
        return jsonify(agenda_item_id=item_id, tables=tables, **stats)

    @bp.get("/agenda-items/<item_id>/groups")
    @require(*READERS)
    def get_groups(item_id):
        with _ctx().engine.connect() as conn:
            _group_item(conn, item_id)
            return jsonify(agenda_item_id=item_id, tables=_tables(conn, item_id))

    @bp.get("/sessions/<session_id>/table-plan")
    @require(*READERS)
    def table_plan(session_id):
        with _ctx().engine.connect() as conn:
            session = _session(conn, session_id)
            assembly = _assembly(conn, session["assembly_id"])
            names = {x["member_id"]: (x["display_name"] if x["name_consent"] and x["display_name"]
                                      else None)
                     for x in _members(conn, assembly["id"])}
            slots = [{"item": a, "tables": _tables(conn, a["id"])} for a in _agenda(conn, session_id)
                     if a["kind"] == "group_work"]
        lang = _lang()
        if request.args.get("format") == "pdf":
            return Response(_table_plan_pdf(assembly, session, slots, names), mimetype="application/pdf")
        return render_template("table_plan.html", lang=lang, t=TEXT[lang], assembly=assembly,
                               session=session, slots=slots, names=names,
                               local=_local_time(_ctx()))

    @bp.get("/audit")
    @require("platform_operator", "observer")
    def audit_log():
        after = request.args.get("after", "0")
        rows = audit.entries(_ctx().engine, after_id=int(after) if after.isdigit() else 0)
        return jsonify(entries=[{"id": e.id, "at": e.at.isoformat(), "actor": e.actor,
                                 "role": e.role, "action": e.action, "target": e.target,
                                 "detail": e.detail} for e in rows])

    return bp


def _insert_session(conn, ctx, assembly_id: str, data: dict) -> str:
    tz = ctx.settings.timezone
    starts, ends = _when(data, "starts_at", tz), _when(data, "ends_at", tz)
    if ends <= starts:
        raise ApiError("ends_at", "must be after starts_at", 422)
    session_id = data.get("id") or uuid.uuid4().hex[:12]
    if conn.scalar(sa.select(m.sessions.c.id).where(m.sessions.c.id == session_id)):
        raise ApiError("id", f"session {session_id!r} exists", 409)
    agenda = data.get("agenda", [])
    guests = data.get("guests", [])
    if not isinstance(agenda, list) or not isinstance(guests, list):
        raise ApiError("agenda", "agenda and guests must be lists", 422)
    conn.execute(m.sessions.insert().values(
        id=session_id, assembly_id=assembly_id, title=_text(data, "title"), starts_at=starts,
        ends_at=ends, place=_text(data, "place"), host=_text(data, "host")))
    for k, a in enumerate(agenda):
        if not isinstance(a, dict) or a.get("kind") not in programme.AGENDA_KINDS:
            raise ApiError(f"agenda[{k}].kind", f"must be one of {', '.join(programme.AGENDA_KINDS)}", 422)
        table_size = a.get("table_size")
        if table_size is not None:
            table_size = _int(a, "table_size", minimum=2)
        conn.execute(m.agenda_items.insert().values(
            id=a.get("id") or f"{session_id}-{k + 1}", session_id=session_id, position=k,
            kind=a["kind"], title=_text(a, "title"), minutes=_int(a, "minutes", minimum=1),
            table_size=table_size))
    for k, g_ in enumerate(guests):
        if not isinstance(g_, dict) or g_.get("kind") not in programme.GUEST_KINDS:
            raise ApiError(f"guests[{k}].kind", f"must be one of {', '.join(programme.GUEST_KINDS)}", 422)
        conn.execute(m.guests.insert().values(session_id=session_id, kind=g_["kind"],
                                              name=_text(g_, "name"),
                                              organisation=_text(g_, "organisation", required=False)))
    return session_id


# --- public pages -------------------------------------------------------------------------

TEXT = {
    "da": {"programme": "Program", "session": "Møde", "place": "Sted", "host": "Vært",
           "hours": "timer", "agenda": "Dagsorden", "experts": "Eksperter og interessenter",
           "members": "Medlemmer", "seated": "medlemmer har sæde", "named": "Med navn (samtykke)",
           "calendar": "Hent kalender (iCal)", "table_plan": "Bordplan", "table": "Bord",
           "minutes": "min", "held": "afholdt", "planned": "Planlagte timer",
           "check_in": "Indtjekning", "token": "Adgangsnøgle", "present": "Til stede",
           "load": "Hent medlemmer", "saved": "Gemt", "language": "English",
           "kinds": {"expert_talk": "Ekspertoplæg", "stakeholder_hearing": "Høring af interessenter",
                     "group_work": "Gruppearbejde", "plenary": "Plenum", "voting": "Afstemning",
                     "expert": "Ekspert", "stakeholder": "Interessent"}},
    "en": {"programme": "Programme", "session": "Session", "place": "Place", "host": "Host",
           "hours": "hours", "agenda": "Agenda", "experts": "Experts and stakeholders",
           "members": "Members", "seated": "members hold a seat", "named": "Named (with consent)",
           "calendar": "Download calendar (iCal)", "table_plan": "Table plan", "table": "Table",
           "minutes": "min", "held": "held", "planned": "Planned hours",
           "check_in": "Check-in", "token": "Access token", "present": "Present",
           "load": "Load members", "saved": "Saved", "language": "Dansk",
           "kinds": {"expert_talk": "Expert talk", "stakeholder_hearing": "Stakeholder hearing",
                     "group_work": "Group work", "plenary": "Plenary", "voting": "Voting",
                     "expert": "Expert", "stakeholder": "Stakeholder"}},
}


def _lang() -> str:
    lang = request.args.get("lang", "da")
    return lang if lang in TEXT else "da"


def _local_time(ctx):
    zone = ZoneInfo(ctx.settings.timezone)
    return lambda dt: programme.utc(dt).astimezone(zone).strftime("%d.%m.%Y %H:%M")


def _table_plan_pdf(assembly, session, slots, names) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table

    styles = getSampleStyleSheet()
    story = [Paragraph(f"{assembly['name']} — {session['title']}", styles["Title"])]
    for slot in slots:
        story.append(Paragraph(slot["item"]["title"], styles["Heading2"]))
        for number, table in enumerate(slot["tables"], start=1):
            story.append(Paragraph(f"Bord {number}", styles["Heading3"]))
            story.append(Table([[names.get(x) or x] for x in table]))
            story.append(Spacer(1, 6))
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=A4, title=f"{assembly['name']} {session['title']}").build(story)
    return buf.getvalue()


def public_blueprint() -> Blueprint:
    bp = Blueprint("sessions_public", __name__, template_folder="templates")

    @bp.get("/public/assemblies/<assembly_id>/programme.json")
    def public_programme_json(assembly_id):
        ctx = _ctx()
        with ctx.engine.connect() as conn:
            return jsonify(_programme(ctx, conn, assembly_id, public=True))

    @bp.get("/public/assemblies/<assembly_id>/programme")
    def public_programme(assembly_id):
        ctx, lang = _ctx(), _lang()
        with ctx.engine.connect() as conn:
            data = _programme(ctx, conn, assembly_id, public=True)
            sessions = _sessions(conn, assembly_id)
        return render_template("programme.html", lang=lang, t=TEXT[lang], p=data,
                               starts={s["id"]: s["starts_at"] for s in sessions},
                               local=_local_time(ctx))

    @bp.get("/public/assemblies/<assembly_id>/programme.ics")
    def public_calendar(assembly_id):
        ctx = _ctx()
        with ctx.engine.connect() as conn:
            assembly = _assembly(conn, assembly_id)
            sessions = _sessions(conn, assembly_id)
        domain = (ctx.settings.public_base_url.split("//")[-1].split("/")[0]
                  or request.host.split(":")[0])
        body = programme.icalendar(assembly, sessions, domain)
        return Response(body, mimetype="text/calendar",
                        headers={"Content-Disposition": f'attachment; filename="{assembly_id}.ics"'})

    @bp.get("/check-in/<session_id>")
    def check_in_page(session_id):
        ctx, lang = _ctx(), _lang()
        with ctx.engine.connect() as conn:
            session = _session(conn, session_id)
        return render_template("check_in.html", lang=lang, t=TEXT[lang], session=session,
                               local=_local_time(ctx))

    return bp


# --- events in ----------------------------------------------------------------------------


def handle_event(ctx: ServiceContext, envelope) -> None:
    """Apply an event from sortition or the platform, once per event id."""
    payload = events.payload_of(envelope)
    assembly_id = envelope.assembly_id
    out: list = []
    with ctx.engine.begin() as conn:
        if not storage.apply_once(conn, CONSUMER_GROUP, envelope.event_id):
            return
        now = _now()
        if envelope.event_type == "assembly_created":
            if not conn.scalar(sa.select(m.assemblies.c.id).where(m.assemblies.c.id == assembly_id)):
                conn.execute(m.assemblies.insert().values(
                    id=assembly_id, name=payload.name or assembly_id, format=payload.format,
                    seats=payload.seats, created_at=now))
        elif envelope.event_type == "panel_drawn":
            known = set(conn.scalars(sa.select(m.members.c.member_id)
                                     .where(m.members.c.assembly_id == assembly_id)))
            for member_id in payload.member_ids:
                if member_id not in known:
                    conn.execute(m.members.insert().values(
                        assembly_id=assembly_id, member_id=member_id, status="offered",
                        updated_at=now))
        elif envelope.event_type == "substitutes_drawn":
            known = set(conn.scalars(sa.select(m.members.c.member_id)
                                     .where(m.members.c.assembly_id == assembly_id)))
            # A top-up draw appends to the list; the order of earlier substitutes stands.
            rank = conn.scalar(sa.select(sa.func.coalesce(sa.func.max(m.members.c.substitute_rank), 0))
                               .where(m.members.c.assembly_id == assembly_id)) or 0
            for member_id in payload.substitute_ids:
                if member_id not in known:
                    rank += 1
                    conn.execute(m.members.insert().values(
                        assembly_id=assembly_id, member_id=member_id, status="substitute",
                        substitute_rank=rank, updated_at=now))
            if conn.scalar(sa.select(m.assemblies.c.id).where(m.assemblies.c.id == assembly_id)):
                out = _fill_open_vacancies(conn, ctx, assembly_id)
        audit.record(conn, actor=envelope.producer or "bus", role="event",
                     action=f"event.{envelope.event_type}", target=f"assembly:{assembly_id}",
                     detail={"event_id": envelope.event_id})
    _publish(ctx, assembly_id, out)


def consumers(ctx: ServiceContext):
    return [ctx.bus.consumer(CONSUMER_GROUP, list(CONSUMED),
                             lambda envelope: handle_event(ctx, envelope), applied=ctx.applied)]


def create_app(config: Settings | None = None, *, context: ServiceContext | None = None) -> Flask:
    ctx = context or build(config)
    app = create_flask_app(ctx, __name__)
    app.register_blueprint(api_blueprint())
    app.register_blueprint(public_blueprint())
    return app
