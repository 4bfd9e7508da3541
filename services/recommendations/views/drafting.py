"""Drafting: recommendations, their versions, amendments, merges and splits."""
from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, jsonify
from flask.typing import ResponseReturnValue

from services.common import auth
from services.common.service import current_context
from services.common.web import ApiError, json_body
from services.recommendations import assemblies, drafting, queries, tracking
from services.recommendations import models as m
from services.recommendations.drafting import amendment_json, version_json
from services.recommendations.inputs import FIELDS, draft_fields, text
from services.recommendations.queries import Row
from services.recommendations.roles import FACILITATOR, OPERATORS
from services.recommendations.settings import settings_of
from services.recommendations.views.shared import change, log_change, now, who
from services.recommendations.views.voting import round_json

blueprint = Blueprint("drafting", __name__)


def rec_json(conn: sa.Connection, rec: Row, *, full: bool = False) -> dict[str, Any]:
    current = version_json(queries.current_version(conn, rec))
    out: dict[str, Any] = {
        "id": rec.id, "assembly_id": rec.assembly_id, "number": rec.seq,
        "status": rec.status, "group": rec.group_name, "version": rec.current_version,
        **{f: current[f] for f in FIELDS},
        "support_share": rec.support_share, "adopted_round_id": rec.adopted_round_id}
    if full:
        out["versions"] = [version_json(v) for v in queries.versions(conn, rec.id)]
        out["amendments"] = [amendment_json(a) for a in queries.amendments(conn, rec.id)]
        out.update(queries.lineage(conn, rec.id))
        out["rounds"] = [round_json(r) for r in queries.rounds(conn, rec.id)]
        out["minority_statements"] = tracking.minority_statements(conn, rec.id)
    return out


@blueprint.post("/assemblies/<assembly_id>/recommendations")
@auth.require(*FACILITATOR)
def create_recommendation(assembly_id: str) -> ResponseReturnValue:
    data = json_body()
    fields = draft_fields(data)
    group = text(data, "group", required=False, max_len=200)
    with change() as conn:
        assemblies.ensure_assembly(conn, settings_of(current_context()), assembly_id)
        rec_id = drafting.new_recommendation(conn, assembly_id, fields, group, "draft",
                                             who()[0], text(data, "note", required=False))
        log_change(conn, "recommendation.draft", f"recommendation:{rec_id}")
        return jsonify(rec_json(conn, queries.rec_row(conn, rec_id), full=True)), 201


@blueprint.get("/assemblies/<assembly_id>/recommendations")
@auth.require(*OPERATORS)
def list_recommendations(assembly_id: str) -> Response:
    with current_context().engine.connect() as conn:
        queries.assembly_row(conn, assembly_id)
        return jsonify(recommendations=[rec_json(conn, r)
                                        for r in queries.recommendations(conn, assembly_id)])


@blueprint.get("/recommendations/<rec_id>")
@auth.require(*OPERATORS)
def get_recommendation(rec_id: str) -> Response:
    with current_context().engine.connect() as conn:
        return jsonify(rec_json(conn, queries.rec_row(conn, rec_id), full=True))


@blueprint.get("/recommendations/<rec_id>/versions/<int:version>")
@auth.require(*OPERATORS)
def get_version(rec_id: str, version: int) -> Response:
    with current_context().engine.connect() as conn:
        queries.rec_row(conn, rec_id)
        v = queries.version_row(conn, rec_id, version)
        if v is None:
            raise ApiError("version", f"no version {version}", 404)
        return jsonify(version_json(v))


