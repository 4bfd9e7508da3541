"""Registrants and erasure: an operator lists an assembly's registrants (pseudonymous),
moves one to another state (``erased`` forgets who they are), and ends an assembly, which
erases all of its personal data and keeps only counts. An erasure also deletes the
person's files in the channels' outboxes and, once committed, purges the copies the
database keeps of erased rows (``storage.purge_erased``)."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, jsonify
from sqlalchemy.engine import Connection

from services.common import storage
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
    ctx = current()
    with ctx.engine.begin() as conn:
        state = queries.registrant_state(conn, registrant_id)
        if state is None:
            raise ApiError("registrant_id", f"no registrant {registrant_id!r}", 404)
        try:
            pool.check_transition(state, wanted)
        except pool.TransitionError as exc:
            raise ApiError("state", str(exc), 409) from None
        except ValueError as exc:
            raise ApiError("state", str(exc)) from None
        detail: dict[str, Any] = {"from": state, "to": wanted}
        if wanted == "erased":
            person_id = pool.person_of(conn, registrant_id)
            if person_id is not None:
                d = models.deliveries
                detail["channel_files"] = ctx.dispatcher.erase_outputs(
                    conn, (d.c.person_id == person_id) & (d.c.assembly_id == assembly_of(
                        conn, registrant_id)))
            pool.erase_registrant(conn, registrant_id)
        else:
            conn.execute(r.update().where(r.c.id == registrant_id)
                         .values(state=wanted, updated_at=datetime.now(UTC)))
        inputs.audit_change(conn, "registrant.state", f"registrant:{registrant_id}", detail)
    if wanted == "erased":
        return jsonify(id=registrant_id, state=wanted, purge=_purge())
    return jsonify(id=registrant_id, state=wanted)


def assembly_of(conn: Connection, registrant_id: str) -> str:
    r = models.registrants
    return str(conn.scalar(sa.select(r.c.assembly_id).where(r.c.id == registrant_id)))


def _purge() -> str:
    """After the erasure has committed: no copy left in the WAL or in dead row versions.
    The erasure stands if the purge cannot finish now (readers hold the WAL); the answer
    and the log say so, and the next erasure's purge takes the rest."""
    try:
        return storage.purge_erased(current().engine, pool.ERASED_TABLES)
    except storage.PurgeIncomplete as exc:
        return f"incomplete: {exc}"


@blueprint.post("/api/assemblies/<assembly_id>/end")
@require(*PLATFORM)
def end_assembly(assembly_id: str) -> Response:
    with current().engine.begin() as conn:
        queries.open_assembly(conn, assembly_id)
        files = current().dispatcher.erase_outputs(
            conn, models.deliveries.c.assembly_id == assembly_id)
        result = pool.end_assembly(conn, assembly_id)
        inputs.audit_change(conn, "assembly.end", f"assembly:{assembly_id}",
                            {**result, "channel_files": files})
    return jsonify(id=assembly_id, status="ended", purge=_purge(), **result)
