"""Anonymous evaluation questionnaires: the facilitators' API (create, list, close, one-time
codes, results), the respondents' JSON API, and the respondents' page.

The page is a plain HTML form (no script needed) in Danish or English. Members enter their
member code, observers and organisers the one-time code they were handed; the rules are
those of the JSON API (questionnaires.record_response)."""
from __future__ import annotations

import secrets
import uuid
from typing import Any

from flask import Blueprint, Response, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from services.common import auth, ratelimit
from services.common.ratelimit import RateLimited
from services.common.service import current_context
from services.common.web import ApiError, json_body
from services.recommendations import models as m
from services.recommendations import queries
from services.recommendations.inputs import Refused, a_whole_number, language, text
from services.recommendations.questionnaires import (
    AUDIENCES,
    MAX_CODES,
    STAGES,
    bilingual_text,
    check_questions,
    default_questions,
    default_title,
    digest,
    new_code,
    questionnaire_json,
    record_response,
    results,
)
from services.recommendations.roles import FACILITATOR, OPERATORS
from services.recommendations.settings import settings_of
from services.recommendations.views.shared import (
    TEMPLATES,
    change,
    code_guard,
    count_failure,
    locked_message,
    log_change,
    now,
)

blueprint = Blueprint("questionnaires", __name__, template_folder=TEMPLATES)
blueprint.register_error_handler(RateLimited, ratelimit.response)


@blueprint.post("/assemblies/<assembly_id>/questionnaires")
@auth.require(*FACILITATOR)
def create_questionnaire(assembly_id: str) -> ResponseReturnValue:
    """A questionnaire for members (after a session or at the end), observers or organisers
    (at the end); without ``questions`` it has the default set of its audience and stage."""
    data = json_body()
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
    title = (bilingual_text(data["title"], "title") if data.get("title") is not None
             else default_title(audience, stage, session_id))
    qid = str(uuid.uuid4())
    with change() as conn:
        queries.assembly_row(conn, assembly_id)
        if queries.open_questionnaire_exists(conn, assembly_id, audience, stage, session_id):
            raise ApiError("audience", "an open questionnaire for this audience and stage "
                                       "exists already", 409)
        conn.execute(m.questionnaires.insert().values(
            id=qid, assembly_id=assembly_id, audience=audience, stage=stage,
            session_id=session_id, title=title, questions=questions, status="open",
            responses=0, hmac_key=secrets.token_bytes(32), created_at=now()))
        log_change(conn, "questionnaire.create", f"questionnaire:{qid}",
                   {"audience": audience, "stage": stage, "questions": len(questions)})
        row = queries.questionnaire_row(conn, qid)
    return jsonify(questionnaire_json(row, operator=True)), 201


@blueprint.get("/assemblies/<assembly_id>/questionnaires")
@auth.require(*OPERATORS)
def list_questionnaires(assembly_id: str) -> Response:
    with current_context().engine.connect() as conn:
        queries.assembly_row(conn, assembly_id)
        return jsonify(questionnaires=[questionnaire_json(r, operator=True)
                                       for r in queries.questionnaires(conn, assembly_id)])


@blueprint.get("/public/questionnaires/<questionnaire_id>")
def get_questionnaire(questionnaire_id: str) -> Response:
    """The questions, for the respondents' page or an app; no results."""
    with current_context().engine.connect() as conn:
        return jsonify(questionnaire_json(queries.questionnaire_row(conn, questionnaire_id)))


@blueprint.post("/questionnaires/<questionnaire_id>/close")
@auth.require(*FACILITATOR)
def close_questionnaire(questionnaire_id: str) -> Response:
    """No more answers. The key and the list of who answered go: from now on not even the
    count per member can be recomputed."""
    with change() as conn:
        row = queries.questionnaire_row(conn, questionnaire_id)
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
        row = queries.questionnaire_row(conn, questionnaire_id)
    return jsonify(questionnaire_json(row, operator=True))


@blueprint.post("/questionnaires/<questionnaire_id>/codes")
@auth.require(*FACILITATOR)
def issue_codes(questionnaire_id: str) -> ResponseReturnValue:
    """One-time codes for an observers' or organisers' questionnaire, to print and hand out
    at random; shown once, only their hashes are kept."""
    data = json_body()
    count = a_whole_number(data.get("count"), "count", 1, MAX_CODES)
    codes = [new_code() for _ in range(count)]
    with change() as conn:
        row = queries.questionnaire_row(conn, questionnaire_id)
        if row.audience == "member":
            raise ApiError("questionnaire_id", "members answer with their member code; codes "
                                               "are for observers and organisers", 409)
        if row.status != "open":
            raise ApiError("questionnaire_id", "the questionnaire is closed", 409)
        conn.execute(m.respondent_codes.insert(), [
            {"questionnaire_id": questionnaire_id, "code_hash": digest(c), "used": False}
            for c in codes])
        log_change(conn, "questionnaire.codes", f"questionnaire:{questionnaire_id}",
                   {"count": count})
    return jsonify(questionnaire_id=questionnaire_id, codes=codes), 201


@blueprint.post("/public/questionnaires/<questionnaire_id>/responses")
def answer(questionnaire_id: str) -> ResponseReturnValue:
    """An anonymous response: ``{"member_code" | "respondent_code": ..., "answers": {...}}``.
    No operator token."""
    data = json_body()
    field = ("respondent_code" if data.get("member_code") is None
             and data.get("respondent_code") is not None else "member_code")
    guard = code_guard(field, data.get(field))
    try:
        with change() as conn:
            record_response(conn, questionnaire_id, data.get("answers"),
                            member_code=data.get("member_code"),
                            respondent_code=data.get("respondent_code"))
    except Refused as exc:
        count_failure(guard, exc)
        raise
    return jsonify(questionnaire_id=questionnaire_id, recorded=True), 201


