"""Drafting: recommendations and their versions. A draft changes only by a new version (an
edit of the drafting group or an accepted amendment); merging and splitting keep the
lineage; a draft under an open support vote does not change."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from services.common.web import ApiError
from services.recommendations import models as m
from services.recommendations import queries
from services.recommendations.queries import Row


def must_be_draft(conn: sa.Connection, rec: Row) -> None:
    if rec.status != "draft":
        raise ApiError("recommendation_id", f"the recommendation is {rec.status}, not a draft",
                       409)
    if queries.has_open_round(conn, rec.id):
        raise ApiError("recommendation_id", "a support vote on it is open", 409)


def add_version(conn: sa.Connection, rec_id: str, version: int, fields: dict[str, Any],
                reason: str, author: str, note: str = "") -> None:
    conn.execute(m.versions.insert().values(
        recommendation_id=rec_id, version=version, reason=reason, note=note,
        author=author, created_at=datetime.now(UTC), **fields))


def new_recommendation(conn: sa.Connection, assembly_id: str, fields: dict[str, Any],
                       group: str, reason: str, author: str, note: str = "") -> str:
    rec_id = str(uuid.uuid4())
    seq = queries.last_seq(conn, assembly_id) + 1
    now = datetime.now(UTC)
    conn.execute(m.recommendations.insert().values(
        id=rec_id, assembly_id=assembly_id, seq=seq, status="draft", current_version=1,
        group_name=group, created_at=now, updated_at=now))
    add_version(conn, rec_id, 1, fields, reason, author, note)
    return rec_id


def version_json(v: Row) -> dict[str, Any]:
    return {"version": v.version, "title": v.title, "text": v.text, "rationale": v.rationale,
            "theme": v.theme, "values": list(v.values), "reason": v.reason, "note": v.note,
            "author": v.author, "created_at": v.created_at.isoformat()}


def amendment_json(a: Row) -> dict[str, Any]:
    return {"id": a.id, "recommendation_id": a.recommendation_id,
            "base_version": a.base_version, "changes": a.changes, "rationale": a.rationale,
            "proposed_by": a.proposed_by, "status": a.status,
            "result_version": a.result_version, "created_at": a.created_at.isoformat()}
