"""The public sign-up: a page (Danish and English) and a JSON endpoint doing the same, for
signing up to the pool with an invitation's code and, once drawn, answering the seat offer
with the same code. No operator token: the code is the citizen's key, so every endpoint
here counts failed tries per client and per code and locks out (``services.common.ratelimit``):
429 with Retry-After, before the code is looked up."""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from flask import Blueprint, Response, jsonify, render_template, request

from services.common import ratelimit
from services.common.ratelimit import RateLimited
from services.common.web import ApiError, json_body
from services.registry import inputs, lottery, outgoing, pool, signup
from services.registry.context import current
from services.registry.signup import REASONS, TEXT, SignupError

# The templates folder is the service's, one level up from this package.
blueprint = Blueprint("registry_signup", __name__, template_folder="../templates")
blueprint.register_error_handler(RateLimited, ratelimit.response)

Page = str | tuple[str, int] | tuple[str, int, dict[str, str]]

LOCKED = {"da": "For mange forkerte forsøg med koden. Prøv igen om {minutes} minutter.",
          "en": "Too many failed tries with the code. Try again in {minutes} minutes."}


def _guard(code: object) -> ratelimit.CodeGuard:
    """Raises RateLimited when this client or this code is locked out."""
    ctx = current()
    return ratelimit.guard(ctx.engine, ctx.settings, "code", code)


def _count_failure(guard: ratelimit.CodeGuard, exc: SignupError) -> None:
    """A refusal of the code itself (unknown, used, ended, answered) is a failed try; a
    refusal of another field (a missing answer, no consent) is not."""
    if any(field == "code" for field, _ in exc.errors):
        guard.failed()


