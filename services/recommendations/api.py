"""The operators' and members' JSON API.

Every change validates first and then writes in one transaction together with its audit
entry (and, where other services care, its event in the outbox).

Roll call: the sessions service will own attendance; until it publishes presence per
voting round, a facilitator records who is present with ``PUT /rounds/<id>/roll-call``
(a list of seated member ids). Only members on that list may vote in that round.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify, request, url_for
from sqlalchemy.exc import IntegrityError

from services.common import audit, auth
from services.common.service import ServiceContext
from services.common.web import ApiError
from services.common.web import json_body as body
from services.contracts.kleroterion.v1.recommendations_events_pb2 import (
    AnswerRecorded,
    ImplementationUpdated,
    RecommendationAdopted,
)
from services.recommendations import app as service
from services.recommendations import models as m
from services.recommendations import scale as scales
from services.recommendations import tracking

# No assembly has more members than a national one with its substitutes.
MAX_SUPPORTERS = 1000

bp = Blueprint("recommendations", __name__)

FIELDS = ("title", "text", "rationale", "theme", "values")
ANSWERS = ("accepted", "partly_accepted", "rejected", "under_consideration")
IMPLEMENTATION = ("not_started", "in_progress", "pilot", "done")
BODY_KINDS = ("regional_council", "municipal_council", "municipal_committee", "other")
OPERATORS = ("facilitator", "administration")


# --- helpers --------------------------------------------------------------------------------


def ctx() -> ServiceContext:
    return current_app.extensions["kleroterion.context"]


def today() -> date:
    return current_app.extensions["kleroterion.clock"]()


def now() -> datetime:
    return datetime.now(UTC)


def text(data, field, *, required=True, max_len=10_000, default="") -> str:
    value = data.get(field)
    if value is None:
        if required:
            raise ApiError(field, "is required")
        return default
    if not isinstance(value, str):
        raise ApiError(field, "must be a text")
    value = value.strip()
    if required and not value:
        raise ApiError(field, "must not be empty")
    if len(value) > max_len:
        raise ApiError(field, f"must be at most {max_len} characters")
    return value


def a_date(data, field, *, required=True) -> date | None:
    value = data.get(field)
    if value is None:
        if required:
            raise ApiError(field, "is required")
        return None
    # fromisoformat alone would also take 20250601 and week dates.
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ApiError(field, "must be a date YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ApiError(field, "must be a date YYYY-MM-DD") from None


def choice(data, field, options, *, required=True) -> str | None:
    value = data.get(field)
    if value is None and not required:
        return None
    if value not in options:
        raise ApiError(field, f"must be one of {', '.join(options)}", 422)
    return value


LANGUAGES = ("da", "en")


def bilingual(raw: Any, field: str, *, required: bool = False, max_len: int | None = None
              ) -> dict[str, str] | None:
    """A text given in Danish and English, ``{"da": ..., "en": ...}``; None when absent and
    not required."""
    if raw is None and not required:
        return None
    if not (isinstance(raw, dict) and all(isinstance(raw.get(k), str) and raw[k].strip()
                                          for k in LANGUAGES)):
        raise ApiError(field, "must give a Danish and an English text (da, en)")
    if max_len is not None and any(len(raw[k]) > max_len for k in LANGUAGES):
        raise ApiError(field, f"must be at most {max_len} characters in each language")
    return {k: raw[k].strip() for k in LANGUAGES}


def language() -> str:
    """The page's language, ``?lang=`` (or the form's ``lang``): da unless asked."""
    lang = request.values.get("lang", "da")
    if lang not in LANGUAGES:
        raise ApiError("lang", f"must be one of {', '.join(LANGUAGES)}")
    return lang


def a_share(value: Any, field: str) -> float:
    """A share of a population, 0..1."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ApiError(field, "must be a number from 0 to 1")
    return float(value)


def check_shares_add_up(total: float, field: str, what: str) -> None:
    """The shares of one feature's values cover the population (±0.02 for rounding)."""
    if abs(total - 1) > 0.02:
        raise ApiError(field, f"the population shares of {what} add up to {total:.3f}, not 1")


def who() -> tuple[str, str]:
    p = auth.current_principal()
    return p.subject, p.role


@contextmanager
def change() -> Iterator[sa.Connection]:
    """One transaction; events it put in the outbox are published after the commit."""
    c = ctx()
    with c.engine.begin() as conn:
        yield conn
    c.outbox.try_publish()


def log_change(conn, action: str, target: str, detail: dict | None = None) -> None:
    actor, role = who()
    audit.record(conn, actor=actor, role=role, action=action, target=target, detail=detail)


def assembly_row(conn, assembly_id: str, *, create: bool = False):
    if create:
        service.ensure_assembly(conn, ctx().settings, assembly_id)
    row = conn.execute(sa.select(m.assemblies).where(m.assemblies.c.assembly_id == assembly_id)
                       ).first()
    if row is None:
        raise ApiError("assembly_id", f"unknown assembly {assembly_id!r}", 404)
    return row