@blueprint.get("/questionnaires/<questionnaire_id>/results")
@auth.require(*OPERATORS)
def get_results(questionnaire_id: str) -> Response:
    with current_context().engine.connect() as conn:
        row = queries.questionnaire_row(conn, questionnaire_id)
        return jsonify(results(conn, row, settings_of(current_context()).min_cell_size))


# --- the respondents' page --------------------------------------------------------------------

TEXT: dict[str, dict[str, Any]] = {
    "da": {
        "language": "English", "skip": "Spring til indhold",
        "intro": "Dine svar er anonyme: de gemmes uden dit navn og kan ikke føres tilbage til "
                 "dig. Du kan kun svare én gang, og du må gerne springe spørgsmål over.",
        "member_code": "Medlemskode", "member_hint": "Koden står på dit medlemskort.",
        "respondent_code": "Svarkode", "respondent_hint": "Koden står på den seddel, du fik "
                                                          "udleveret. Den kan bruges én gang.",
        "submit": "Send svar", "errors": "Dine svar blev ikke gemt",
        "thanks": "Tak for dine svar", "thanks_text": "Svarene er gemt anonymt.",
        "closed": "Spørgeskemaet er lukket.", "unknown": "Spørgeskemaet findes ikke.",
        "refused": {
            "code_missing": "Skriv din kode.",
            "code_unknown": "Koden er ukendt. Tjek, at du har skrevet den rigtigt.",
            "not_member": "Kun medlemmer af panelet kan svare på dette spørgeskema.",
            "already": "Der er allerede svaret med denne kode. Man kan kun svare én gang.",
            "closed": "Spørgeskemaet er lukket. Dine svar blev ikke gemt.",
            "empty": "Besvar mindst ét spørgsmål.",
            "answers": "Et af svarene er ugyldigt. Vælg blandt mulighederne, og skriv højst "
                       "2000 tegn.",
        },
    },
    "en": {
        "language": "Dansk", "skip": "Skip to content",
        "intro": "Your answers are anonymous: they are kept without your name and cannot be "
                 "traced back to you. You can answer only once, and you may skip questions.",
        "member_code": "Member code", "member_hint": "The code is on your member card.",
        "respondent_code": "Response code", "respondent_hint": "The code is on the slip you "
                                                               "were given. It works once.",
        "submit": "Send answers", "errors": "Your answers were not saved",
        "thanks": "Thank you for your answers", "thanks_text": "The answers are saved "
                                                               "anonymously.",
        "closed": "The questionnaire is closed.", "unknown": "There is no such questionnaire.",
        "refused": {
            "code_missing": "Enter your code.",
            "code_unknown": "The code is unknown. Check that you typed it correctly.",
            "not_member": "Only members of the panel can answer this questionnaire.",
            "already": "This code has been used already. You can answer only once.",
            "closed": "The questionnaire is closed. Your answers were not saved.",
            "empty": "Answer at least one question.",
            "answers": "One of the answers is not valid. Choose among the options, and write "
                       "at most 2000 characters.",
        },
    },
}


@blueprint.route("/public/questionnaires/<questionnaire_id>/form", methods=["GET", "POST"])
def questionnaire_page(questionnaire_id: str) -> ResponseReturnValue:
    lang = language()
    t = TEXT[lang]
    other = "en" if lang == "da" else "da"
    page: dict[str, Any] = {
            "lang": lang, "t": t, "q": None, "errors": [], "answers": {}, "recorded": False,
            "other_url": url_for("questionnaires.questionnaire_page",
                                 questionnaire_id=questionnaire_id, lang=other),
            "action": url_for("questionnaires.questionnaire_page",
                              questionnaire_id=questionnaire_id)}
    try:
        with current_context().engine.connect() as conn:
            q = queries.questionnaire_row(conn, questionnaire_id)
    except ApiError:
        return render_template("questionnaire.html", **page, message=t["unknown"]), 404
    page["q"] = q
    code_field = "member_code" if q.audience == "member" else "respondent_code"
    page["code_field"] = code_field
    if request.method == "GET":
        page["recorded"] = request.args.get("recorded") == "1"
        if q.status != "open" and not page["recorded"]:
            return render_template("questionnaire.html", **page, message=t["closed"]), 409
        return render_template("questionnaire.html", **page, message=None)

    answers = {question["id"]: request.form.get(f"q-{question['id']}", "")
               for question in q.questions}
    page["answers"] = answers
    code = request.form.get(code_field, "")
    try:
        guard = code_guard(code_field, code)
    except RateLimited as locked:
        page["errors"] = [{"text": locked_message(lang, locked), "field": code_field}]
        return (render_template("questionnaire.html", **page, message=None), 429,
                {"Retry-After": str(locked.retry_after)})
    try:
        with change() as conn:
            record_response(conn, questionnaire_id, answers, **{code_field: code})
    except Refused as exc:
        count_failure(guard, exc)
        page["errors"] = [{"text": t["refused"].get(exc.kind, t["refused"]["answers"]),
                           "field": exc.field}]
        # The code is never sent back into the form: it proves who may answer.
        return render_template("questionnaire.html", **page, message=None), exc.status
    # Post/Redirect/Get: reloading the thanks must not send the answers again.
    return redirect(url_for("questionnaires.questionnaire_page",
                            questionnaire_id=questionnaire_id, lang=lang, recorded=1), 303)
