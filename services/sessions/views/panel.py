"""The panel's seats: its composition against the quotas (with the names members consent
to show), a member's answer to a seat offer, and a member withdrawing (a dropout), each
offering the vacated seat to the next substitute who keeps the quotas."""
from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, jsonify

from services.common.auth import require
from services.common.service import current_context
from services.common.web import ApiError
from services.common.web import json_body as body
from services.sessions import models as m
from services.sessions import outgoing, seats
from services.sessions import queries as q
from services.sessions.inputs import audit_change, now, text, whole
from services.sessions.roles import FACILITATORS, READERS

blueprint = Blueprint("sessions_panel", __name__, url_prefix="/api")


@blueprint.put("/assemblies/<assembly_id>/composition")
@require("platform_operator")
def import_composition(assembly_id: str) -> Response:
    """Names (with consent) of the drawn members. Features and quotas travel with
    sortition's events; given here, they override what the draw carried."""
    ctx, data = current_context(), body()
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


@blueprint.get("/assemblies/<assembly_id>/composition")
@require(*READERS)
def get_composition(assembly_id: str) -> Response:
    with current_context().engine.connect() as conn:
        return jsonify(q.composition(conn, assembly_id))


@blueprint.post("/assemblies/<assembly_id>/members/<member_id>/response")
@require(*FACILITATORS)
def respond(assembly_id: str, member_id: str) -> Response:
    ctx, data = current_context(), body()
    answer = text(data, "answer")
    with ctx.engine.begin() as conn:
        out = seats.answer_offer(conn, ctx, assembly_id, member_id, answer)
        audit_change(conn, f"member.{answer}", f"assembly:{assembly_id}",
                     {"member_id": member_id})
        outgoing.enqueue(conn, ctx, assembly_id, out)
        result = q.composition(conn, assembly_id)
    outgoing.publish(ctx)
    return jsonify(result)


@blueprint.post("/assemblies/<assembly_id>/members/<member_id>/withdraw")
@require(*FACILITATORS)
def withdraw(assembly_id: str, member_id: str) -> Response:
    ctx, data = current_context(), body()
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