def rec_row(conn, rec_id: str, field: str = "recommendation_id"):
    row = conn.execute(sa.select(m.recommendations).where(m.recommendations.c.id == rec_id)
                       ).first()
    if row is None:
        raise ApiError(field, f"unknown recommendation {rec_id!r}", 404)
    return row


def version_row(conn, rec_id: str, version: int):
    return conn.execute(sa.select(m.versions).where(m.versions.c.recommendation_id == rec_id,
                                                    m.versions.c.version == version)).first()


def version_json(v) -> dict:
    return {"version": v.version, "title": v.title, "text": v.text, "rationale": v.rationale,
            "theme": v.theme, "values": list(v.values), "reason": v.reason, "note": v.note,
            "author": v.author, "created_at": v.created_at.isoformat()}


def draft_fields(data, *, partial=False, prefix="") -> dict[str, Any]:
    """Title, text, rationale, theme and values from a request (all, or those present)."""
    out: dict[str, Any] = {}
    limits = {"title": 300, "text": 20_000, "rationale": 20_000, "theme": 200}
    for f, limit in limits.items():
        if partial and f not in data:
            continue
        try:
            out[f] = text(data, f, required=f in ("title", "text"), max_len=limit)
        except ApiError as exc:
            raise ApiError(prefix + exc.field, exc.reason, exc.status) from None
    if not partial or "values" in data:
        values = data.get("values", [])
        if not isinstance(values, list) or not all(isinstance(v, str) and v.strip()
                                                    for v in values):
            raise ApiError(prefix + "values", "must be a list of non-empty texts")
        out["values"] = [v.strip() for v in values]
    return out


def must_be_draft(conn, rec) -> None:
    if rec.status != "draft":
        raise ApiError("recommendation_id", f"the recommendation is {rec.status}, not a draft",
                       409)
    if conn.scalar(sa.select(sa.func.count()).select_from(m.rounds).where(
            m.rounds.c.recommendation_id == rec.id, m.rounds.c.status == "open")):
        raise ApiError("recommendation_id", "a support vote on it is open", 409)


def add_version(conn, rec_id: str, version: int, fields: dict, reason: str, note: str = ""
                ) -> None:
    conn.execute(m.versions.insert().values(
        recommendation_id=rec_id, version=version, reason=reason, note=note,
        author=who()[0], created_at=now(), **fields))


def new_recommendation(conn, assembly_id: str, fields: dict, group: str, reason: str,
                       note: str = "") -> str:
    rec_id = str(uuid.uuid4())
    seq = (conn.scalar(sa.select(sa.func.max(m.recommendations.c.seq))
                       .where(m.recommendations.c.assembly_id == assembly_id)) or 0) + 1
    conn.execute(m.recommendations.insert().values(
        id=rec_id, assembly_id=assembly_id, seq=seq, status="draft", current_version=1,
        group_name=group, created_at=now(), updated_at=now()))
    add_version(conn, rec_id, 1, fields, reason, note)
    return rec_id


def rec_json(conn, rec, *, full: bool = False) -> dict:
    current = version_row(conn, rec.id, rec.current_version)
    out = {"id": rec.id, "assembly_id": rec.assembly_id, "number": rec.seq,
           "status": rec.status, "group": rec.group_name, "version": rec.current_version,
           **{f: version_json(current)[f] for f in FIELDS},
           "support_share": rec.support_share, "adopted_round_id": rec.adopted_round_id}
    if full:
        out["versions"] = [version_json(v) for v in conn.execute(
            sa.select(m.versions).where(m.versions.c.recommendation_id == rec.id)
            .order_by(m.versions.c.version))]
        out["amendments"] = [amendment_json(a) for a in conn.execute(
            sa.select(m.amendments).where(m.amendments.c.recommendation_id == rec.id)
            .order_by(m.amendments.c.created_at))]
        out["merged_from"] = [r.parent_id for r in conn.execute(sa.select(m.lineage).where(
            m.lineage.c.child_id == rec.id, m.lineage.c.kind == "merge"))]
        out["split_from"] = [r.parent_id for r in conn.execute(sa.select(m.lineage).where(
            m.lineage.c.child_id == rec.id, m.lineage.c.kind == "split"))]
        out["became"] = [r.child_id for r in conn.execute(sa.select(m.lineage).where(
            m.lineage.c.parent_id == rec.id))]
        out["rounds"] = [round_json(r) for r in conn.execute(
            sa.select(m.rounds).where(m.rounds.c.recommendation_id == rec.id)
            .order_by(m.rounds.c.number))]
        out["minority_statements"] = tracking.minority_statements(conn, rec.id)
    return out


def amendment_json(a) -> dict:
    return {"id": a.id, "recommendation_id": a.recommendation_id,
            "base_version": a.base_version, "changes": a.changes, "rationale": a.rationale,
            "proposed_by": a.proposed_by, "status": a.status,
            "result_version": a.result_version, "created_at": a.created_at.isoformat()}


