"""Reading a request: the body's and the query's fields into typed values, refused with an
ApiError naming the field; and the audit entry of the change an operator's request makes."""
from __future__ import annotations

import re
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import IO, Any

from flask import request
from sqlalchemy.engine import Connection

from services.common import audit
from services.common.auth import current_principal
from services.common.geography import Scope, resolve_scope
from services.common.hookspecs import Recipient
from services.common.web import ApiError
from services.registry import lottery, pool, signup
from services.registry.importer import ColumnMapping, MappingError

LANGUAGES = ("da", "en")
_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_QUESTION_ID = re.compile(r"[a-z][a-z0-9_]{0,39}")
_BUILT_IN_FEATURES = ("id", "municipality", "municipality_code", "age_band", "sex")
_TEST_RECIPIENT_FIELDS = {"name", "email", "phone", "address", "postcode", "cpr", "language"}


def audit_change(conn: Connection, action: str, target: str,
                 detail: dict[str, Any] | None = None) -> None:
    """The audit entry of a change, by the operator whose token made the request."""
    who = current_principal()
    audit.record(conn, actor=who.subject, role=who.role, action=action, target=target,
                 detail=detail)


# --- assemblies ------------------------------------------------------------------------


def assembly_id(data: dict[str, Any]) -> str:
    """The new assembly's id, or a random one."""
    value = data.get("id") or str(uuid.uuid4())
    if not isinstance(value, str) or not _ID.match(value):
        raise ApiError("id", "must be 1-64 letters, digits, '.', '_' or '-'")
    return value


def assembly_name(data: dict[str, Any]) -> str:
    name = data.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise ApiError("name", "is required (at most 200 characters)")
    return name.strip()


def questions(raw: Any) -> list[dict[str, Any]]:
    """The assembly's own stratification questions, each with a label and at least two
    options in Danish and English."""
    if not isinstance(raw, list):
        raise ApiError("questions", "must be a list of questions")
    seen: set[str] = set()
    out = []
    for n, q in enumerate(raw):
        where = f"questions[{n}]"
        if not isinstance(q, dict):
            raise ApiError(where, "must be an object with id, label and options")
        qid = q.get("id")
        if not isinstance(qid, str) or not _QUESTION_ID.fullmatch(qid):
            raise ApiError(f"{where}.id", "must be lower-case letters, digits and _")
        if qid in seen or qid in _BUILT_IN_FEATURES:
            raise ApiError(f"{where}.id", f"{qid!r} is used twice or is a built-in feature")
        seen.add(qid)
        label = q.get("label")
        if not isinstance(label, dict) or any(not isinstance(label.get(lang), str) or
                                              not label[lang].strip() for lang in LANGUAGES):
            raise ApiError(f"{where}.label", "needs a text for da and en")
        options = q.get("options")
        if not isinstance(options, list) or len(options) < 2:
            raise ApiError(f"{where}.options", "needs at least two options")
        values: set[str] = set()
        for m, o in enumerate(options):
            if (not isinstance(o, dict) or not isinstance(o.get("value"), str) or not o["value"]
                    or not isinstance(o.get("label"), dict)
                    or any(not isinstance(o["label"].get(lang), str) for lang in LANGUAGES)):
                raise ApiError(f"{where}.options[{m}]", "needs a value and a label in da and en")
            if o["value"] in values:
                raise ApiError(f"{where}.options[{m}].value", "is used twice")
            values.add(o["value"])
        out.append({"id": qid, "label": {lang: label[lang] for lang in LANGUAGES},
                    "options": [{"value": o["value"],
                                 "label": {lang: o["label"][lang] for lang in LANGUAGES}}
                                for o in options]})
    return out


def session_dates(raw: Any) -> list[str]:
    if not isinstance(raw, list) or not raw:
        raise ApiError("session_dates", "must be a non-empty list of dates (YYYY-MM-DD)")
    out = []
    for n, d in enumerate(raw):
        try:
            out.append(date.fromisoformat(d).isoformat())
        except (TypeError, ValueError):
            raise ApiError(f"session_dates[{n}]", f"{d!r} is not a date (YYYY-MM-DD)") from None
    return out


# --- extracts ----------------------------------------------------------------------------


def extract_upload() -> tuple[IO[bytes], ColumnMapping]:
    """The uploaded CSV (multipart field ``file``) and its column mapping (field
    ``mapping``)."""
    upload = request.files.get("file")
    if upload is None:
        raise ApiError("file", "is required (multipart/form-data field 'file' with the CSV)")
    try:
        mapping = ColumnMapping.parse(request.form.get("mapping", ""))
    except MappingError as exc:
        raise ApiError(exc.field, exc.reason) from None
    return upload.stream, mapping


# --- templates ---------------------------------------------------------------------------


