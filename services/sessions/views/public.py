"""Pages without a token: the public programme (HTML, JSON, iCalendar) and the check-in
page, whose script calls the attendance API with the facilitator's token."""
from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template, request

from services.common.service import current_context
from services.sessions import programme
from services.sessions import queries as q
from services.sessions.rendering import TEXT, lang, local_time
from services.sessions.settings import settings_of

blueprint = Blueprint("sessions_public", __name__)


@blueprint.get("/public/assemblies/<assembly_id>/programme.json")
def public_programme_json(assembly_id: str) -> Response:
    ctx = current_context()
    with ctx.engine.connect() as conn:
        return jsonify(q.programme_view(ctx, conn, assembly_id, public=True))


@blueprint.get("/public/assemblies/<assembly_id>/programme")
def public_programme(assembly_id: str) -> str:
    ctx, language = current_context(), lang()
    with ctx.engine.connect() as conn:
        data = q.programme_view(ctx, conn, assembly_id, public=True)
        sessions = q.sessions(conn, assembly_id)
    return render_template("programme.html", lang=language, t=TEXT[language], p=data,
                           starts={s["id"]: s["starts_at"] for s in sessions},
                           local=local_time(ctx))


@blueprint.get("/public/assemblies/<assembly_id>/programme.ics")
def public_calendar(assembly_id: str) -> Response:
    ctx = current_context()
    with ctx.engine.connect() as conn:
        assembly = q.assembly(conn, assembly_id)
        sessions = q.sessions(conn, assembly_id)
    domain = (settings_of(ctx).public_base_url.split("//")[-1].split("/")[0]
              or request.host.split(":")[0])
    body = programme.icalendar(assembly, sessions, domain)
    return Response(body, mimetype="text/calendar",
                    headers={"Content-Disposition": f'attachment; filename="{assembly_id}.ics"'})


@blueprint.get("/check-in/<session_id>")
def check_in_page(session_id: str) -> str:
    ctx, language = current_context(), lang()
    with ctx.engine.connect() as conn:
        session = q.session(conn, session_id)
    return render_template("check_in.html", lang=language, t=TEXT[language], session=session,
                           local=local_time(ctx))
