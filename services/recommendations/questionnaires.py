"""Anonymous evaluation questionnaires (OECD evaluation guidelines, 2021): members answer
after each session and at the end, observers and organisers at the end.

Each respondent answers once, and nothing stored links an answer to a respondent:
- members prove who they are with their personal member code; that they have answered is
  kept as an HMAC of the member id under the questionnaire's own key, which is erased when
  the questionnaire closes;
- observers and organisers get one-time codes, handed out on paper and tied to no name;
- answers to closed questions are only counted (``rec_answer_tallies``); free-text answers
  are kept with a random key and no time. No answer is written to the audit log.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, jsonify
from sqlalchemy.exc import IntegrityError

from services.common import auth
from services.common.web import ApiError
from services.recommendations import models as m
from services.recommendations.api import (
    OPERATORS,
    Refused,
    assembly_row,
    bilingual,
    body,
    change,
    ctx,
    log_change,
    now,
    text,
)

bp = Blueprint("questionnaires", __name__)

AUDIENCES = ("member", "observer", "organiser")
STAGES = ("session", "final")
KINDS = ("agree", "choice", "text")
MAX_TEXT = 2000
MAX_CODES = 500

AGREE = [
    {"key": "1", "label": {"da": "Helt uenig", "en": "Strongly disagree"}},
    {"key": "2", "label": {"da": "Uenig", "en": "Disagree"}},
    {"key": "3", "label": {"da": "Hverken enig eller uenig", "en": "Neither agree nor disagree"}},
    {"key": "4", "label": {"da": "Enig", "en": "Agree"}},
    {"key": "5", "label": {"da": "Helt enig", "en": "Strongly agree"}},
]


def _q(qid: str, kind: str, da: str, en: str) -> dict:
    return {"id": qid, "kind": kind, "text": {"da": da, "en": en}}


# The default sets follow the OECD guidelines' criteria for the deliberative experience
# (understanding of the task, being heard, balanced information, neutral facilitation,
# enough time) and, at the end, trust in the process and in its pathway to impact.
_SESSION = [
    _q("understanding", "agree", "Jeg forstod, hvad opgaven var i dag.",
       "I understood what today's task was."),
    _q("heard", "agree", "Jeg fik sagt det, jeg ville, og blev lyttet til.",
       "I could say what I wanted to, and I was listened to."),
    _q("information_balance", "agree", "Oplæggene og materialet var alsidige og balancerede.",
       "The talks and materials were varied and balanced."),
    _q("facilitation", "agree", "Facilitatorerne var neutrale og hjalp os godt på vej.",
       "The facilitators were neutral and helped us along well."),
    _q("time", "agree", "Der var tid nok til at drøfte emnerne ordentligt.",
       "There was enough time to discuss the topics properly."),
    _q("comment", "text", "Er der andet, du vil fortælle os om dagen?",
       "Is there anything else you would like to tell us about the day?"),
]
_FINAL_MEMBER = _SESSION[:5] + [
    _q("trust_process", "agree", "Jeg har tillid til, at forløbet var fair og uafhængigt.",
       "I trust that the process was fair and independent."),
    _q("recommendations_reflect", "agree", "Anbefalingerne afspejler, hvad panelet mente.",
       "The recommendations reflect what the panel thought."),
    _q("trust_impact", "agree", "Jeg tror, politikerne vil tage anbefalingerne alvorligt.",
       "I believe the politicians will take the recommendations seriously."),
    _q("again", "agree", "Jeg ville gerne deltage i et borgerpanel igen.",
       "I would like to take part in a citizens' assembly again."),
    _q("comment", "text", "Er der andet, du vil fortælle os om forløbet?",
       "Is there anything else you would like to tell us about the process?"),
]
_OBSERVER = [
    _q("neutral_facilitation", "agree", "Faciliteringen var neutral.",
       "The facilitation was neutral."),
    _q("equal_voice", "agree", "Alle medlemmer havde lige mulighed for at komme til orde.",
       "Every member had an equal opportunity to speak."),
    _q("information_balance", "agree", "Informationen til panelet var balanceret.",
       "The information given to the panel was balanced."),
    _q("no_steering", "agree", "Arrangørerne styrede ikke panelets konklusioner.",
       "The organisers did not steer the panel's conclusions."),
    _q("followed_plan", "agree", "Forløbet fulgte det offentliggjorte program.",
       "The process followed the published programme."),
    _q("comment", "text", "Bemærkninger", "Remarks"),
]
_ORGANISER = [
    _q("clear_remit", "agree", "Panelets opgave og mandat var klart formuleret.",
       "The panel's task and remit were clearly stated."),
    _q("political_commitment", "agree", "Politikerne gav et klart tilsagn om at svare.",
       "The politicians gave a clear commitment to respond."),
    _q("recruitment_reach", "agree", "Rekrutteringen nåede de grupper, vi ville nå.",
       "The recruitment reached the groups we meant to reach."),
    _q("resources", "agree", "Tid og ressourcer slog til.",
       "Time and resources were sufficient."),
    _q("independence", "agree", "Forløbet var uafhængigt af særinteresser.",
       "The process was independent of special interests."),
    _q("comment", "text", "Erfaringer til næste gang", "Lessons for next time"),
]


def default_questions(audience: str, stage: str) -> list[dict]:
    if audience == "member":
        chosen = _SESSION if stage == "session" else _FINAL_MEMBER
    else:
        chosen = _OBSERVER if audience == "observer" else _ORGANISER
    return [{**q, "options": AGREE} if q["kind"] == "agree" else dict(q) for q in chosen]


def _text(raw: Any, field: str) -> dict[str, str]:
    return bilingual(raw, field, required=True, max_len=500)


def check_questions(raw: Any) -> list[dict]:
    """An assembly's own questions: ``[{id, kind: agree|choice|text, text: {da, en},
    options: [{key, label: {da, en}}] (choice only)}]``."""
    if not isinstance(raw, list) or not raw:
        raise ApiError("questions", "must be a non-empty list of questions")
    if len(raw) > 40:
        raise ApiError("questions", "must be at most 40 questions")
    out, seen = [], set()
    for i, q in enumerate(raw):
        where = f"questions[{i}]"
        if not isinstance(q, dict):
            raise ApiError(where, "must be an object")
        qid = q.get("id")
        if not isinstance(qid, str) or not qid.isidentifier() or len(qid) > 64:
            raise ApiError(f"{where}.id", "must be a name of letters, digits and _")
        if qid in seen:
            raise ApiError(f"{where}.id", f"{qid!r} appears twice")
        seen.add(qid)
        if q.get("kind") not in KINDS:
            raise ApiError(f"{where}.kind", f"must be one of {', '.join(KINDS)}", 422)
        item = {"id": qid, "kind": q["kind"], "text": _text(q.get("text"), f"{where}.text")}
        if q["kind"] == "agree":
            item["options"] = AGREE
        elif q["kind"] == "choice":
            options = q.get("options")
            if not isinstance(options, list) or not 2 <= len(options) <= 12:
                raise ApiError(f"{where}.options", "must be a list of 2 to 12 options")
            keys = set()
            item["options"] = []
            for j, o in enumerate(options):
                key = o.get("key") if isinstance(o, dict) else None
                if not isinstance(key, str) or not key.strip() or len(key) > 64 or key in keys:
                    raise ApiError(f"{where}.options[{j}].key",
                                   "must be a unique text of at most 64 characters")
                keys.add(key)
                item["options"].append({"key": key, "label": _text(
                    o.get("label"), f"{where}.options[{j}].label")})
        out.append(item)
    return out


def questionnaire_row(conn, questionnaire_id: str, field: str = "questionnaire_id"):
    row = conn.execute(sa.select(m.questionnaires)
                       .where(m.questionnaires.c.id == questionnaire_id)).first()
    if row is None:
        raise ApiError(field, f"unknown questionnaire {questionnaire_id!r}", 404)
    return row


def questionnaire_json(row, *, operator: bool = False) -> dict:
    out = {"questionnaire_id": row.id, "assembly_id": row.assembly_id, "audience": row.audience,
           "stage": row.stage, "session_id": row.session_id, "title": row.title,
           "questions": row.questions, "status": row.status}
    if operator:
        out["responses"] = row.responses
    return out


def _title(audience: str, stage: str, session_id: str | None) -> dict[str, str]:
    who = {"member": ("Medlemmernes", "Members'"), "observer": ("Observatørernes", "Observers'"),
           "organiser": ("Arrangørernes", "Organisers'")}[audience]
    if stage == "session":
        return {"da": f"Evaluering af samlingen {session_id}",
                "en": f"Evaluation of session {session_id}"}
    return {"da": f"{who[0]} evaluering af forløbet", "en": f"{who[1]} evaluation of the process"}


@bp.post("/assemblies/<assembly_id>/questionnaires")
@auth.require("facilitator")
def create_questionnaire(assembly_id):
    """A questionnaire for members (after a session or at the end), observers or organisers
    (at the end); without ``questions`` it has the default set of its audience and stage."""
    data = body()
    audience = data.get("audience", "member")
    if audience not in AUDIENCES:
        raise ApiError("audience", f"must be one of {', '.join(AUDIENCES)}", 422)
    stage = data.get("stage", "final")
    if stage not in STAGES:
        raise ApiError("stage", f"must be one of {', '.join(STAGES)}", 422)
    session_id = text(data, "session_id", required=False, max_len=64) or None
    if stage == "session" and not session_id:
        raise ApiError("session_id", "is required for a questionnaire after a session")
    if stage == "session" and audience != "member":
        raise ApiError("stage", "observers and organisers answer at the end (stage final)")
    if stage == "final" and session_id:
        raise ApiError("session_id", "belongs to a questionnaire after a session only")
    questions = (check_questions(data["questions"]) if data.get("questions") is not None
                 else default_questions(audience, stage))
    title = (_text(data["title"], "title") if data.get("title") is not None
             else _title(audience, stage, session_id))
    qid = str(uuid.uuid4())
    with change() as conn:
        assembly_row(conn, assembly_id)
        q = m.questionnaires
        dup = conn.scalar(sa.select(sa.func.count()).select_from(q).where(
            q.c.assembly_id == assembly_id, q.c.audience == audience, q.c.stage == stage,
            q.c.session_id.is_(None) if session_id is None else q.c.session_id == session_id,
            q.c.status == "open"))
        if dup:
            raise ApiError("audience", "an open questionnaire for this audience and stage "
                                       "exists already", 409)
        conn.execute(q.insert().values(
            id=qid, assembly_id=assembly_id, audience=audience, stage=stage,
            session_id=session_id, title=title, questions=questions, status="open",
            responses=0, hmac_key=secrets.token_bytes(32), created_at=now()))
        log_change(conn, "questionnaire.create", f"questionnaire:{qid}",
                   {"audience": audience, "stage": stage, "questions": len(questions)})
        row = questionnaire_row(conn, qid)
    return jsonify(questionnaire_json(row, operator=True)), 201


@bp.get("/assemblies/<assembly_id>/questionnaires")
@auth.require(*OPERATORS)
def list_questionnaires(assembly_id):
    with ctx().engine.connect() as conn:
        assembly_row(conn, assembly_id)
        rows = conn.execute(sa.select(m.questionnaires)
                            .where(m.questionnaires.c.assembly_id == assembly_id)
                            .order_by(m.questionnaires.c.created_at, m.questionnaires.c.id))
        return jsonify(questionnaires=[questionnaire_json(r, operator=True) for r in rows])


@bp.get("/public/questionnaires/<questionnaire_id>")
def get_questionnaire(questionnaire_id):
    """The questions, for the respondents' page or an app; no results."""
    with ctx().engine.connect() as conn:
        return jsonify(questionnaire_json(questionnaire_row(conn, questionnaire_id)))


