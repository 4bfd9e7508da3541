"""The audit log: every change, who made it and in what role, in one verifiable chain."""
from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from services.common import audit
from services.common.auth import require
from services.common.service import current_context

blueprint = Blueprint("sessions_audit", __name__, url_prefix="/api")


@blueprint.get("/audit")
@require("platform_operator", "observer")
def audit_log() -> Response:
    after = request.args.get("after", "0")
    rows = audit.entries(current_context().engine, after_id=int(after) if after.isdigit() else 0)
    return jsonify(entries=[{"id": e.id, "at": e.at.isoformat(), "actor": e.actor,
                             "role": e.role, "action": e.action, "target": e.target,
                             "detail": e.detail} for e in rows])
