"""After the vote: the handover to the receiving body, its answers, the implementation and
its milestones, and the tracking of overdue answers. Only adopted recommendations are
answered and tracked."""
from __future__ import annotations

import uuid
from datetime import timedelta

import sqlalchemy as sa
from flask import Blueprint, Response, jsonify
from flask.typing import ResponseReturnValue

from services.common import auth
from services.common.service import current_context
from services.common.web import ApiError, json_body
from services.recommendations import assemblies, outgoing, queries, tracking
from services.recommendations import models as m
from services.recommendations.inputs import (
    ANSWERS,
    BODY_KINDS,
    IMPLEMENTATION,
    a_date,
    a_whole_number,
    an_optional_date,
    choice,
    text,
)
from services.recommendations.queries import Row
from services.recommendations.roles import ADMINISTRATION, OPERATORS
from services.recommendations.settings import settings_of
from services.recommendations.views.shared import change, log_change, now, today, who

blueprint = Blueprint("answers", __name__)


@blueprint.put("/assemblies/<assembly_id>/handover")
@auth.require(*ADMINISTRATION)
def record_handover(assembly_id: str) -> Response:
    data = json_body()
    receiving_body = text(data, "receiving_body", max_len=200)
    kind = choice(data, "body_kind", BODY_KINDS)
    handed_over_on = a_date(data, "handed_over_on")
    deadline = an_optional_date(data, "answer_deadline")
    if deadline is None:
        days = settings_of(current_context()).answer_deadline_days
        deadline = handed_over_on + timedelta(days=days)
    if deadline < handed_over_on:
        raise ApiError("answer_deadline", "is before the handover")
    with change() as conn:
        queries.assembly_row(conn, assembly_id)
        conn.execute(m.assemblies.update().where(m.assemblies.c.assembly_id == assembly_id)
                     .values(receiving_body=receiving_body, body_kind=kind,
                             handed_over_on=handed_over_on, answer_deadline=deadline))
        log_change(conn, "assembly.handover", f"assembly:{assembly_id}",
                   {"body_kind": kind, "answer_deadline": deadline})
        return jsonify(assemblies.assembly_json(conn, queries.assembly_row(conn, assembly_id)))


def _adopted(conn: sa.Connection, rec_id: str) -> Row:
    rec = queries.rec_row(conn, rec_id)
    if rec.status != "adopted":
        raise ApiError("recommendation_id", f"the recommendation is {rec.status}; only adopted "
                                            "recommendations are answered and tracked", 409)
    return rec


@blueprint.put("/recommendations/<rec_id>/answer-deadline")
@auth.require(*ADMINISTRATION)
def set_answer_deadline(rec_id: str) -> Response:
    """A deadline for one recommendation's answer, instead of the assembly's (a harder
    question may get longer). ``{"answer_deadline": null}`` returns to the assembly's."""
    data = json_body()
    if "answer_deadline" not in data:
        raise ApiError("answer_deadline", "is required (a date YYYY-MM-DD, or null)")
    deadline = an_optional_date(data, "answer_deadline")
    with change() as conn:
        rec = _adopted(conn, rec_id)
        a = queries.assembly_row(conn, rec.assembly_id)
        if deadline is not None and a.handed_over_on and deadline < a.handed_over_on:
            raise ApiError("answer_deadline", "is before the handover")
        conn.execute(m.recommendations.update().where(m.recommendations.c.id == rec_id)
                     .values(answer_deadline=deadline, updated_at=now()))
        log_change(conn, "recommendation.answer_deadline", f"recommendation:{rec_id}",
                   {"answer_deadline": deadline and deadline.isoformat(),
                    "previous": rec.answer_deadline and rec.answer_deadline.isoformat()})
        return jsonify(tracking.recommendation_tracking(conn, queries.rec_row(conn, rec_id), a,
                                                        today()))