def round_json(r, *, voted: int | None = None, present: int | None = None) -> dict:
    out = {"id": r.id, "recommendation_id": r.recommendation_id, "number": r.number,
           "version": r.version, "status": r.status, "threshold": r.threshold,
           "scale": r.scale, "opened_at": r.opened_at.isoformat(),
           "closed_at": r.closed_at.isoformat() if r.closed_at else None, "result": r.result}
    if r.status == "open":  # the members' voting page, to hand to the panel
        out["vote_url"] = url_for("vote.vote_page", rec_id=r.recommendation_id)
    if voted is not None:
        out["voted"] = voted
        out["present"] = present
    return out


# --- assemblies and members -------------------------------------------------------------------


@bp.put("/assemblies/<assembly_id>")
@auth.require("facilitator")
def configure_assembly(assembly_id):
    data = body()
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
        assembly_row(conn, assembly_id, create=True)
        conn.execute(m.assemblies.update().where(m.assemblies.c.assembly_id == assembly_id)
                     .values(**values))
        log_change(conn, "assembly.configure", f"assembly:{assembly_id}",
                   {k: v for k, v in values.items() if k != "name"})
        return jsonify(assembly_json(conn, assembly_row(conn, assembly_id)))


def assembly_json(conn, a) -> dict:
    seated = conn.scalar(sa.select(sa.func.count()).select_from(m.members).where(
        m.members.c.assembly_id == a.assembly_id, m.members.c.seated.is_(True)))
    return {"assembly_id": a.assembly_id, "name": a.name,
            "scale": a.scale or scales.DEFAULT_SCALE, "threshold": a.threshold,
            "seated_members": seated, "receiving_body": a.receiving_body,
            "body_kind": a.body_kind,
            "handed_over_on": a.handed_over_on.isoformat() if a.handed_over_on else None,
            "answer_deadline": a.answer_deadline.isoformat() if a.answer_deadline else None}


@bp.get("/assemblies/<assembly_id>")
@auth.require(*OPERATORS)
def get_assembly(assembly_id):
    with ctx().engine.connect() as conn:
        return jsonify(assembly_json(conn, assembly_row(conn, assembly_id)))


@bp.get("/assemblies/<assembly_id>/members")
@auth.require("facilitator")
def list_members(assembly_id):
    with ctx().engine.connect() as conn:
        assembly_row(conn, assembly_id)
        rows = conn.execute(sa.select(m.members).where(m.members.c.assembly_id == assembly_id)
                            .order_by(m.members.c.member_id))
        return jsonify(members=[{"member_id": r.member_id, "seated": r.seated,
                                 "has_code": r.code_hash is not None} for r in rows])


def _code_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


@bp.post("/assemblies/<assembly_id>/members/<member_id>/code")
@auth.require("facilitator")
def issue_member_code(assembly_id, member_id):
    """Issue (or re-issue, voiding the old one) a seated member's personal code. The code
    is shown once; only its hash is kept."""
    code = "-".join(secrets.token_hex(2).upper() for _ in range(4))
    with change() as conn:
        assembly_row(conn, assembly_id)
        row = conn.execute(sa.select(m.members).where(m.members.c.assembly_id == assembly_id,
                                                      m.members.c.member_id == member_id)).first()
        if row is None or not row.seated:
            raise ApiError("member_id", "is not a seated member of this assembly", 404)
        conn.execute(m.members.update().where(m.members.c.assembly_id == assembly_id,
                                              m.members.c.member_id == member_id)
                     .values(code_hash=_code_hash(code), changed_at=now()))
        log_change(conn, "member.code_issued", f"member:{member_id}")
    return jsonify(member_id=member_id, member_code=code), 201


# --- drafting -------------------------------------------------------------------------------


@bp.post("/assemblies/<assembly_id>/recommendations")
@auth.require("facilitator")
def create_recommendation(assembly_id):
    data = body()
    fields = draft_fields(data)
    group = text(data, "group", required=False, max_len=200)
    with change() as conn:
        assembly_row(conn, assembly_id, create=True)
        rec_id = new_recommendation(conn, assembly_id, fields, group, "draft",
                                    text(data, "note", required=False))
        log_change(conn, "recommendation.draft", f"recommendation:{rec_id}")
        return jsonify(rec_json(conn, rec_row(conn, rec_id), full=True)), 201


@bp.get("/assemblies/<assembly_id>/recommendations")
@auth.require(*OPERATORS)
def list_recommendations(assembly_id):
    with ctx().engine.connect() as conn:
        assembly_row(conn, assembly_id)
        rows = conn.execute(sa.select(m.recommendations)
                            .where(m.recommendations.c.assembly_id == assembly_id)
                            .order_by(m.recommendations.c.seq))
        return jsonify(recommendations=[rec_json(conn, r) for r in rows])


@bp.get("/recommendations/<rec_id>")
@auth.require(*OPERATORS)
def get_recommendation(rec_id):
    with ctx().engine.connect() as conn:
        return jsonify(rec_json(conn, rec_row(conn, rec_id), full=True))


@bp.get("/recommendations/<rec_id>/versions/<int:version>")
@auth.require(*OPERATORS)
def get_version(rec_id, version):
    with ctx().engine.connect() as conn:
        rec_row(conn, rec_id)
        v = version_row(conn, rec_id, version)
        if v is None:
            raise ApiError("version", f"no version {version}", 404)
        return jsonify(version_json(v))


