"""Attendance: a facilitator checks members in, a session is recorded as held (with the
members flagged below the format's minimum share), and the hours each member attended."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, jsonify

from services.common.auth import current_principal, require
from services.common.service import current_context
from services.common.web import ApiError
from services.common.web import json_body as body
from services.contracts.kleroterion.v1 import sessions_events_pb2 as pb
from services.sessions import models as m
from services.sessions import outgoing, panel, programme
from services.sessions import queries as q
from services.sessions.inputs import audit_change, now, text
from services.sessions.roles import FACILITATORS, READERS

blueprint = Blueprint("sessions_attendance", __name__, url_prefix="/api")


@blueprint.put("/sessions/<session_id>/attendance")
@require(*FACILITATORS)
def check_in(session_id: str) -> Response:
    ctx, data = current_context(), body()
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


@blueprint.get("/sessions/<session_id>/attendance")
@require(*READERS)
def session_attendance(session_id: str) -> Response:
    with current_context().engine.connect() as conn:
        session = q.session(conn, session_id)
        marks = {r.member_id: r.present for r in conn.execute(
            sa.select(m.attendance).where(m.attendance.c.session_id == session_id))}
        seated = q.members(conn, session["assembly_id"], panel.SEATED)
    return jsonify(session_id=session_id, members=[
        {"member_id": x["member_id"], "present": marks.get(x["member_id"]),
         "name": x["display_name"] if x["name_consent"] else None} for x in seated])


@blueprint.post("/sessions/<session_id>/held")
@require(*FACILITATORS)
def session_held(session_id: str) -> Response:
    ctx = current_context()
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
        out: list[Any] = [pb.SessionHeld(session_id=session_id, hours=programme.hours(session),
                                         present=present, seated=seated)]
        out += [pb.AttendanceFlagged(member_id=r["member_id"],
                                     hours_attended=r["hours_attended"],
                                     hours_held=report["held_hours"],
                                     min_share=report["min_attendance_share"])
                for r in report["members"] if r["flagged"]]
        outgoing.enqueue(conn, ctx, assembly_id, out)
    outgoing.publish(ctx)
    return jsonify(report)


@blueprint.get("/assemblies/<assembly_id>/attendance")
@require(*READERS)
def assembly_attendance(assembly_id: str) -> Response:
    ctx = current_context()
    with ctx.engine.connect() as conn:
        return jsonify(q.attendance(ctx, conn, assembly_id))
