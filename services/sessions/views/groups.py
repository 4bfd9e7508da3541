"""Rotating groups: the facilitator's constraints (apart, together, a fixed table), the
tables of one group-work agenda item (mixing members who have not met) and the session's
printable table plan."""
from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, jsonify, render_template, request

from services.common.auth import require
from services.common.service import current_context
from services.common.web import ApiError
from services.common.web import json_body as body
from services.contracts.kleroterion.v1 import sessions_events_pb2 as pb
from services.sessions import groups, outgoing
from services.sessions import models as m
from services.sessions import queries as q
from services.sessions.inputs import audit_change, whole
from services.sessions.rendering import TEXT, lang, local_time, table_plan_pdf
from services.sessions.roles import FACILITATORS, READERS
from services.sessions.settings import settings_of

blueprint = Blueprint("sessions_groups", __name__, url_prefix="/api")


@blueprint.put("/assemblies/<assembly_id>/group-constraints")
@require(*FACILITATORS)
def set_constraints(assembly_id: str) -> Response:
    ctx, data = current_context(), body()
    items = data.get("constraints")
    if not isinstance(items, list):
        raise ApiError("constraints", "must be a list of {kind, members, table}", 422)
    rows: list[dict[str, Any]] = []
    for k, c in enumerate(items):
        field = f"constraints[{k}]"
        if not isinstance(c, dict) or c.get("kind") not in groups.KINDS:
            raise ApiError(f"{field}.kind", f"must be one of {', '.join(groups.KINDS)}", 422)
        members = c.get("members")
        if not (isinstance(members, list) and members
                and all(isinstance(x, str) for x in members)):
            raise ApiError(f"{field}.members", "must be a non-empty list of member ids", 422)
        if c["kind"] != "fixed" and len(members) < 2:
            raise ApiError(f"{field}.members", f"'{c['kind']}' needs at least two members",
                           422)
        table = c.get("table")
        if c["kind"] == "fixed":
            table = whole(c, "table", minimum=1)
        rows.append({"kind": c["kind"], "members": json.dumps(members), "table_no": table})
    with ctx.engine.begin() as conn:
        q.assembly(conn, assembly_id)
        known = {x["member_id"] for x in q.members(conn, assembly_id)}
        for k, row in enumerate(rows):
            unknown = [x for x in json.loads(row["members"]) if x not in known]
            if unknown:
                raise ApiError(f"constraints[{k}].members",
                               f"unknown members: {', '.join(unknown)}", 422)
        conn.execute(m.group_constraints.delete()
                     .where(m.group_constraints.c.assembly_id == assembly_id))
        for row in rows:
            conn.execute(m.group_constraints.insert().values(assembly_id=assembly_id, **row))
        audit_change(conn, "groups.constraints", f"assembly:{assembly_id}",
                     {"count": len(rows)})
    return jsonify(count=len(rows))


@blueprint.post("/agenda-items/<item_id>/groups")
@require(*FACILITATORS)
def assign_groups(item_id: str) -> Response:
    ctx, data = current_context(), body()
    with ctx.engine.begin() as conn:
        item, session = q.group_item(conn, item_id)
        assembly_id = session["assembly_id"]
        size = whole(data, "table_size",
                     item["table_size"] or settings_of(ctx).default_table_size, minimum=2)
        seed = data.get("seed", item_id)
        present = q.present(conn, assembly_id, session["id"])
        history = q.history(conn, assembly_id, item_id)
        try:
            tables = groups.assign_round(
                [x["member_id"] for x in present],
                {x["member_id"]: x["features"] for x in present},
                size, met=groups.count_pairs(history),
                constraints=q.constraints(conn, assembly_id), seed=str(seed))
        except groups.GroupingError as exc:
            raise ApiError(exc.field, exc.reason, 422) from None
        conn.execute(m.seatings.delete().where(m.seatings.c.agenda_item_id == item_id))
        for number, table in enumerate(tables, start=1):
            for member_id in table:
                conn.execute(m.seatings.insert().values(
                    agenda_item_id=item_id, member_id=member_id, assembly_id=assembly_id,
                    table_no=number))
        stats = groups.pair_stats([*history, tables])
        audit_change(conn, "groups.assign", f"agenda_item:{item_id}",
                     {"tables": len(tables), "seated": len(present), "seed": str(seed)})
        outgoing.enqueue(conn, ctx, assembly_id, [pb.GroupsAssigned(
            session_id=session["id"], agenda_item_id=item_id, tables=len(tables),
            seated=len(present), distinct_pairs_so_far=stats["distinct_pairs"],
            repeat_pairs_so_far=stats["repeat_pairings"])])
    outgoing.publish(ctx)
    return jsonify(agenda_item_id=item_id, tables=tables, **stats)


@blueprint.get("/agenda-items/<item_id>/groups")
@require(*READERS)
def get_groups(item_id: str) -> Response:
    with current_context().engine.connect() as conn:
        q.group_item(conn, item_id)
        return jsonify(agenda_item_id=item_id, tables=q.tables(conn, item_id))


@blueprint.get("/sessions/<session_id>/table-plan")
@require(*READERS)
def table_plan(session_id: str) -> Response | str:
    with current_context().engine.connect() as conn:
        session = q.session(conn, session_id)
        assembly = q.assembly(conn, session["assembly_id"])
        names = {x["member_id"]: (x["display_name"] if x["name_consent"] and x["display_name"]
                                  else None)
                 for x in q.members(conn, assembly["id"])}
        slots = [{"item": a, "tables": q.tables(conn, a["id"])}
                 for a in q.agenda(conn, session_id) if a["kind"] == "group_work"]
    language = lang()
    if request.args.get("format") == "pdf":
        return Response(table_plan_pdf(assembly, session, slots, names),
                        mimetype="application/pdf")
    return render_template("table_plan.html", lang=language, t=TEXT[language],
                           assembly=assembly, session=session, slots=slots, names=names,
                           local=local_time(current_context()))
