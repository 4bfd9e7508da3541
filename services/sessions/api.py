"""The operator JSON API under ``/api`` (bearer tokens): assemblies and their programme,
the panel's composition and answers, dropouts, attendance, rotating groups, the audit log.

Every change is validated first and written in one transaction with its audit entry and
its events (into the outbox); the events are published after the commit.
"""
from __future__ import annotations

import json
import uuid
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, jsonify, render_template, request

from services.common import audit
from services.common.auth import current_principal, require
from services.common.plugins import PluginError
from services.common.web import ApiError
from services.common.web import json_body as body
from services.contracts.kleroterion.v1 import sessions_events_pb2 as pb
from services.sessions import groups, outgoing, panel, programme, seats
from services.sessions import models as m
from services.sessions import queries as q
from services.sessions.inputs import audit_change, now, text, when, whole
from services.sessions.inputs import ctx as _ctx
from services.sessions.rendering import TEXT, lang, local_time, table_plan_pdf

ROLES = ("platform_operator", "host", "facilitator", "observer")
READERS = ROLES
PLANNERS = ("platform_operator", "host")
FACILITATORS = ("platform_operator", "facilitator")


def api_blueprint() -> Blueprint:
    bp = Blueprint("sessions_api", __name__, url_prefix="/api")

    @bp.post("/assemblies")
    @require(*PLANNERS)
    def create_assembly():
        ctx, data = _ctx(), body()
        assembly_id = text(data, "id")
        name = text(data, "name")
        try:
            fmt = ctx.plugins.format(text(data, "format"))
        except PluginError as exc:
            raise ApiError("format", exc.reason, 422) from None
        seat_count = whole(data, "seats", fmt.default_seats, minimum=1)
        try:
            fmt.check_seats(seat_count)
        except ValueError as exc:
            raise ApiError("seats", str(exc).split(": ", 1)[-1], 422) from None
        with ctx.engine.begin() as conn:
            if q.assembly_exists(conn, assembly_id):
                raise ApiError("id", f"assembly {assembly_id!r} exists", 409)
            conn.execute(m.assemblies.insert().values(id=assembly_id, name=name, format=fmt.name,
                                                      seats=seat_count, created_at=now()))
            audit_change(conn, "assembly.create", f"assembly:{assembly_id}",
                         {"format": fmt.name, "seats": seat_count})
        return jsonify(id=assembly_id, format=fmt.name, seats=seat_count), 201

    @bp.post("/assemblies/<assembly_id>/sessions")
    @require(*PLANNERS)
    def add_session(assembly_id):
        ctx, data = _ctx(), body()
        with ctx.engine.begin() as conn:
            q.assembly(conn, assembly_id)
            session_id = insert_session(conn, ctx, assembly_id, data)
            audit_change(conn, "session.create", f"session:{session_id}", {"assembly_id": assembly_id})
            result = q.programme_view(ctx, conn, assembly_id, public=False)
        return jsonify(id=session_id, check=result["check"]), 201

    @bp.post("/assemblies/<assembly_id>/programme/draft")
    @require(*PLANNERS)
    def draft_programme(assembly_id):
        ctx, data = _ctx(), body()
        try:
            start = date.fromisoformat(text(data, "start_date"))
        except ValueError:
            raise ApiError("start_date", "not an ISO date (YYYY-MM-DD)", 422) from None
        place, host = text(data, "place"), text(data, "host")
        every = whole(data, "every_days", 7, minimum=1)
        with ctx.engine.begin() as conn:
            assembly = q.assembly(conn, assembly_id)
            if q.sessions(conn, assembly_id):
                raise ApiError("assembly_id", "the programme already has sessions", 409)
            fmt = q.assembly_format(ctx, assembly)
            for s in programme.draft(fmt, start, place, host, ctx.settings.timezone, every):
                insert_session(conn, ctx, assembly_id, {
                    **s, "starts_at": s["starts_at"].isoformat(),
                    "ends_at": s["ends_at"].isoformat()})
            audit_change(conn, "programme.draft", f"assembly:{assembly_id}", {"format": fmt.name})
            result = q.programme_view(ctx, conn, assembly_id, public=False)
        return jsonify(result), 201

    @bp.get("/assemblies/<assembly_id>/programme")
    @require(*READERS)
    def get_programme(assembly_id):
        ctx = _ctx()
        with ctx.engine.connect() as conn:
            return jsonify(q.programme_view(ctx, conn, assembly_id, public=False))

    @bp.put("/assemblies/<assembly_id>/composition")
    @require("platform_operator")
    def import_composition(assembly_id):
        """Names (with consent) of the drawn members. Features and quotas travel with
        sortition's events; given here, they override what the draw carried."""
        ctx, data = _ctx(), body()
        people = data.get("members", {})
        if not isinstance(people, dict):
            raise ApiError("members", "must map member ids to {features, name, name_consent}", 422)
        quotas = data.get("quotas", [])
        if not isinstance(quotas, list):
            raise ApiError("quotas", "must be a list of {feature, value, min, max}", 422)
        clean_quotas = []
        for k, qu in enumerate(quotas):
            if not isinstance(qu, dict):
                raise ApiError(f"quotas[{k}]", "must be an object", 422)
            lo, hi = whole(qu, "min", 0), whole(qu, "max", 0)
            if lo > hi:
                raise ApiError(f"quotas[{k}]", f"min {lo} is above max {hi}", 422)
            clean_quotas.append({"feature": text(qu, "feature"), "value": str(qu.get("value", "")),
                                 "min": lo, "max": hi})
        with ctx.engine.begin() as conn:
            q.assembly(conn, assembly_id)
            known = {x["member_id"] for x in q.members(conn, assembly_id)}
            for member_id, info in people.items():
                if member_id not in known:
                    raise ApiError(f"members.{member_id}", "not on this assembly's panel or "
                                                           "substitute list", 422)
                info = {} if info is None else info
                if not isinstance(info, dict):
                    raise ApiError(f"members.{member_id}", "must be an object of features, "
                                                           "name, name_consent", 422)
                values: dict[str, Any] = {"updated_at": now()}
                if "features" in info:
                    feats = info["features"]
                    if not isinstance(feats, dict):
                        raise ApiError(f"members.{member_id}.features", "must be an object", 422)
                    values["features"] = json.dumps({k: str(v) for k, v in feats.items()},
                                                    sort_keys=True)
                if "name" in info:
                    values["display_name"] = str(info["name"]) or None
                if "name_consent" in info:
                    values["name_consent"] = bool(info["name_consent"])
                conn.execute(m.members.update().where(m.members.c.assembly_id == assembly_id,
                                                      m.members.c.member_id == member_id)
                             .values(**values))
            if "quotas" in data:
                conn.execute(m.quotas.delete().where(m.quotas.c.assembly_id == assembly_id))
                for qu in clean_quotas:
                    conn.execute(m.quotas.insert().values(assembly_id=assembly_id, **qu))
            # Features may arrive after a top-up draw's ids: an open vacancy can fill now.
            outgoing.enqueue(conn, ctx, assembly_id, seats.fill_open_vacancies(conn, assembly_id))
            audit_change(conn, "composition.import", f"assembly:{assembly_id}",
                         {"members": len(people), "quotas": len(clean_quotas)})
            result = q.composition(conn, assembly_id)
        outgoing.publish(ctx)
        return jsonify(result)

    @bp.get("/assemblies/<assembly_id>/composition")
    @require(*READERS)
    def get_composition(assembly_id):
        with _ctx().engine.connect() as conn:
            return jsonify(q.composition(conn, assembly_id))

    @bp.post("/assemblies/<assembly_id>/members/<member_id>/response")
    @require(*FACILITATORS)
    def respond(assembly_id, member_id):
        ctx, data = _ctx(), body()
        answer = text(data, "answer")
        with ctx.engine.begin() as conn:
            out = seats.answer_offer(conn, ctx, assembly_id, member_id, answer)
            audit_change(conn, f"member.{answer}", f"assembly:{assembly_id}", {"member_id": member_id})
            outgoing.enqueue(conn, ctx, assembly_id, out)
            result = q.composition(conn, assembly_id)
        outgoing.publish(ctx)
        return jsonify(result)

    @bp.post("/assemblies/<assembly_id>/members/<member_id>/withdraw")
    @require(*FACILITATORS)
    def withdraw(assembly_id, member_id):
        ctx, data = _ctx(), body()
        reason = text(data, "reason", required=False)
        with ctx.engine.begin() as conn:
            assembly = q.assembly(conn, assembly_id)
            member = q.member(conn, assembly_id, member_id)
            before = whole(data, "before_session", q.next_session(conn, assembly_id), minimum=1)
            out = seats.vacate(conn, q.assembly_format(ctx, assembly), assembly, member,
                               "withdrawn", reason, before)
            audit_change(conn, "member.withdraw", f"assembly:{assembly_id}",
                         {"member_id": member_id, "before_session": before})
            outgoing.enqueue(conn, ctx, assembly_id, out)
            result = q.composition(conn, assembly_id)
        outgoing.publish(ctx)
        return jsonify(result)

    @bp.put("/sessions/<session_id>/attendance")
    @require(*FACILITATORS)
    def check_in(session_id):
        ctx, data = _ctx(), body()
        member_id = text(data, "member_id")
        present = data.get("present")
        if not isinstance(present, bool):
            raise ApiError("present", "must be true or false", 422)
        with ctx.engine.begin() as conn:
            session = q.session(conn, session_id)
            member = q.member(conn, session["assembly_id"], member_id)
            if member["status"] not in panel.SEATED:
                raise ApiError("member_id", f"{member_id!r} holds no seat", 409)
            conn.execute(m.attendance.delete().where(m.attendance.c.session_id == session_id,
                                                     m.attendance.c.member_id == member_id))
            conn.execute(m.attendance.insert().values(
                session_id=session_id, member_id=member_id, present=present, recorded_at=now(),
                recorded_by=current_principal().subject))
            audit_change(conn, "attendance.record", f"session:{session_id}",
                         {"member_id": member_id, "present": present})
        return jsonify(session_id=session_id, member_id=member_id, present=present)

    @bp.get("/sessions/<session_id>/attendance")
    @require(*READERS)
    def session_attendance(session_id):
        with _ctx().engine.connect() as conn:
            session = q.session(conn, session_id)
            marks = {r.member_id: r.present for r in conn.execute(
                sa.select(m.attendance).where(m.attendance.c.session_id == session_id))}
            seated = q.members(conn, session["assembly_id"], panel.SEATED)
        return jsonify(session_id=session_id, members=[
            {"member_id": x["member_id"], "present": marks.get(x["member_id"]),
             "name": x["display_name"] if x["name_consent"] else None} for x in seated])

    @bp.post("/sessions/<session_id>/held")
    @require(*FACILITATORS)
    def session_held(session_id):
        ctx = _ctx()
        with ctx.engine.begin() as conn:
            session = q.session(conn, session_id)
            if session["held_at"] is not None:
                raise ApiError("session_id", "the session is already recorded as held", 409)
            assembly_id = session["assembly_id"]
            present = conn.scalar(sa.select(sa.func.count()).select_from(m.attendance).where(
                m.attendance.c.session_id == session_id, m.attendance.c.present.is_(True)))
            seated = len(q.members(conn, assembly_id, panel.SEATED))
            conn.execute(m.sessions.update().where(m.sessions.c.id == session_id)
                         .values(held_at=now(), seated=seated))
            report = q.attendance(ctx, conn, assembly_id)
            audit_change(conn, "session.held", f"session:{session_id}", {"present": present})
            out: list = [pb.SessionHeld(session_id=session_id, hours=programme.hours(session),
                                        present=present, seated=seated)]
            out += [pb.AttendanceFlagged(member_id=r["member_id"],
                                         hours_attended=r["hours_attended"],
                                         hours_held=report["held_hours"],
                                         min_share=report["min_attendance_share"])
                    for r in report["members"] if r["flagged"]]
            outgoing.enqueue(conn, ctx, assembly_id, out)
        outgoing.publish(ctx)
        return jsonify(report)

    @bp.get("/assemblies/<assembly_id>/attendance")
    @require(*READERS)
    def assembly_attendance(assembly_id):
        ctx = _ctx()
        with ctx.engine.connect() as conn:
            return jsonify(q.attendance(ctx, conn, assembly_id))

    @bp.put("/assemblies/<assembly_id>/group-constraints")
    @require(*FACILITATORS)
    def set_constraints(assembly_id):
        ctx, data = _ctx(), body()
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
                table = whole(c, "table", minimum=1)
            rows.append({"kind": c["kind"], "members": json.dumps(members), "table_no": table})
        with ctx.engine.begin() as conn:
            q.assembly(conn, assembly_id)
            known = {x["member_id"] for x in q.members(conn, assembly_id)}
            for k, row in enumerate(rows):
                unknown = [x for x in json.loads(row["members"]) if x not in known]
                if unknown:
                    raise ApiError(f"constraints[{k}].members", f"unknown members: {', '.join(unknown)}", 422)
            conn.execute(m.group_constraints.delete()
                         .where(m.group_constraints.c.assembly_id == assembly_id))
            for row in rows:
                conn.execute(m.group_constraints.insert().values(assembly_id=assembly_id, **row))
            audit_change(conn, "groups.constraints", f"assembly:{assembly_id}", {"count": len(rows)})
        return jsonify(count=len(rows))

    @bp.post("/agenda-items/<item_id>/groups")
    @require(*FACILITATORS)
    def assign_groups(item_id):
        ctx, data = _ctx(), body()
        with ctx.engine.begin() as conn:
            item, session = q.group_item(conn, item_id)
            assembly_id = session["assembly_id"]
            size = whole(data, "table_size", item["table_size"] or ctx.settings.default_table_size,
                         minimum=2)
            seed = data.get("seed", item_id)
            present = q.present(conn, assembly_id, session["id"])
            history = q.history(conn, assembly_id, item_id)
            try:
                tables = groups.assign_round(
                    [x["member_id"] for x in present], {x["member_id"]: x["features"] for x in present},
                    size, met=groups.count_pairs(history),
                    constraints=q.constraints(conn, assembly_id), seed=str(seed))
            except groups.GroupingError as exc:
                raise ApiError(exc.field, exc.reason, 422) from None
            conn.execute(m.seatings.delete().where(m.seatings.c.agenda_item_id == item_id))
            for number, table in enumerate(tables, start=1):
                for member_id in table:
                    conn.execute(m.seatings.insert().values(
                        agenda_item_id=item_id, member_id=member_id, assembly_id=assembly_id,
                        table_no=number))
            stats = groups.pair_stats([*history, tables])
            audit_change(conn, "groups.assign", f"agenda_item:{item_id}",
                         {"tables": len(tables), "seated": len(present), "seed": str(seed)})
            outgoing.enqueue(conn, ctx, assembly_id, [pb.GroupsAssigned(
                session_id=session["id"], agenda_item_id=item_id, tables=len(tables),
                seated=len(present), distinct_pairs_so_far=stats["distinct_pairs"],
                repeat_pairs_so_far=stats["repeat_pairings"])])
        outgoing.publish(ctx)
        return jsonify(agenda_item_id=item_id, tables=tables, **stats)

    @bp.get("/agenda-items/<item_id>/groups")
    @require(*READERS)
    def get_groups(item_id):
        with _ctx().engine.connect() as conn:
            q.group_item(conn, item_id)
            return jsonify(agenda_item_id=item_id, tables=q.tables(conn, item_id))

    @bp.get("/sessions/<session_id>/table-plan")
    @require(*READERS)
    def table_plan(session_id):
        with _ctx().engine.connect() as conn:
            session = q.session(conn, session_id)
            assembly = q.assembly(conn, session["assembly_id"])
            names = {x["member_id"]: (x["display_name"] if x["name_consent"] and x["display_name"]
                                      else None)
                     for x in q.members(conn, assembly["id"])}
            slots = [{"item": a, "tables": q.tables(conn, a["id"])}
                     for a in q.agenda(conn, session_id) if a["kind"] == "group_work"]
        language = lang()
        if request.args.get("format") == "pdf":
            return Response(table_plan_pdf(assembly, session, slots, names), mimetype="application/pdf")
        return render_template("table_plan.html", lang=language, t=TEXT[language], assembly=assembly,
                               session=session, slots=slots, names=names,
                               local=local_time(_ctx()))

    @bp.get("/audit")
    @require("platform_operator", "observer")
    def audit_log():
        after = request.args.get("after", "0")
        rows = audit.entries(_ctx().engine, after_id=int(after) if after.isdigit() else 0)
        return jsonify(entries=[{"id": e.id, "at": e.at.isoformat(), "actor": e.actor,
                                 "role": e.role, "action": e.action, "target": e.target,
                                 "detail": e.detail} for e in rows])

    return bp