@blueprint.put("/recommendations/<rec_id>")
@auth.require(*FACILITATOR)
def edit_recommendation(rec_id: str) -> Response:
    """A new version by the drafting group itself (amendments from others go through
    /amendments)."""
    data = json_body()
    changes = draft_fields(data, partial=True)
    if not changes:
        raise ApiError("body", f"give at least one of {', '.join(FIELDS)}")
    with change() as conn:
        rec = queries.rec_row(conn, rec_id)
        drafting.must_be_draft(conn, rec)
        current = version_json(queries.current_version(conn, rec))
        new = rec.current_version + 1
        drafting.add_version(conn, rec_id, new, {f: changes.get(f, current[f]) for f in FIELDS},
                             "edit", who()[0], text(data, "note", required=False))
        conn.execute(m.recommendations.update().where(m.recommendations.c.id == rec_id)
                     .values(current_version=new, updated_at=now()))
        log_change(conn, "recommendation.edit", f"recommendation:{rec_id}",
                   {"version": new, "fields": sorted(changes)})
        return jsonify(rec_json(conn, queries.rec_row(conn, rec_id), full=True))


@blueprint.post("/recommendations/<rec_id>/amendments")
@auth.require(*FACILITATOR)
def propose_amendment(rec_id: str) -> ResponseReturnValue:
    data = json_body()
    raw = data.get("changes")
    if not isinstance(raw, dict) or not raw:
        raise ApiError("changes", f"must be an object with at least one of {', '.join(FIELDS)}")
    unknown = sorted(set(raw) - set(FIELDS))
    if unknown:
        raise ApiError("changes", f"unknown fields {', '.join(unknown)}")
    changes = draft_fields(raw, partial=True, prefix="changes.")
    rationale = text(data, "rationale", required=False)
    proposed_by = text(data, "proposed_by", required=False, max_len=200) or who()[0]
    with change() as conn:
        rec = queries.rec_row(conn, rec_id)
        drafting.must_be_draft(conn, rec)
        base = data.get("base_version", rec.current_version)
        if not isinstance(base, int) or queries.version_row(conn, rec_id, base) is None:
            raise ApiError("base_version", "is not a version of this recommendation")
        amendment_id = str(uuid.uuid4())
        conn.execute(m.amendments.insert().values(
            id=amendment_id, recommendation_id=rec_id, base_version=base, changes=changes,
            rationale=rationale, proposed_by=proposed_by, status="proposed",
            created_at=now()))
        log_change(conn, "amendment.propose", f"recommendation:{rec_id}",
                   {"amendment": amendment_id, "fields": sorted(changes)})
        a = queries.amendment(conn, amendment_id)
        assert a is not None  # written just above
        return jsonify(amendment_json(a)), 201


def _proposed(conn: sa.Connection, amendment_id: str) -> Row:
    a = queries.amendment(conn, amendment_id)
    if a is None:
        raise ApiError("amendment_id", f"unknown amendment {amendment_id!r}", 404)
    if a.status != "proposed":
        raise ApiError("amendment_id", f"the amendment is already {a.status}", 409)
    return a


@blueprint.post("/amendments/<amendment_id>/accept")
@auth.require(*FACILITATOR)
def accept_amendment(amendment_id: str) -> Response:
    """Apply the amendment as a new version. It conflicts only if a field it changes was
    changed after the version it was written against."""
    with change() as conn:
        a = _proposed(conn, amendment_id)
        rec = queries.rec_row(conn, a.recommendation_id)
        drafting.must_be_draft(conn, rec)
        current = version_json(queries.current_version(conn, rec))
        base_row = queries.version_row(conn, rec.id, a.base_version)
        assert base_row is not None  # checked when the amendment was proposed
        base = version_json(base_row)
        clashing = sorted(f for f in a.changes if current[f] != base[f])
        if clashing:
            raise ApiError("changes", f"{', '.join(clashing)} changed since version "
                                      f"{a.base_version}; propose the amendment again", 409)
        new = rec.current_version + 1
        drafting.add_version(conn, rec.id, new,
                             {f: a.changes.get(f, current[f]) for f in FIELDS},
                             "amendment", who()[0], f"amendment {a.id}")
        conn.execute(m.recommendations.update().where(m.recommendations.c.id == rec.id)
                     .values(current_version=new, updated_at=now()))
        conn.execute(m.amendments.update().where(m.amendments.c.id == a.id).values(
            status="accepted", result_version=new, decided_by=who()[0], decided_at=now()))
        log_change(conn, "amendment.accept", f"recommendation:{rec.id}",
                   {"amendment": a.id, "version": new})
        return jsonify(rec_json(conn, queries.rec_row(conn, rec.id), full=True))


