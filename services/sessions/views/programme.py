"""Assemblies and their programme: sessions with their agenda and guests, a draft programme
from the assembly's format, and the programme against the format's minimum."""
from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, jsonify
from sqlalchemy.engine import Connection

from services.common.auth import require
from services.common.plugins import PluginError
from services.common.service import ServiceContext, current_context
from services.common.web import ApiError
from services.common.web import json_body as body
from services.sessions import models as m
from services.sessions import programme
from services.sessions import queries as q
from services.sessions.inputs import audit_change, now, text, when, whole
from services.sessions.roles import PLANNERS, READERS
from services.sessions.settings import settings_of

blueprint = Blueprint("sessions_programme", __name__, url_prefix="/api")


@blueprint.post("/assemblies")
@require(*PLANNERS)
def create_assembly() -> tuple[Response, int]:
    ctx, data = current_context(), body()
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


@blueprint.post("/assemblies/<assembly_id>/sessions")
@require(*PLANNERS)
def add_session(assembly_id: str) -> tuple[Response, int]:
    ctx, data = current_context(), body()
    with ctx.engine.begin() as conn:
        q.assembly(conn, assembly_id)
        session_id = insert_session(conn, ctx, assembly_id, data)
        audit_change(conn, "session.create", f"session:{session_id}",
                     {"assembly_id": assembly_id})
        result = q.programme_view(ctx, conn, assembly_id, public=False)
    return jsonify(id=session_id, check=result["check"]), 201


@blueprint.post("/assemblies/<assembly_id>/programme/draft")
@require(*PLANNERS)
def draft_programme(assembly_id: str) -> tuple[Response, int]:
    ctx, data = current_context(), body()
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
        for s in programme.draft(fmt, start, place, host, settings_of(ctx).timezone, every):
            insert_session(conn, ctx, assembly_id, {
                **s, "starts_at": s["starts_at"].isoformat(),
                "ends_at": s["ends_at"].isoformat()})
        audit_change(conn, "programme.draft", f"assembly:{assembly_id}", {"format": fmt.name})
        result = q.programme_view(ctx, conn, assembly_id, public=False)
    return jsonify(result), 201


@blueprint.get("/assemblies/<assembly_id>/programme")
@require(*READERS)
def get_programme(assembly_id: str) -> Response:
    ctx = current_context()
    with ctx.engine.connect() as conn:
        return jsonify(q.programme_view(ctx, conn, assembly_id, public=False))


def insert_session(conn: Connection, ctx: ServiceContext, assembly_id: str,
                   data: Mapping[str, Any]) -> str:
    """Check and write one session with its agenda and guests; a refusal names the field
    (the caller's transaction then writes nothing)."""
    tz = settings_of(ctx).timezone
    starts, ends = when(data, "starts_at", tz), when(data, "ends_at", tz)
    if ends <= starts:
        raise ApiError("ends_at", "must be after starts_at", 422)
    session_id: str = data.get("id") or uuid.uuid4().hex[:12]
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
            raise ApiError(f"agenda[{k}].kind",
                           f"must be one of {', '.join(programme.AGENDA_KINDS)}", 422)
        table_size = a.get("table_size")
        if table_size is not None:
            table_size = whole(a, "table_size", minimum=2)
        conn.execute(m.agenda_items.insert().values(
            id=a.get("id") or f"{session_id}-{k + 1}", session_id=session_id, position=k,
            kind=a["kind"], title=text(a, "title"), minutes=whole(a, "minutes", minimum=1),
            table_size=table_size))
    for k, guest in enumerate(guests):
        if not isinstance(guest, dict) or guest.get("kind") not in programme.GUEST_KINDS:
            raise ApiError(f"guests[{k}].kind",
                           f"must be one of {', '.join(programme.GUEST_KINDS)}", 422)
        conn.execute(m.guests.insert().values(
            session_id=session_id, kind=guest["kind"], name=text(guest, "name"),
            organisation=text(guest, "organisation", required=False)))
    return session_id
