"""An assembly's settings (name, support scale, threshold), its seated members and their
member codes, and the audit log."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request
from flask.typing import ResponseReturnValue

from services.common import audit, auth
from services.common.service import current_context
from services.common.web import ApiError, json_body
from services.recommendations import assemblies, queries
from services.recommendations import models as m
from services.recommendations import scale as scales
from services.recommendations.inputs import text
from services.recommendations.roles import ADMINISTRATION, FACILITATOR, OPERATORS
from services.recommendations.settings import settings_of
from services.recommendations.views.shared import change, log_change, now

blueprint = Blueprint("assemblies", __name__)


@blueprint.put("/assemblies/<assembly_id>")
@auth.require(*FACILITATOR)
def configure_assembly(assembly_id: str) -> Response:
    data = json_body()
    values: dict[str, Any] = {}
    if "name" in data:
        values["name"] = text(data, "name", max_len=200)
    if "scale" in data:
        values["scale"] = scales.check_scale(data["scale"])
    if "threshold" in data:
        values["threshold"] = scales.check_threshold(data["threshold"])
    if not values:
        raise ApiError("body", "give at least one of name, scale, threshold")
    with change() as conn:
        assemblies.ensure_assembly(conn, settings_of(current_context()), assembly_id)
        conn.execute(m.assemblies.update().where(m.assemblies.c.assembly_id == assembly_id)
                     .values(**values))
        log_change(conn, "assembly.configure", f"assembly:{assembly_id}",
                   {k: v for k, v in values.items() if k != "name"})
        return jsonify(assemblies.assembly_json(conn, queries.assembly_row(conn, assembly_id)))


@blueprint.get("/assemblies/<assembly_id>")
@auth.require(*OPERATORS)
def get_assembly(assembly_id: str) -> Response:
    with current_context().engine.connect() as conn:
        return jsonify(assemblies.assembly_json(conn, queries.assembly_row(conn, assembly_id)))


@blueprint.get("/assemblies/<assembly_id>/members")
@auth.require(*FACILITATOR)
def list_members(assembly_id: str) -> Response:
    with current_context().engine.connect() as conn:
        queries.assembly_row(conn, assembly_id)
        return jsonify(members=[{"member_id": r.member_id, "seated": r.seated,
                                 "has_code": r.code_hash is not None}
                                for r in queries.members(conn, assembly_id)])


@blueprint.post("/assemblies/<assembly_id>/members/<member_id>/code")
@auth.require(*FACILITATOR)
def issue_member_code(assembly_id: str, member_id: str) -> ResponseReturnValue:
    """Issue (or re-issue, voiding the old one) a seated member's personal code. The code
    is shown once; only its hash is kept."""
    code = assemblies.new_member_code()
    with change() as conn:
        queries.assembly_row(conn, assembly_id)
        row = queries.member(conn, assembly_id, member_id)
        if row is None or not row.seated:
            raise ApiError("member_id", "is not a seated member of this assembly", 404)
        conn.execute(m.members.update().where(m.members.c.assembly_id == assembly_id,
                                              m.members.c.member_id == member_id)
                     .values(code_hash=assemblies.code_hash(code), changed_at=now()))
        log_change(conn, "member.code_issued", f"member:{member_id}")
    return jsonify(member_id=member_id, member_code=code), 201


@blueprint.get("/audit")
@auth.require(*ADMINISTRATION)
def get_audit() -> Response:
    target = request.args.get("target")
    return jsonify(entries=[{"id": e.id, "at": e.at.isoformat(), "actor": e.actor,
                             "role": e.role, "action": e.action, "target": e.target,
                             "detail": e.detail}
                            for e in audit.entries(current_context().engine, target=target)])