@blueprint.post("/amendments/<amendment_id>/reject")
@auth.require(*FACILITATOR)
def reject_amendment(amendment_id: str) -> Response:
    with change() as conn:
        a = _proposed(conn, amendment_id)
        conn.execute(m.amendments.update().where(m.amendments.c.id == a.id).values(
            status="rejected", decided_by=who()[0], decided_at=now()))
        log_change(conn, "amendment.reject", f"recommendation:{a.recommendation_id}",
                   {"amendment": a.id})
        rejected = queries.amendment(conn, a.id)
        assert rejected is not None  # read just above
        return jsonify(amendment_json(rejected))


@blueprint.post("/assemblies/<assembly_id>/recommendations/merge")
@auth.require(*FACILITATOR)
def merge_recommendations(assembly_id: str) -> ResponseReturnValue:
    """Merge drafts into one new draft; the sources stay readable with status merged."""
    data = json_body()
    sources = data.get("sources")
    if (not isinstance(sources, list) or len(sources) < 2
            or not all(isinstance(s, str) for s in sources) or len(set(sources)) != len(sources)):
        raise ApiError("sources", "must list at least two different recommendation ids")
    fields = draft_fields(data)
    with change() as conn:
        queries.assembly_row(conn, assembly_id)
        for i, source in enumerate(sources):
            rec = queries.rec_row(conn, source, f"sources[{i}]")
            if rec.assembly_id != assembly_id:
                raise ApiError(f"sources[{i}]", "belongs to another assembly")
            try:
                drafting.must_be_draft(conn, rec)
            except ApiError as exc:
                raise ApiError(f"sources[{i}]", exc.reason, exc.status) from None
        group = text(data, "group", required=False, max_len=200)
        rec_id = drafting.new_recommendation(conn, assembly_id, fields, group, "merge",
                                             who()[0], "merged from " + ", ".join(sources))
        for source in sources:
            conn.execute(m.lineage.insert().values(parent_id=source, child_id=rec_id,
                                                   kind="merge", created_at=now()))
            conn.execute(m.recommendations.update().where(m.recommendations.c.id == source)
                         .values(status="merged", updated_at=now()))
        log_change(conn, "recommendation.merge", f"recommendation:{rec_id}",
                   {"sources": sources})
        return jsonify(rec_json(conn, queries.rec_row(conn, rec_id), full=True)), 201


@blueprint.post("/recommendations/<rec_id>/split")
@auth.require(*FACILITATOR)
def split_recommendation(rec_id: str) -> ResponseReturnValue:
    data = json_body()
    parts = data.get("parts")
    if not isinstance(parts, list) or len(parts) < 2:
        raise ApiError("parts", "must list at least two parts")
    checked = []
    for i, part in enumerate(parts):
        if not isinstance(part, dict):
            raise ApiError(f"parts[{i}]", "must be an object")
        checked.append(draft_fields(part, prefix=f"parts[{i}]."))
    with change() as conn:
        rec = queries.rec_row(conn, rec_id)
        drafting.must_be_draft(conn, rec)
        created = []
        for fields in checked:
            child = drafting.new_recommendation(conn, rec.assembly_id, fields, rec.group_name,
                                                "split", who()[0], f"split from {rec_id}")
            conn.execute(m.lineage.insert().values(parent_id=rec_id, child_id=child,
                                                   kind="split", created_at=now()))
            created.append(child)
        conn.execute(m.recommendations.update().where(m.recommendations.c.id == rec_id)
                     .values(status="split", updated_at=now()))
        log_change(conn, "recommendation.split", f"recommendation:{rec_id}", {"parts": created})
        return jsonify(parts=[rec_json(conn, queries.rec_row(conn, c), full=True)
                              for c in created]), 201
