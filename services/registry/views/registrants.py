"""Registrants and erasure: an operator lists an assembly's registrants (pseudonymous),
moves one to another state (``erased`` forgets who they are), and ends an assembly, which
erases all of its personal data and keeps only counts."""
from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, jsonify

from services.common.auth import require
from services.common.web import ApiError, json_body
from services.registry import inputs, models, pool, queries
from services.registry.context import current
from services.registry.roles import ANYONE, OPERATORS, PLATFORM

blueprint = Blueprint("registry_registrants", __name__)


@blueprint.get("/api/assemblies/<assembly_id>/registrants")
@require(*ANYONE)
def list_registrants(assembly_id: str) -> Response:
    with current().engine.connect() as conn:
        queries.assembly(conn, assembly_id)
        rows = queries.registrants(conn, assembly_id)
    return jsonify(registrants=rows)


@blueprint.post("/api/registrants/<registrant_id>/state")
@require(*OPERATORS)
def change_state(registrant_id: str) -> Response:
    wanted = inputs.registrant_state(json_body())
    r = models.registrants
    with current().engine.begin() as conn:
        state = queries.registrant_state(conn, registrant_id)
        if state is None:
            raise ApiError("registrant_id", f"no registrant {registrant_id!r}", 404)
        try:
            pool.check_transition(state, wanted)
        except pool.TransitionError as exc:
            raise ApiError("state", str(exc), 409) from None
        except ValueError as exc:
            raise ApiError("state", str(exc)) from None
        if wanted == "erased":
            pool.erase_registrant(conn, registrant_id)
        else:
            conn.execute(r.update().where(r.c.id == registrant_id)
                         .values(state=wanted, updated_at=datetime.now(UTC)))
        inputs.audit_change(conn, "registrant.state", f"registrant:{registrant_id}",
                            {"from": state, "to": wanted})
    return jsonify(id=registrant_id, state=wanted)


@blueprint.post("/api/assemblies/<assembly_id>/end")
@require(*PLATFORM)
def end_assembly(assembly_id: str) -> Response:
    with current().engine.begin() as conn:
        queries.open_assembly(conn, assembly_id)
        result = pool.end_assembly(conn, assembly_id)
        inputs.audit_change(conn, "assembly.end", f"assembly:{assembly_id}", result)
    return jsonify(id=assembly_id, status="ended", **result)