def insert_session(conn, ctx, assembly_id: str, data: dict) -> str:
    tz = ctx.settings.timezone
    starts, ends = when(data, "starts_at", tz), when(data, "ends_at", tz)
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
        id=session_id, assembly_id=assembly_id, title=text(data, "title"), starts_at=starts,
        ends_at=ends, place=text(data, "place"), host=text(data, "host")))
    for k, a in enumerate(agenda):
        if not isinstance(a, dict) or a.get("kind") not in programme.AGENDA_KINDS:
            raise ApiError(f"agenda[{k}].kind", f"must be one of {', '.join(programme.AGENDA_KINDS)}", 422)
        table_size = a.get("table_size")
        if table_size is not None:
            table_size = whole(a, "table_size", minimum=2)
        conn.execute(m.agenda_items.insert().values(
            id=a.get("id") or f"{session_id}-{k + 1}", session_id=session_id, position=k,
            kind=a["kind"], title=text(a, "title"), minutes=whole(a, "minutes", minimum=1),
            table_size=table_size))
    for k, g_ in enumerate(guests):
        if not isinstance(g_, dict) or g_.get("kind") not in programme.GUEST_KINDS:
            raise ApiError(f"guests[{k}].kind", f"must be one of {', '.join(programme.GUEST_KINDS)}", 422)
        conn.execute(m.guests.insert().values(session_id=session_id, kind=g_["kind"],
                                              name=text(g_, "name"),
                                              organisation=text(g_, "organisation", required=False)))
    return session_id