@bp.put("/recommendations/<rec_id>")
@auth.require("facilitator")
def edit_recommendation(rec_id):
    """A new version by the drafting group itself (amendments from others go through
    /amendments)."""
    data = body()
    changes = draft_fields(data, partial=True)
    if not changes:
        raise ApiError("body", f"give at least one of {', '.join(FIELDS)}")
    with change() as conn:
        rec = rec_row(conn, rec_id)
        must_be_draft(conn, rec)
        current = version_json(version_row(conn, rec_id, rec.current_version))
        new = rec.current_version + 1
        add_version(conn, rec_id, new, {f: changes.get(f, current[f]) for f in FIELDS}, "edit",
                    text(data, "note", required=False))
        conn.execute(m.recommendations.update().where(m.recommendations.c.id == rec_id)
                     .values(current_version=new, updated_at=now()))
        log_change(conn, "recommendation.edit", f"recommendation:{rec_id}",
                   {"version": new, "fields": sorted(changes)})
        return jsonify(rec_json(conn, rec_row(conn, rec_id), full=True))


@bp.post("/recommendations/<rec_id>/amendments")
@auth.require("facilitator")
def propose_amendment(rec_id):
    data = body()
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
        rec = rec_row(conn, rec_id)
        must_be_draft(conn, rec)
        base = data.get("base_version", rec.current_version)
        if not isinstance(base, int) or version_row(conn, rec_id, base) is None:
            raise ApiError("base_version", "is not a version of this recommendation")
        amendment_id = str(uuid.uuid4())
        conn.execute(m.amendments.insert().values(
            id=amendment_id, recommendation_id=rec_id, base_version=base, changes=changes,
            rationale=rationale, proposed_by=proposed_by, status="proposed",
            created_at=now()))
        log_change(conn, "amendment.propose", f"recommendation:{rec_id}",
                   {"amendment": amendment_id, "fields": sorted(changes)})
        a = conn.execute(sa.select(m.amendments).where(m.amendments.c.id == amendment_id)).first()
        return jsonify(amendment_json(a)), 201


def _amendment(conn, amendment_id):
    a = conn.execute(sa.select(m.amendments).where(m.amendments.c.id == amendment_id)).first()
    if a is None:
        raise ApiError("amendment_id", f"unknown amendment {amendment_id!r}", 404)
    if a.status != "proposed":
        raise ApiError("amendment_id", f"the amendment is already {a.status}", 409)
    return a


@bp.post("/amendments/<amendment_id>/accept")
@auth.require("facilitator")
def accept_amendment(amendment_id):
    """Apply the amendment as a new version. It conflicts only if a field it changes was
    changed after the version it was written against."""
    with change() as conn:
        a = _amendment(conn, amendment_id)
        rec = rec_row(conn, a.recommendation_id)
        must_be_draft(conn, rec)
        current = version_json(version_row(conn, rec.id, rec.current_version))
        base = version_json(version_row(conn, rec.id, a.base_version))
        clashing = sorted(f for f in a.changes if current[f] != base[f])
        if clashing:
            raise ApiError("changes", f"{', '.join(clashing)} changed since version "
                                      f"{a.base_version}; propose the amendment again", 409)
        new = rec.current_version + 1
        add_version(conn, rec.id, new, {f: a.changes.get(f, current[f]) for f in FIELDS},
                    "amendment", f"amendment {a.id}")
        conn.execute(m.recommendations.update().where(m.recommendations.c.id == rec.id)
                     .values(current_version=new, updated_at=now()))
        conn.execute(m.amendments.update().where(m.amendments.c.id == a.id).values(
            status="accepted", result_version=new, decided_by=who()[0], decided_at=now()))
        log_change(conn, "amendment.accept", f"recommendation:{rec.id}",
                   {"amendment": a.id, "version": new})
        return jsonify(rec_json(conn, rec_row(conn, rec.id), full=True))


@bp.post("/amendments/<amendment_id>/reject")
@auth.require("facilitator")
def reject_amendment(amendment_id):
    with change() as conn:
        a = _amendment(conn, amendment_id)
        conn.execute(m.amendments.update().where(m.amendments.c.id == a.id).values(
            status="rejected", decided_by=who()[0], decided_at=now()))
        log_change(conn, "amendment.reject", f"recommendation:{a.recommendation_id}",
                   {"amendment": a.id})
        a = conn.execute(sa.select(m.amendments).where(m.amendments.c.id == a.id)).first()
        return jsonify(amendment_json(a))