@blueprint.post("/recommendations/<rec_id>/answers")
@auth.require(*ADMINISTRATION)
def record_answer(rec_id: str) -> ResponseReturnValue:
    """The receiving body's formal answer; earlier answers are kept as history."""
    data = json_body()
    answer = choice(data, "answer", ANSWERS)
    reasons = text(data, "reasons", max_len=20_000)
    answered_on = a_date(data, "answered_on")
    if answered_on > today():
        raise ApiError("answered_on", "lies in the future")
    with change() as conn:
        rec = _adopted(conn, rec_id)
        a = queries.assembly_row(conn, rec.assembly_id)
        answered_by = text(data, "answered_by", required=False, max_len=200) or a.receiving_body
        if not answered_by:
            raise ApiError("answered_by", "is required before the handover is recorded")
        conn.execute(m.answers.insert().values(
            recommendation_id=rec_id, answer=answer, reasons=reasons, answered_on=answered_on,
            answered_by=answered_by, recorded_by=who()[0], recorded_at=now()))
        outgoing.answer_recorded(conn, current_context(), assembly_id=rec.assembly_id,
                                 recommendation_id=rec_id, answer=answer,
                                 answered_by=answered_by, answered_on=answered_on)
        log_change(conn, "answer.record", f"recommendation:{rec_id}", {"answer": answer})
        return jsonify(tracking.recommendation_tracking(conn, queries.rec_row(conn, rec_id), a,
                                                        today())), 201


@blueprint.post("/recommendations/<rec_id>/implementation")
@auth.require(*ADMINISTRATION)
def update_implementation(rec_id: str) -> ResponseReturnValue:
    """Implementation status, kept apart from the formal answer: a rejected recommendation
    can still be piloted, an accepted one can stall."""
    data = json_body()
    status = choice(data, "status", IMPLEMENTATION)
    percent = data.get("percent")
    if percent is not None:
        a_whole_number(percent, "percent", 0, 100)
    if status == "done":
        if percent not in (None, 100):
            raise ApiError("percent", "must be 100 when the status is done")
        percent = 100
    if status == "not_started" and percent not in (None, 0):
        raise ApiError("percent", "must be 0 when the status is not_started")
    committee: str | None = text(data, "responsible_committee", required=False, max_len=200)
    note = text(data, "note", required=False)
    updated_on = an_optional_date(data, "updated_on") or today()
    if updated_on > today():
        raise ApiError("updated_on", "lies in the future")
    with change() as conn:
        rec = _adopted(conn, rec_id)
        if not committee:
            committee = queries.last_committee(conn, rec_id) or None
        conn.execute(m.implementation.insert().values(
            recommendation_id=rec_id, status=status, percent=percent,
            responsible_committee=committee, note=note, updated_on=updated_on,
            recorded_by=who()[0], recorded_at=now()))
        outgoing.implementation_updated(conn, current_context(), assembly_id=rec.assembly_id,
                                        recommendation_id=rec_id, status=status,
                                        percent=percent, responsible_committee=committee)
        log_change(conn, "implementation.update", f"recommendation:{rec_id}",
                   {"status": status, "percent": percent})
        a = queries.assembly_row(conn, rec.assembly_id)
        return jsonify(tracking.recommendation_tracking(conn, rec, a, today())), 201


@blueprint.post("/recommendations/<rec_id>/milestones")
@auth.require(*ADMINISTRATION)
def add_milestone(rec_id: str) -> ResponseReturnValue:
    data = json_body()
    title = text(data, "title", max_len=300)
    due = an_optional_date(data, "due")
    done_on = an_optional_date(data, "done_on")
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


@blueprint.post("/milestones/<milestone_id>/done")
@auth.require(*ADMINISTRATION)
def milestone_done(milestone_id: str) -> Response:
    data = json_body(optional=True)
    done_on = an_optional_date(data, "done_on") or today()
    with change() as conn:
        row = queries.milestone(conn, milestone_id)
        conn.execute(m.milestones.update().where(m.milestones.c.id == milestone_id)
                     .values(done_on=done_on))
        log_change(conn, "milestone.done", f"recommendation:{row.recommendation_id}",
                   {"milestone": milestone_id})
    return jsonify(id=milestone_id, done_on=done_on.isoformat())


@blueprint.get("/assemblies/<assembly_id>/tracking")
@auth.require(*OPERATORS)
def get_tracking(assembly_id: str) -> Response:
    with current_context().engine.connect() as conn:
        a = queries.assembly_row(conn, assembly_id)
        items = tracking.assembly_tracking(conn, a, today())
    return jsonify(assembly=assembly_id, recommendations=items,
                   overdue=[i["id"] for i in items if i["overdue"]])
