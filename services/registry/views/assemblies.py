"""Assemblies: an operator sets one up (its own stratification questions and session
dates) and reads it back with the size of its population."""
from __future__ import annotations

import json
from datetime import UTC, datetime

from flask import Blueprint, Response, jsonify

from services.common.auth import require
from services.common.web import ApiError, json_body
from services.registry import inputs, models, queries
from services.registry.context import current
from services.registry.roles import ANYONE, OPERATORS

blueprint = Blueprint("registry_assemblies", __name__)


@blueprint.post("/api/assemblies")
@require(*OPERATORS)
def create_assembly() -> tuple[Response, int]:
    data = json_body()
    assembly_id = inputs.assembly_id(data)
    name = inputs.assembly_name(data)
    questions = inputs.questions(data.get("questions", []))
    dates = inputs.session_dates(data.get("session_dates"))
    with current().engine.begin() as conn:
        if queries.assembly_exists(conn, assembly_id):
            raise ApiError("id", f"assembly {assembly_id!r} exists already", 409)
        conn.execute(models.assemblies.insert().values(
            id=assembly_id, name=name, questions=json.dumps(questions),
            session_dates=json.dumps(dates), status="open", created_at=datetime.now(UTC)))
        inputs.audit_change(conn, "assembly.create", f"assembly:{assembly_id}",
                            {"questions": len(questions)})
    return jsonify(id=assembly_id, name=name, questions=questions, session_dates=dates,
                   status="open"), 201


@blueprint.get("/api/assemblies/<assembly_id>")
@require(*ANYONE)
def get_assembly(assembly_id: str) -> Response:
    with current().engine.connect() as conn:
        row = queries.assembly(conn, assembly_id)
        people = queries.population(conn, assembly_id)
    return jsonify(id=row.id, name=row.name, questions=json.loads(row.questions),
                   session_dates=json.loads(row.session_dates), status=row.status,
                   population=people)