@bp.post("/assemblies/<assembly_id>/recommendations/merge")
@auth.require("facilitator")
def merge_recommendations(assembly_id):
    """Merge drafts into one new draft; the sources stay readable with status merged."""
    data = body()
    sources = data.get("sources")
    if (not isinstance(sources, list) or len(sources) < 2
            or not all(isinstance(s, str) for s in sources) or len(set(sources)) != len(sources)):
        raise ApiError("sources", "must list at least two different recommendation ids")
    fields = draft_fields(data)
    with change() as conn:
        assembly_row(conn, assembly_id)
        for i, source in enumerate(sources):
            rec = rec_row(conn, source, f"sources[{i}]")
            if rec.assembly_id != assembly_id:
                raise ApiError(f"sources[{i}]", "belongs to another assembly")
            try:
                must_be_draft(conn, rec)
            except ApiError as exc:
                raise ApiError(f"sources[{i}]", exc.reason, exc.status) from None
        group = text(data, "group", required=False, max_len=200)
        rec_id = new_recommendation(conn, assembly_id, fields, group, "merge",
                                    "merged from " + ", ".join(sources))
        for source in sources:
            conn.execute(m.lineage.insert().values(parent_id=source, child_id=rec_id,
                                                   kind="merge", created_at=now()))
            conn.execute(m.recommendations.update().where(m.recommendations.c.id == source)
                         .values(status="merged", updated_at=now()))
        log_change(conn, "recommendation.merge", f"recommendation:{rec_id}",
                   {"sources": sources})
        return jsonify(rec_json(conn, rec_row(conn, rec_id), full=True)), 201


@bp.post("/recommendations/<rec_id>/split")
@auth.require("facilitator")
def split_recommendation(rec_id):
    data = body()
    parts = data.get("parts")
    if not isinstance(parts, list) or len(parts) < 2:
        raise ApiError("parts", "must list at least two parts")
    checked = []
    for i, part in enumerate(parts):
        if not isinstance(part, dict):
            raise ApiError(f"parts[{i}]", "must be an object")
        checked.append(draft_fields(part, prefix=f"parts[{i}]."))
    with change() as conn:
        rec = rec_row(conn, rec_id)
        must_be_draft(conn, rec)
        created = []
        for fields in checked:
            child = new_recommendation(conn, rec.assembly_id, fields, rec.group_name, "split",
                                       f"split from {rec_id}")
            conn.execute(m.lineage.insert().values(parent_id=rec_id, child_id=child,
                                                   kind="split", created_at=now()))
            created.append(child)
        conn.execute(m.recommendations.update().where(m.recommendations.c.id == rec_id)
                     .values(status="split", updated_at=now()))
        log_change(conn, "recommendation.split", f"recommendation:{rec_id}", {"parts": created})
        return jsonify(parts=[rec_json(conn, rec_row(conn, c), full=True) for c in created]), 201


# --- support votes --------------------------------------------------------------------------


def round_row(conn, round_id: str):
    r = conn.execute(sa.select(m.rounds).where(m.rounds.c.id == round_id)).first()
    if r is None:
        raise ApiError("round_id", f"unknown voting round {round_id!r}", 404)
    return r


def must_be_open(r) -> None:
    if r.status != "open":
        raise ApiError("round_id", "the voting round is closed", 409)


@bp.post("/recommendations/<rec_id>/rounds")
@auth.require("facilitator")
def open_round(rec_id):
    data = body(optional=True)
    with change() as conn:
        rec = rec_row(conn, rec_id)
        must_be_draft(conn, rec)
        a = assembly_row(conn, rec.assembly_id)
        threshold = (scales.check_threshold(data["threshold"]) if "threshold" in data
                     else a.threshold)
        number = (conn.scalar(sa.select(sa.func.max(m.rounds.c.number))
                              .where(m.rounds.c.recommendation_id == rec_id)) or 0) + 1
        round_id = str(uuid.uuid4())
        conn.execute(m.rounds.insert().values(
            id=round_id, recommendation_id=rec_id, assembly_id=rec.assembly_id, number=number,
            version=rec.current_version, status="open", threshold=threshold,
            scale=a.scale or scales.DEFAULT_SCALE, hmac_key=secrets.token_hex(32),
            opened_at=now()))
        log_change(conn, "round.open", f"recommendation:{rec_id}",
                   {"round": round_id, "number": number, "threshold": threshold})
        return jsonify(round_json(round_row(conn, round_id), voted=0, present=0)), 201


@bp.put("/rounds/<round_id>/roll-call")
@auth.require("facilitator")
def roll_call(round_id):
    """Who is present for this round (replaces an earlier roll call of the same round)."""
    data = body()
    present = data.get("present")
    if not isinstance(present, list) or not all(isinstance(p, str) for p in present):
        raise ApiError("present", "must be a list of member ids")
    with change() as conn:
        r = round_row(conn, round_id)
        must_be_open(r)
        seated = set(conn.scalars(sa.select(m.members.c.member_id).where(
            m.members.c.assembly_id == r.assembly_id, m.members.c.seated.is_(True))))
        for i, member_id in enumerate(present):
            if member_id not in seated:
                raise ApiError(f"present[{i}]", f"{member_id!r} is not a seated member", 422)
        conn.execute(m.presence.delete().where(m.presence.c.round_id == round_id))
        for member_id in sorted(set(present)):
            conn.execute(m.presence.insert().values(round_id=round_id, member_id=member_id))
        log_change(conn, "round.roll_call", f"round:{round_id}", {"present": len(set(present))})
    return jsonify(round_id=round_id, present=len(set(present)))


