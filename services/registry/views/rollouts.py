"""Invitation rollouts: an operator draws who in a scope is invited (the lottery, from a
recorded seed), sends the rollout with an approved template, and follows its deliveries."""
from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, jsonify

from services.common.auth import require
from services.common.web import ApiError, json_body
from services.registry import inputs, lottery, models, outgoing, queries
from services.registry.context import current
from services.registry.roles import ANYONE, OPERATORS

blueprint = Blueprint("registry_rollouts", __name__)


@blueprint.post("/api/assemblies/<assembly_id>/rollouts")
@require(*OPERATORS)
def create_rollout(assembly_id: str) -> tuple[Response, int]:
    wanted = inputs.rollout(json_body())
    scope = wanted.scope
    rollout_id = str(uuid.uuid4())
    with current().engine.begin() as conn:
        queries.open_assembly(conn, assembly_id)
        candidates = queries.candidates(conn, assembly_id, scope.codes, wanted.age_bands)
        try:
            chosen, allocation = lottery.draw(candidates, wanted.size, wanted.seed,
                                              wanted.weights, wanted.one_per_household)
        except ValueError as exc:
            field, _, reason = str(exc).partition(": ")
            raise ApiError(field, reason, 422) from None
        options = {"weights": wanted.weights, "one_per_household": wanted.one_per_household,
                   "age_bands": wanted.age_bands}
        conn.execute(models.rollouts.insert().values(
            id=rollout_id, assembly_id=assembly_id, scope=scope.name, size=wanted.size,
            seed=wanted.seed, options=json.dumps(options),
            allocation=json.dumps({str(k): v for k, v in allocation.items() if v}),
            status="drawn", created_at=datetime.now(UTC)))
        codes: set[str] = set()
        rows: list[dict[str, Any]] = []
        for c in chosen:
            code = lottery.new_code()
            while code in codes:
                code = lottery.new_code()
            codes.add(code)
            rows.append({"id": str(uuid.uuid4()), "rollout_id": rollout_id,
                         "assembly_id": assembly_id, "person_id": c.person_id, "code": code,
                         "municipality_code": c.municipality_code, "age_band": c.age_band,
                         "sex": c.sex, "status": "drawn", "signed_up": False})
        for start in range(0, len(rows), 5000):
            conn.execute(models.invitations.insert(), rows[start:start + 5000])
        inputs.audit_change(conn, "rollout.draw", f"rollout:{rollout_id}",
                            {"assembly_id": assembly_id, "scope": scope.name,
                             "size": wanted.size, "seed": wanted.seed})
    return jsonify(id=rollout_id, scope=scope.name, scope_kind=scope.kind, size=wanted.size,
                   seed=wanted.seed, invitations=len(rows),
                   allocation={str(k): v for k, v in allocation.items() if v}), 201


@blueprint.get("/api/rollouts/<rollout_id>")
@require(*ANYONE)
def get_rollout(rollout_id: str) -> Response:
    with current().engine.connect() as conn:
        row = queries.rollout(conn, rollout_id)
        states = queries.invitation_states(conn, rollout_id)
    return jsonify(id=row.id, assembly_id=row.assembly_id, scope=row.scope, size=row.size,
                   seed=row.seed, options=json.loads(row.options),
                   allocation=json.loads(row.allocation), status=row.status,
                   template_id=row.template_id, invitations=states)


@blueprint.post("/api/rollouts/<rollout_id>/send")
@require(*OPERATORS)
def send_rollout(rollout_id: str) -> tuple[Response, int]:
    ctx = current()
    template_id = inputs.approved_template_id(json_body())
    i = models.invitations
    with ctx.engine.begin() as conn:
        rollout = queries.rollout(conn, rollout_id)
        queries.open_assembly(conn, rollout.assembly_id)
        template = queries.template(conn, template_id)
        if template.assembly_id != rollout.assembly_id:
            raise ApiError("template_id", "belongs to another assembly")
        if template.approved_at is None:
            raise ApiError("template_id", "is not approved: preview it, send a test, approve "
                                          "it, then send", 409)
        # Resending is safe: the delivery rows skip anyone already handled.
        ids = queries.invitations_to_request(conn, rollout_id)
        conn.execute(i.update().where(i.c.rollout_id == rollout_id, i.c.status == "drawn")
                     .values(status="requested"))
        conn.execute(models.rollouts.update().where(models.rollouts.c.id == rollout_id)
                     .values(status="sending", template_id=template_id))
        inputs.audit_change(conn, "rollout.send", f"rollout:{rollout_id}",
                            {"template_id": template_id, "invitations": len(ids)})
        # The requests are committed with the send, so a crash or a broker outage after the
        # commit cannot lose them; the outbox publishes them in batches of 1000.
        outgoing.invitations_requested(conn, ctx.settings.region,
                                       assembly_id=rollout.assembly_id, rollout_id=rollout_id,
                                       template_id=template_id, invitation_ids=ids)
    outgoing.publish(ctx)
    return jsonify(id=rollout_id, requested=len(ids)), 202


@blueprint.get("/api/rollouts/<rollout_id>/deliveries")
@require(*ANYONE)
def rollout_deliveries(rollout_id: str) -> Response:
    with current().engine.connect() as conn:
        queries.rollout(conn, rollout_id)
        deliveries = queries.delivery_counts(conn, rollout_id)
    return jsonify(rollout_id=rollout_id, deliveries=deliveries)