@bp.post("/questionnaires/<questionnaire_id>/close")
@auth.require("facilitator")
def close_questionnaire(questionnaire_id):
    """No more answers. The key and the list of who answered go: from now on not even the
    count per member can be recomputed."""
    with change() as conn:
        row = questionnaire_row(conn, questionnaire_id)
        if row.status != "open":
            raise ApiError("questionnaire_id", "the questionnaire is closed already", 409)
        conn.execute(m.questionnaires.update().where(m.questionnaires.c.id == questionnaire_id)
                     .values(status="closed", hmac_key=None, closed_at=now()))
        conn.execute(m.questionnaire_respondents.delete().where(
            m.questionnaire_respondents.c.questionnaire_id == questionnaire_id))
        conn.execute(m.respondent_codes.delete().where(
            m.respondent_codes.c.questionnaire_id == questionnaire_id))
        log_change(conn, "questionnaire.close", f"questionnaire:{questionnaire_id}",
                   {"responses": row.responses})
        row = questionnaire_row(conn, questionnaire_id)
    return jsonify(questionnaire_json(row, operator=True))


def _code() -> str:
    return "-".join(secrets.token_hex(2).upper() for _ in range(3))


def _digest(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


@bp.post("/questionnaires/<questionnaire_id>/codes")
@auth.require("facilitator")
def issue_codes(questionnaire_id):
    """One-time codes for an observers' or organisers' questionnaire, to print and hand out
    at random; shown once, only their hashes are kept."""
    data = body()
    count = data.get("count")
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_CODES:
        raise ApiError("count", f"must be a whole number from 1 to {MAX_CODES}")
    codes = [_code() for _ in range(count)]
    with change() as conn:
        row = questionnaire_row(conn, questionnaire_id)
        if row.audience == "member":
            raise ApiError("questionnaire_id", "members answer with their member code; codes "
                                               "are for observers and organisers", 409)
        if row.status != "open":
            raise ApiError("questionnaire_id", "the questionnaire is closed", 409)
        conn.execute(m.respondent_codes.insert(), [
            {"questionnaire_id": questionnaire_id, "code_hash": _digest(c), "used": False}
            for c in codes])
        log_change(conn, "questionnaire.codes", f"questionnaire:{questionnaire_id}",
                   {"count": count})
    return jsonify(questionnaire_id=questionnaire_id, codes=codes), 201


def check_answers(questions: list[dict], raw: Any) -> tuple[dict[str, str], dict[str, str]]:
    """The closed answers (question id -> option key) and the free texts; a question left
    out is not answered, which is allowed."""
    if not isinstance(raw, dict):
        raise Refused("answers", "answers", "must be an object of question id -> answer",
                            400)
    by_id = {q["id"]: q for q in questions}
    unknown = sorted(set(raw) - set(by_id))
    if unknown:
        raise Refused("answers", f"answers.{unknown[0]}", "is not a question of this "
                                                                "questionnaire", 422)
    closed, texts = {}, {}
    for qid, value in raw.items():
        q = by_id[qid]
        if value is None or value == "":
            continue
        if q["kind"] == "text":
            if not isinstance(value, str):
                raise Refused("answers", f"answers.{qid}", "must be a text", 400)
            if len(value) > MAX_TEXT:
                raise Refused("answers", f"answers.{qid}",
                                    f"must be at most {MAX_TEXT} characters", 400)
            if value.strip():
                texts[qid] = value.strip()
        else:
            keys = [o["key"] for o in q["options"]]
            if value not in keys:
                raise Refused("answers", f"answers.{qid}",
                                    f"must be one of {', '.join(keys)}", 422)
            closed[qid] = value
    if not closed and not texts:
        raise Refused("empty", "answers", "answer at least one question", 400)
    return closed, texts


def _claim(conn, row, member_code: Any, respondent_code: Any) -> None:
    """Checks the respondent may answer and marks them as having answered; raises if not."""
    if row.audience == "member":
        if not isinstance(member_code, str) or not member_code.strip():
            raise Refused("code_missing", "member_code", "is required", 401)
        member = conn.execute(sa.select(m.members).where(
            m.members.c.code_hash == hashlib.sha256(member_code.strip().upper().encode())
            .hexdigest())).first()
        if member is None:
            raise Refused("code_unknown", "member_code", "unknown member code", 401)
        if member.assembly_id != row.assembly_id or not member.seated:
            raise Refused("not_member", "member_code",
                                "only seated members of this assembly answer this "
                                "questionnaire", 403)
        key = hmac.new(row.hmac_key, member.member_id.encode(), hashlib.sha256).hexdigest()
        try:
            with conn.begin_nested():
                conn.execute(m.questionnaire_respondents.insert().values(
                    questionnaire_id=row.id, respondent_key=key))
        except IntegrityError:
            raise Refused("already", "member_code", "has answered this questionnaire "
                                                          "already", 409) from None
        return
    if not isinstance(respondent_code, str) or not respondent_code.strip():
        raise Refused("code_missing", "respondent_code", "is required", 401)
    rc = m.respondent_codes
    where = (rc.c.questionnaire_id == row.id) & (rc.c.code_hash == _digest(respondent_code))
    used = conn.execute(sa.select(rc.c.used).where(where)).first()
    if used is None:
        raise Refused("code_unknown", "respondent_code", "unknown code", 401)
    # The condition on ``used`` makes two racing requests with one code claim it once.
    if used.used or conn.execute(rc.update().where(where & ~rc.c.used)
                                 .values(used=True)).rowcount != 1:
        raise Refused("already", "respondent_code", "has been used already", 409)


def record_response(questionnaire_id: str, answers: Any, *, member_code: Any = None,
                    respondent_code: Any = None) -> None:
    """One anonymous response; used by the JSON API and the questionnaire page alike."""
    with change() as conn:
        row = questionnaire_row(conn, questionnaire_id)
        if row.status != "open":
            raise Refused("closed", "questionnaire_id", "the questionnaire is closed", 409)
        closed, texts = check_answers(row.questions, answers)
        _claim(conn, row, member_code, respondent_code)
        t = m.answer_tallies
        for qid, option in closed.items():
            where = ((t.c.questionnaire_id == questionnaire_id) & (t.c.question_id == qid)
                     & (t.c.option == option))
            if not conn.execute(t.update().where(where).values(count=t.c.count + 1)).rowcount:
                conn.execute(t.insert().values(questionnaire_id=questionnaire_id,
                                               question_id=qid, option=option, count=1))
        for qid, value in texts.items():
            conn.execute(m.answer_comments.insert().values(
                id=str(uuid.uuid4()), questionnaire_id=questionnaire_id, question_id=qid,
                text=value))
        conn.execute(m.questionnaires.update().where(m.questionnaires.c.id == questionnaire_id)
                     .values(responses=m.questionnaires.c.responses + 1))


@bp.post("/public/questionnaires/<questionnaire_id>/responses")
def answer(questionnaire_id):
    """An anonymous response: ``{"member_code" | "respondent_code": ..., "answers": {...}}``.
    No operator token."""
    data = body()
    record_response(questionnaire_id, data.get("answers"), member_code=data.get("member_code"),
                    respondent_code=data.get("respondent_code"))
    return jsonify(questionnaire_id=questionnaire_id, recorded=True), 201


def results(conn, row, min_cell: int) -> dict:
    """The answers of one questionnaire as counts per option, or nothing but the number of
    responses while there are fewer than ``min_cell`` of them. Free-text answers are for the
    organisers only (they may name people) and come in a stable, non-chronological order."""
    out = {**questionnaire_json(row, operator=True), "suppressed": row.responses < min_cell,
           "questions": []}
    if out["suppressed"]:
        return out
    tallies: dict[tuple[str, str], int] = {
        (r.question_id, r.option): r.count for r in conn.execute(
            sa.select(m.answer_tallies).where(m.answer_tallies.c.questionnaire_id == row.id))}
    comments: dict[str, list[str]] = {}
    for c in conn.execute(sa.select(m.answer_comments.c.question_id, m.answer_comments.c.text)
                          .where(m.answer_comments.c.questionnaire_id == row.id)
                          .order_by(m.answer_comments.c.text)):
        comments.setdefault(c.question_id, []).append(c.text)
    for q in row.questions:
        item = {"id": q["id"], "kind": q["kind"], "text": q["text"]}
        if q["kind"] == "text":
            item["comments"] = comments.get(q["id"], [])
        else:
            counts = [{"key": o["key"], "label": o["label"],
                       "count": tallies.get((q["id"], o["key"]), 0)} for o in q["options"]]
            answered = sum(c["count"] for c in counts)
            item.update(options=counts, answered=answered)
            if q["kind"] == "agree" and answered:
                item["mean"] = round(sum(int(c["key"]) * c["count"] for c in counts) / answered, 2)
                item["agree_share"] = round(sum(c["count"] for c in counts
                                                if c["key"] in ("4", "5")) / answered, 4)
        out["questions"].append(item)
    return out


@bp.get("/questionnaires/<questionnaire_id>/results")
@auth.require(*OPERATORS)
def get_results(questionnaire_id):
    with ctx().engine.connect() as conn:
        row = questionnaire_row(conn, questionnaire_id)
        return jsonify(results(conn, row, ctx().settings.min_cell_size))