def _voter_key(key_hex: str, member_id: str) -> str:
    return hmac.new(bytes.fromhex(key_hex), member_id.encode(), hashlib.sha256).hexdigest()


class Refused(ApiError):
    """A refused vote or questionnaire answer; ``kind`` lets the members' page say why in
    the member's language."""

    def __init__(self, kind: str, field: str, reason: str, status: int):
        super().__init__(field, reason, status)
        self.kind = kind


def record_ballot(round_id: str, code: Any, level: Any) -> None:
    """Record one member's vote in an open round: once per round, only members present at
    the roll call, and secretly (the ballot is keyed by an HMAC, the audit has no level).
    Used by the JSON API and the members' voting page alike."""
    if not isinstance(code, str) or not code.strip():
        raise Refused("code_missing", "member_code", "is required", 401)
    with change() as conn:
        r = round_row(conn, round_id)
        if r.status != "open":
            raise Refused("closed", "round_id", "the voting round is closed", 409)
        member = conn.execute(sa.select(m.members).where(
            m.members.c.code_hash == _code_hash(code.strip().upper()))).first()
        if member is None:
            raise Refused("code_unknown", "member_code", "unknown member code", 401)
        if member.assembly_id != r.assembly_id or not member.seated:
            raise Refused("not_seated", "member_code",
                                "only seated members of this assembly may vote", 403)
        if not conn.scalar(sa.select(sa.func.count()).select_from(m.presence).where(
                m.presence.c.round_id == round_id, m.presence.c.member_id == member.member_id)):
            raise Refused("not_present", "member_code",
                                "the member is not on this round's roll call", 403)
        levels = [lv["key"] for lv in r.scale]
        if level not in levels:
            raise Refused("level", "level", f"must be one of {', '.join(levels)}", 422)
        if conn.scalar(sa.select(sa.func.count()).select_from(m.round_voters).where(
                m.round_voters.c.round_id == round_id,
                m.round_voters.c.member_id == member.member_id)):
            raise Refused("already_voted", "member_code",
                                "has already voted in this round", 409)
        try:
            with conn.begin_nested():
                conn.execute(m.round_voters.insert().values(round_id=round_id,
                                                            member_id=member.member_id))
        except IntegrityError:  # a second request of the same member raced this one
            raise Refused("already_voted", "member_code",
                                "has already voted in this round", 409) from None
        conn.execute(m.ballots.insert().values(
            round_id=round_id, voter_key=_voter_key(r.hmac_key, member.member_id),
            level=level))
        # Audited without the level: the log must not break the secrecy of the ballot.
        audit.record(conn, actor=f"member:{member.member_id}", role="member",
                     action="round.vote", target=f"round:{round_id}")


@bp.post("/rounds/<round_id>/ballots")
def cast_ballot(round_id):
    """A member's vote: ``{"member_code": ..., "level": ...}``. No operator token."""
    data = body()
    record_ballot(round_id, data.get("member_code"), data.get("level"))
    return jsonify(round_id=round_id, recorded=True), 201


def _round_counts(conn, round_id: str) -> tuple[int, int]:
    voted = conn.scalar(sa.select(sa.func.count()).select_from(m.round_voters)
                        .where(m.round_voters.c.round_id == round_id))
    present = conn.scalar(sa.select(sa.func.count()).select_from(m.presence)
                          .where(m.presence.c.round_id == round_id))
    return voted, present


@bp.get("/rounds/<round_id>")
@auth.require(*OPERATORS)
def get_round(round_id):
    with ctx().engine.connect() as conn:
        r = round_row(conn, round_id)
        voted, present = _round_counts(conn, round_id)
        return jsonify(round_json(r, voted=voted, present=present))


@bp.post("/rounds/<round_id>/close")
@auth.require("facilitator")
def close_round(round_id):
    """Count the round. The HMAC key is erased, so afterwards not even the database ties a
    ballot to a member."""
    with change() as conn:
        r = round_row(conn, round_id)
        must_be_open(r)
        levels = list(conn.scalars(sa.select(m.ballots.c.level)
                                   .where(m.ballots.c.round_id == round_id)))
        result = {**scales.tally(r.scale, levels, r.threshold), "closed_on": today().isoformat()}
        conn.execute(m.rounds.update().where(m.rounds.c.id == round_id).values(
            status="closed", result=result, hmac_key=None, closed_at=now()))
        rec = rec_row(conn, r.recommendation_id)
        if result["threshold_met"]:
            conn.execute(m.recommendations.update().where(m.recommendations.c.id == rec.id)
                         .values(status="adopted", adopted_round_id=round_id,
                                 support_share=result["support_share"], updated_at=now()))
            v = version_row(conn, rec.id, r.version)
            service.enqueue(conn, ctx(), RecommendationAdopted(
                recommendation_id=rec.id, title=v.title, support_share=result["support_share"],
                threshold=r.threshold, round_id=round_id, round_number=r.number,
                version=r.version, votes=result["votes"], abstentions=result["abstentions"]),
                r.assembly_id)
        log_change(conn, "round.close", f"round:{round_id}",
                   {"support_share": result["support_share"],
                    "adopted": result["threshold_met"]})
        voted, present = _round_counts(conn, round_id)
        return jsonify(round_json(round_row(conn, round_id), voted=voted, present=present))