def template_content(data: dict[str, Any]) -> dict[str, Any]:
    """A letter's subject and body per language (Danish at least), the body holding the
    sign-up code."""
    content = data.get("content")
    if not isinstance(content, dict) or "da" not in content:
        raise ApiError("content",
                      "must hold at least a Danish text: {\"da\": {\"subject\", \"body\"}}")
    for lang, text in content.items():
        if lang not in LANGUAGES:
            raise ApiError(f"content.{lang}", "language must be da or en")
        for part in ("subject", "body"):
            if (not isinstance(text, dict) or not isinstance(text.get(part), str)
                    or not text[part].strip()):
                raise ApiError(f"content.{lang}.{part}", "is required")
        if "{code}" not in text["body"]:
            raise ApiError(f"content.{lang}.body", "must contain {code} (the sign-up code)")
    return content


def preview_language(data: dict[str, Any]) -> str:
    language = data.get("language", "da")
    if language not in LANGUAGES:
        raise ApiError("language", "must be da or en")
    return str(language)


def test_send(data: dict[str, Any], channels: Collection[str]) -> tuple[str, Recipient]:
    """The channel to test a template on and the operator's own test recipient."""
    channel = data.get("channel")
    if channel not in channels:
        raise ApiError("channel", f"must be one of: {', '.join(sorted(channels))}")
    to = data.get("recipient")
    if not isinstance(to, dict):
        raise ApiError("recipient", "must be an object (name, email, phone, address, postcode)")
    for key, value in to.items():
        if key not in _TEST_RECIPIENT_FIELDS or not isinstance(value, str):
            raise ApiError(f"recipient.{key}", "unknown or not text (fields: "
                                              f"{', '.join(sorted(_TEST_RECIPIENT_FIELDS))})")
    recipient = Recipient(invitation_id=f"test-{uuid.uuid4()}", code="TEST234567",
                          language=to.get("language", "da"), name=to.get("name"),
                          address_lines=(to["address"],) if to.get("address") else (),
                          postcode=to.get("postcode"), email=to.get("email"),
                          phone=to.get("phone"), cpr=to.get("cpr"))
    return str(channel), recipient


# --- rollouts ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RolloutRequest:
    """Who a rollout draws from and how: the lottery's inputs, all of them recorded."""

    scope: Scope
    size: int
    weights: dict[str, dict[str, float]]
    one_per_household: bool
    age_bands: list[str] | None
    seed: str


def rollout(data: dict[str, Any]) -> RolloutRequest:
    try:
        raw_scope: Any = data.get("scope")  # resolve_scope refuses what is not a name
        scope = resolve_scope(raw_scope)
    except ValueError as exc:
        raise ApiError("scope", str(exc)) from None
    size = data.get("size")
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ApiError("size", "must be a whole number above 0")
    try:
        weights = lottery.check_weights(data.get("weights"))
    except ValueError as exc:
        field, _, reason = str(exc).partition(": ")
        raise ApiError(field, reason) from None
    household = data.get("one_per_household", False)
    if not isinstance(household, bool):
        raise ApiError("one_per_household", "must be true or false")
    bands = data.get("age_bands")
    if bands is not None and (not isinstance(bands, list)
                              or not all(isinstance(b, str) for b in bands)):
        raise ApiError("age_bands", "must be a list of age bands, e.g. [\"18-29\", \"30-44\"]")
    seed = data.get("seed") or lottery.new_seed()
    if not isinstance(seed, str) or not re.fullmatch(r"[0-9a-f]{1,64}", seed):
        raise ApiError("seed", "must be up to 64 lower-case hex digits")
    return RolloutRequest(scope, size, weights, household, bands, seed)


def approved_template_id(data: dict[str, Any]) -> str:
    template_id = data.get("template_id")
    if not isinstance(template_id, str):
        raise ApiError("template_id", "is required (an approved template)")
    return template_id


# --- pool and registrants ----------------------------------------------------------------


def export_format() -> str:
    """``?format=`` of a pool export: json (the default) or csv."""
    fmt = request.args.get("format", "json")
    if fmt not in ("json", "csv"):
        raise ApiError("format", "must be json or csv")
    return fmt


def registrant_state(data: dict[str, Any]) -> str:
    wanted = data.get("state")
    if not isinstance(wanted, str):
        raise ApiError("state", f"is required (one of {', '.join(pool.STATES)})")
    return wanted


# --- the public sign-up ------------------------------------------------------------------


def page_language(raw: Any) -> str:
    """The sign-up's language: Danish unless the citizen chose one of the others."""
    return raw if isinstance(raw, str) and raw in signup.TEXT else "da"


def signup_answers(data: dict[str, Any]) -> dict[str, Any]:
    answers = data.get("answers", {})
    if not isinstance(answers, dict):
        raise ApiError("answers", "must be an object of question id -> option value")
    return answers


def seat_code(data: dict[str, Any], lang: str) -> str:
    code = data.get("code")
    if code is not None and not isinstance(code, str):
        raise ApiError("code", signup.TEXT[lang]["missing_code"], 422)
    return code or ""
