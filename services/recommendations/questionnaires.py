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
from sqlalchemy.exc import IntegrityError

from services.common.web import ApiError
from services.recommendations import assemblies, queries
from services.recommendations import models as m
from services.recommendations.inputs import Refused, required_bilingual
from services.recommendations.queries import Row

AUDIENCES = ("member", "observer", "organiser")
STAGES = ("session", "final")
KINDS = ("agree", "choice", "text")
MAX_TEXT = 2000
MAX_CODES = 500

# A question as stored: {id, kind, text: {da, en}, options: [{key, label: {da, en}}]}.
Question = dict[str, Any]

AGREE = [
    {"key": "1", "label": {"da": "Helt uenig", "en": "Strongly disagree"}},
    {"key": "2", "label": {"da": "Uenig", "en": "Disagree"}},
    {"key": "3", "label": {"da": "Hverken enig eller uenig", "en": "Neither agree nor disagree"}},
    {"key": "4", "label": {"da": "Enig", "en": "Agree"}},
    {"key": "5", "label": {"da": "Helt enig", "en": "Strongly agree"}},
]


def _q(qid: str, kind: str, da: str, en: str) -> Question:
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


def default_questions(audience: str, stage: str) -> list[Question]:
    if audience == "member":
        chosen = _SESSION if stage == "session" else _FINAL_MEMBER
    else:
        chosen = _OBSERVER if audience == "observer" else _ORGANISER
    return [{**q, "options": AGREE} if q["kind"] == "agree" else dict(q) for q in chosen]


def bilingual_text(raw: Any, field: str) -> dict[str, str]:
    """A title, question or option label in Danish and English."""
    return required_bilingual(raw, field, max_len=500)


def check_questions(raw: Any) -> list[Question]:
    """An assembly's own questions: ``[{id, kind: agree|choice|text, text: {da, en},
    options: [{key, label: {da, en}}] (choice only)}]``."""
    if not isinstance(raw, list) or not raw:
        raise ApiError("questions", "must be a non-empty list of questions")
    if len(raw) > 40:
        raise ApiError("questions", "must be at most 40 questions")
    out: list[Question] = []
    seen: set[str] = set()
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
        item: Question = {"id": qid, "kind": q["kind"],
                          "text": bilingual_text(q.get("text"), f"{where}.text")}
        if q["kind"] == "agree":
            item["options"] = AGREE
        elif q["kind"] == "choice":
            options = q.get("options")
            if not isinstance(options, list) or not 2 <= len(options) <= 12:
                raise ApiError(f"{where}.options", "must be a list of 2 to 12 options")
            keys: set[str] = set()
            item["options"] = []
            for j, o in enumerate(options):
                key = o.get("key") if isinstance(o, dict) else None
                if not isinstance(key, str) or not key.strip() or len(key) > 64 or key in keys:
                    raise ApiError(f"{where}.options[{j}].key",
                                   "must be a unique text of at most 64 characters")
                keys.add(key)
                item["options"].append({"key": key, "label": bilingual_text(
                    o.get("label"), f"{where}.options[{j}].label")})
        out.append(item)
    return out


def questionnaire_json(row: Row, *, operator: bool = False) -> dict[str, Any]:
    out = {"questionnaire_id": row.id, "assembly_id": row.assembly_id, "audience": row.audience,
           "stage": row.stage, "session_id": row.session_id, "title": row.title,
           "questions": row.questions, "status": row.status}
    if operator:
        out["responses"] = row.responses
    return out


def default_title(audience: str, stage: str, session_id: str | None) -> dict[str, str]:
    """The title of a questionnaire the facilitator gave none."""
    who = {"member": ("Medlemmernes", "Members'"), "observer": ("Observatørernes", "Observers'"),
           "organiser": ("Arrangørernes", "Organisers'")}[audience]
    if stage == "session":
        return {"da": f"Evaluering af samlingen {session_id}",
                "en": f"Evaluation of session {session_id}"}
    return {"da": f"{who[0]} evaluering af forløbet", "en": f"{who[1]} evaluation of the process"}


def new_code() -> str:
    """A one-time code for an observer or an organiser."""
    return "-".join(secrets.token_hex(2).upper() for _ in range(3))


def digest(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


def check_answers(questions: list[Question], raw: Any
                  ) -> tuple[dict[str, str], dict[str, str]]:
    """The closed answers (question id -> option key) and the free texts; a question left
    out is not answered, which is allowed."""
    if not isinstance(raw, dict):
        raise Refused("answers", "answers", "must be an object of question id -> answer", 400)
    by_id = {q["id"]: q for q in questions}
    unknown = sorted(set(raw) - set(by_id))
    if unknown:
        raise Refused("answers", f"answers.{unknown[0]}", "is not a question of this "
                                                                "questionnaire", 422)
    closed: dict[str, str] = {}
    texts: dict[str, str] = {}
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


def _claim(conn: sa.Connection, row: Row, member_code: Any, respondent_code: Any) -> None:
    """Checks the respondent may answer and marks them as having answered; raises if not."""
    if row.audience == "member":
        if not isinstance(member_code, str) or not member_code.strip():
            raise Refused("code_missing", "member_code", "is required", 401)
        member = assemblies.member_by_code(conn, member_code)
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
    where = (rc.c.questionnaire_id == row.id) & (rc.c.code_hash == digest(respondent_code))
    used = conn.execute(sa.select(rc.c.used).where(where)).first()
    if used is None:
        raise Refused("code_unknown", "respondent_code", "unknown code", 401)
    # The condition on ``used`` makes two racing requests with one code claim it once.
    if used.used or conn.execute(rc.update().where(where & ~rc.c.used)
                                 .values(used=True)).rowcount != 1:
        raise Refused("already", "respondent_code", "has been used already", 409)


def record_response(conn: sa.Connection, questionnaire_id: str, answers: Any, *,
                    member_code: Any = None, respondent_code: Any = None) -> None:
    """One anonymous response; used by the JSON API and the questionnaire page alike."""
    row = queries.questionnaire_row(conn, questionnaire_id)
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


def results(conn: sa.Connection, row: Row, min_cell: int) -> dict[str, Any]:
    """The answers of one questionnaire as counts per option, or nothing but the number of
    responses while there are fewer than ``min_cell`` of them. Free-text answers are for the
    organisers only (they may name people) and come in a stable, non-chronological order."""
    out: dict[str, Any] = {**questionnaire_json(row, operator=True),
                           "suppressed": row.responses < min_cell, "questions": []}
    if out["suppressed"]:
        return out
    tallies: dict[tuple[str, str], int] = {
        (r.question_id, r.option): r._mapping["count"] for r in conn.execute(
            sa.select(m.answer_tallies).where(m.answer_tallies.c.questionnaire_id == row.id))}
    comments: dict[str, list[str]] = {}
    for c in conn.execute(sa.select(m.answer_comments.c.question_id, m.answer_comments.c.text)
                          .where(m.answer_comments.c.questionnaire_id == row.id)
                          .order_by(m.answer_comments.c.text)):
        comments.setdefault(c.question_id, []).append(c.text)
    for q in row.questions:
        item: dict[str, Any] = {"id": q["id"], "kind": q["kind"], "text": q["text"]}
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