@bp.post("/recommendations/<rec_id>/minority-statements")
@auth.require("facilitator")
def add_minority_statement(rec_id):
    data = body()
    statement = text(data, "text", max_len=10_000)
    supporters = data.get("supporters")
    if supporters is not None and (isinstance(supporters, bool) or not isinstance(supporters, int)
                                   or not 1 <= supporters <= MAX_SUPPORTERS):
        raise ApiError("supporters", f"must be a whole number from 1 to {MAX_SUPPORTERS}")
    with change() as conn:
        rec = rec_row(conn, rec_id)
        if rec.status not in ("draft", "adopted"):
            raise ApiError("recommendation_id", f"the recommendation is {rec.status}", 409)
        round_id = data.get("round_id")
        if round_id is not None:
            r = round_row(conn, round_id)
            if r.recommendation_id != rec_id:
                raise ApiError("round_id", "is a round of another recommendation")
        statement_id = str(uuid.uuid4())
        conn.execute(m.minority_statements.insert().values(
            id=statement_id, recommendation_id=rec_id, round_id=round_id, text=statement,
            supporters=supporters, recorded_by=who()[0], created_at=now()))
        log_change(conn, "minority_statement.add", f"recommendation:{rec_id}",
                   {"statement": statement_id})
    return jsonify(id=statement_id, recommendation_id=rec_id, text=statement,
                   supporters=supporters, round_id=round_id), 201


# --- handover, answers, implementation ------------------------------------------------------


@bp.put("/assemblies/<assembly_id>/handover")
@auth.require("administration")
def record_handover(assembly_id):
    data = body()
    receiving_body = text(data, "receiving_body", max_len=200)
    kind = choice(data, "body_kind", BODY_KINDS)
    handed_over_on = a_date(data, "handed_over_on")
    deadline = a_date(data, "answer_deadline", required=False)
    if deadline is None:
        deadline = handed_over_on + timedelta(days=ctx().settings.answer_deadline_days)
    if deadline < handed_over_on:
        raise ApiError("answer_deadline", "is before the handover")
    with change() as conn:
        assembly_row(conn, assembly_id)
        conn.execute(m.assemblies.update().where(m.assemblies.c.assembly_id == assembly_id)
                     .values(receiving_body=receiving_body, body_kind=kind,
                             handed_over_on=handed_over_on, answer_deadline=deadline))
        log_change(conn, "assembly.handover", f"assembly:{assembly_id}",
                   {"body_kind": kind, "answer_deadline": deadline})
        return jsonify(assembly_json(conn, assembly_row(conn, assembly_id)))


def _adopted(conn, rec_id: str):
    rec = rec_row(conn, rec_id)
    if rec.status != "adopted":
        raise ApiError("recommendation_id", f"the recommendation is {rec.status}; only adopted "
                                            "recommendations are answered and tracked", 409)
    return rec


@bp.put("/recommendations/<rec_id>/answer-deadline")
@auth.require("administration")
def set_answer_deadline(rec_id):
    """A deadline for one recommendation's answer, instead of the assembly's (a harder
    question may get longer). ``{"answer_deadline": null}`` returns to the assembly's."""
    data = body()
    if "answer_deadline" not in data:
        raise ApiError("answer_deadline", "is required (a date YYYY-MM-DD, or null)")
    deadline = a_date(data, "answer_deadline", required=False)
    with change() as conn:
        rec = _adopted(conn, rec_id)
        a = assembly_row(conn, rec.assembly_id)
        if deadline is not None and a.handed_over_on and deadline < a.handed_over_on:
            raise ApiError("answer_deadline", "is before the handover")
        conn.execute(m.recommendations.update().where(m.recommendations.c.id == rec_id)
                     .values(answer_deadline=deadline, updated_at=now()))
        log_change(conn, "recommendation.answer_deadline", f"recommendation:{rec_id}",
                   {"answer_deadline": deadline and deadline.isoformat(),
                    "previous": rec.answer_deadline and rec.answer_deadline.isoformat()})
        return jsonify(tracking.recommendation_tracking(conn, rec_row(conn, rec_id), a,
                                                        today()))