def _locked_page(lang: str, exc: RateLimited) -> tuple[str, int, dict[str, str]]:
    minutes = max(1, -(-exc.retry_after // 60))
    return (render_template("signup.html", lang=lang, t=TEXT[lang], step="code", code="",
                            errors=[("code", LOCKED[lang].format(minutes=minutes))],
                            values={}),
            429, {"Retry-After": str(exc.retry_after)})


def _register(code: str, answers: Mapping[str, Any], available: object, consent: object,
              lang: str) -> str:
    ctx = current()
    with ctx.engine.begin() as conn:
        registrant_id = signup.register(conn, ctx.settings.region, code, answers, available,
                                        consent, lang)
    outgoing.publish(ctx)
    return registrant_id


def _answer_seat(code: str, answer: object, reason: object, lang: str) -> tuple[str, str]:
    ctx = current()
    with ctx.engine.begin() as conn:
        answered = signup.answer_seat(conn, ctx.settings.region, code, answer, reason, lang)
    outgoing.publish(ctx)
    return answered


def _seat_page(lang: str, row: Any, code: str, errors: Iterable[tuple[str, str]] = (),
               values: Mapping[str, str] | None = None, status: int = 200) -> tuple[str, int]:
    t = TEXT[lang]
    return render_template("signup.html", lang=lang, t=t, step="seat",
                           code=lottery.normalise_code(code), errors=list(errors),
                           values=values or {}, assembly=row.name,
                           intro=t["seat_intro"].format(assembly=row.name),
                           dates=json.loads(row.session_dates), reasons=REASONS), status


@blueprint.get("/signup")
def signup_page() -> Page:
    lang = inputs.page_language(request.args.get("lang"))
    code = request.args.get("code")
    if code is None:
        return render_template("signup.html", lang=lang, t=TEXT[lang], step="code", code="",
                               errors=[], values={})
    try:
        guard = _guard(code)
    except RateLimited as exc:
        return _locked_page(lang, exc)
    try:
        with current().engine.connect() as conn:
            step, inv = signup.code_step(conn, code, lang)
            if step == "seat":
                return _seat_page(lang, inv, code)
    except SignupError as exc:
        _count_failure(guard, exc)
        return render_template("signup.html", lang=lang, t=TEXT[lang], step="code",
                               code=code, errors=exc.errors, values={}), exc.status
    return render_template("signup.html", lang=lang, t=TEXT[lang], step="form",
                           code=lottery.normalise_code(code), errors=[], values={},
                           assembly=inv.name, questions=json.loads(inv.questions),
                           dates=json.loads(inv.session_dates))


@blueprint.post("/signup/seat")
def seat_submit() -> Page:
    form = request.form
    lang = inputs.page_language(form.get("lang"))
    code = form.get("code", "")
    answer, reason = form.get("answer", ""), form.get("reason", "")
    try:
        guard = _guard(code)
    except RateLimited as exc:
        return _locked_page(lang, exc)
    try:
        _, state = _answer_seat(code, answer, reason, lang)
    except SignupError as exc:
        _count_failure(guard, exc)
        if any(field == "code" for field, _ in exc.errors):
            return render_template("signup.html", lang=lang, t=TEXT[lang], step="code",
                                   code=code, errors=exc.errors, values={}), exc.status
        with current().engine.connect() as conn:
            row = signup.find_code(conn, code, lang)
        return _seat_page(lang, row, code, exc.errors, {"answer": answer, "reason": reason},
                          exc.status)
    return render_template("signup.html", lang=lang, t=TEXT[lang], step="seat_done",
                           code="", errors=[], values={}, state=state)


@blueprint.post("/signup")
def signup_submit() -> Page:
    form = request.form
    lang = inputs.page_language(form.get("lang"))
    code = form.get("code", "")
    answers = {k[2:]: v for k, v in form.items() if k.startswith("q_")}
    try:
        guard = _guard(code)
    except RateLimited as exc:
        return _locked_page(lang, exc)
    try:
        _register(code, answers, form.get("available") == "yes", form.get("consent") == "yes",
                  lang)
    except SignupError as exc:
        _count_failure(guard, exc)
        with current().engine.connect() as conn:
            try:
                inv = signup.find_invitation(conn, code, lang)
            except SignupError:
                return render_template("signup.html", lang=lang, t=TEXT[lang], step="code",
                                       code=code, errors=exc.errors, values={}), exc.status
        return render_template("signup.html", lang=lang, t=TEXT[lang], step="form",
                               code=lottery.normalise_code(code), errors=exc.errors,
                               values={**answers, "available": form.get("available"),
                                       "consent": form.get("consent")},
                               assembly=inv.name, questions=json.loads(inv.questions),
                               dates=json.loads(inv.session_dates)), exc.status
    return render_template("signup.html", lang=lang, t=TEXT[lang], step="done", code="",
                           errors=[], values={})


@blueprint.get("/api/public/signup/<code>")
def signup_questions(code: str) -> Response:
    """What the code is for now: the sign-up's questions, or (once drawn) the seat offer."""
    lang = inputs.page_language(request.args.get("lang"))
    guard = _guard(code)
    try:
        with current().engine.connect() as conn:
            step, inv = signup.code_step(conn, code, lang)
            if step == "seat":
                return jsonify(step="seat", assembly=inv.name,
                               message=TEXT[lang]["seat_intro"].format(assembly=inv.name),
                               answers=list(pool.ANSWERS), reasons=list(REASONS),
                               session_dates=json.loads(inv.session_dates))
    except SignupError as exc:
        _count_failure(guard, exc)
        field, reason = exc.errors[0]
        raise ApiError(field, reason, exc.status) from None
    return jsonify(step="signup", assembly=inv.name, questions=json.loads(inv.questions),
                   session_dates=json.loads(inv.session_dates))


def _refused(exc: SignupError) -> tuple[Response, int]:
    field, reason = exc.errors[0]
    return jsonify(error=reason, field=field,
                   errors=[{"field": f, "reason": r} for f, r in exc.errors]), exc.status


@blueprint.post("/api/public/signup")
def signup_json() -> tuple[Response, int]:
    data = json_body()
    lang = inputs.page_language(data.get("language"))
    answers = inputs.signup_answers(data)
    code = str(data.get("code") or "")
    guard = _guard(code)
    try:
        registrant_id = _register(code, answers, data.get("available"), data.get("consent"),
                                  lang)
    except SignupError as exc:
        _count_failure(guard, exc)
        return _refused(exc)
    return jsonify(status="pool", registrant_id=registrant_id), 201


@blueprint.post("/api/public/seat")
def seat_json() -> Response | tuple[Response, int]:
    data = json_body()
    lang = inputs.page_language(data.get("language"))
    code = inputs.seat_code(data, lang)
    guard = _guard(code)
    try:
        registrant_id, state = _answer_seat(code, data.get("answer"), data.get("reason"), lang)
    except SignupError as exc:
        _count_failure(guard, exc)
        return _refused(exc)
    return jsonify(registrant_id=registrant_id, state=state)