@bp.post("/recommendations/<rec_id>/answers")
@auth.require("administration")
def record_answer(rec_id):
    """The receiving body's formal answer; earlier answers are kept as history."""
    data = body()
    answer = choice(data, "answer", ANSWERS)
    reasons = text(data, "reasons", max_len=20_000)
    answered_on = a_date(data, "answered_on")
    if answered_on > today():
        raise ApiError("answered_on", "lies in the future")
    with change() as conn:
        rec = _adopted(conn, rec_id)
        a = assembly_row(conn, rec.assembly_id)
        answered_by = text(data, "answered_by", required=False, max_len=200) or a.receiving_body
        if not answered_by:
            raise ApiError("answered_by", "is required before the handover is recorded")
        conn.execute(m.answers.insert().values(
            recommendation_id=rec_id, answer=answer, reasons=reasons, answered_on=answered_on,
            answered_by=answered_by, recorded_by=who()[0], recorded_at=now()))
        service.enqueue(conn, ctx(), AnswerRecorded(
            recommendation_id=rec_id, answer=answer, answered_by=answered_by,
            answered_on=answered_on.isoformat()), rec.assembly_id)
        log_change(conn, "answer.record", f"recommendation:{rec_id}", {"answer": answer})
        return jsonify(tracking.recommendation_tracking(conn, rec_row(conn, rec_id), a,
                                                        today())), 201


@bp.post("/recommendations/<rec_id>/implementation")
@auth.require("administration")
def update_implementation(rec_id):
    """Implementation status, kept apart from the formal answer: a rejected recommendation
    can still be piloted, an accepted one can stall."""
    data = body()
    status = choice(data, "status", IMPLEMENTATION)
    percent = data.get("percent")
    if percent is not None and (isinstance(percent, bool) or not isinstance(percent, int)
                                or not 0 <= percent <= 100):
        raise ApiError("percent", "must be a whole number from 0 to 100")
    if status == "done":
        if percent not in (None, 100):
            raise ApiError("percent", "must be 100 when the status is done")
        percent = 100
    if status == "not_started" and percent not in (None, 0):
        raise ApiError("percent", "must be 0 when the status is not_started")
    committee = text(data, "responsible_committee", required=False, max_len=200)
    note = text(data, "note", required=False)
    updated_on = a_date(data, "updated_on", required=False) or today()
    if updated_on > today():
        raise ApiError("updated_on", "lies in the future")
    with change() as conn:
        rec = _adopted(conn, rec_id)
        if not committee:
            committee = conn.scalar(sa.select(m.implementation.c.responsible_committee)
                                    .where(m.implementation.c.recommendation_id == rec_id)
                                    .order_by(m.implementation.c.id.desc()).limit(1)) or None
        conn.execute(m.implementation.insert().values(
            recommendation_id=rec_id, status=status, percent=percent,
            responsible_committee=committee, note=note, updated_on=updated_on,
            recorded_by=who()[0], recorded_at=now()))
        service.enqueue(conn, ctx(), ImplementationUpdated(
            recommendation_id=rec_id, status=status,
            percent=-1 if percent is None else percent,
            responsible_committee=committee or ""), rec.assembly_id)
        log_change(conn, "implementation.update", f"recommendation:{rec_id}",
                   {"status": status, "percent": percent})
        a = assembly_row(conn, rec.assembly_id)
        return jsonify(tracking.recommendation_tracking(conn, rec, a, today())), 201


@bp.post("/recommendations/<rec_id>/milestones")
@auth.require("administration")
def add_milestone(rec_id):
    data = body()
    title = text(data, "title", max_len=300)
    due = a_date(data, "due", required=False)
    done_on = a_date(data, "done_on", required=False)
    with change() as conn:
        _adopted(conn, rec_id)
        milestone_id = str(uuid.uuid4())
        conn.execute(m.milestones.insert().values(id=milestone_id, recommendation_id=rec_id,
                                                  title=title, due=due, done_on=done_on,
                                                  created_at=now()))
        log_change(conn, "milestone.add", f"recommendation:{rec_id}",
                   {"milestone": milestone_id})
    return jsonify(id=milestone_id, title=title, due=due and due.isoformat(),
                   done_on=done_on and done_on.isoformat()), 201


@bp.post("/milestones/<milestone_id>/done")
@auth.require("administration")
def milestone_done(milestone_id):
    data = body(optional=True)
    done_on = a_date(data, "done_on", required=False) or today()
    with change() as conn:
        row = conn.execute(sa.select(m.milestones).where(m.milestones.c.id == milestone_id)
                           ).first()
        if row is None:
            raise ApiError("milestone_id", f"unknown milestone {milestone_id!r}", 404)
        conn.execute(m.milestones.update().where(m.milestones.c.id == milestone_id)
                     .values(done_on=done_on))
        log_change(conn, "milestone.done", f"recommendation:{row.recommendation_id}",
                   {"milestone": milestone_id})
    return jsonify(id=milestone_id, done_on=done_on.isoformat())


@bp.get("/assemblies/<assembly_id>/tracking")
@auth.require(*OPERATORS)
def get_tracking(assembly_id):
    with ctx().engine.connect() as conn:
        a = assembly_row(conn, assembly_id)
        items = tracking.assembly_tracking(conn, a, today())
    return jsonify(assembly=assembly_id, recommendations=items,
                   overdue=[i["id"] for i in items if i["overdue"]])


@bp.get("/audit")
@auth.require("administration")
def get_audit():
    target = request.args.get("target")
    return jsonify(entries=[{"id": e.id, "at": e.at.isoformat(), "actor": e.actor,
                             "role": e.role, "action": e.action, "target": e.target,
                             "detail": e.detail}
                            for e in audit.entries(ctx().engine, target=target)])
