"""The OpenAPI 3 document of the recommendations service (a test checks it lists every
route; tests/fuzz/ fuzzes every operation from it with schemathesis)."""
from __future__ import annotations

from typing import Any

ERROR = {"$ref": "#/components/schemas/Error"}
OPERATORS = ["facilitator", "administration"]
FAC, ADM = ["facilitator"], ["administration"]
REFUSALS = {
    "400": "Bad input (names the field and the reason)",
    "401": "No, unknown or revoked token (or member code)",
    "403": "Role (or member) not allowed",
    "404": "Unknown assembly, recommendation, round, amendment, milestone or questionnaire",
    "409": "Conflicts with the current state (names the field)",
    "422": "A value outside its choices (names the field)",
    "429": "Too many failed tries from this client or with this code: locked out; "
           "Retry-After says for how many seconds (services/common/ratelimit.py)",
}
S, INT, B, N = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}, {"type": "number"}
DATE = {"type": "string", "format": "date", "description": "YYYY-MM-DD"}
JSON_OBJECT = {"application/json": {"schema": {"type": "object"}}}
LANG = {"lang": {"type": "string", "enum": ["da", "en"]}}
CHANGES = ("400", "404", "409", "422")


def _obj(required: tuple[str, ...] = (), **props: Any) -> dict[str, Any]:
    out: dict = {"type": "object", "properties": props}
    if required:
        out["required"] = list(required)
    return out


def _op(summary: str, roles: list[str] | None, *, params: tuple = (), query: dict | None = None,
        body: dict | None = None, body_required: bool = True, ok: str = "200",
        errors: tuple = ("404",), content: dict | None = None) -> dict:
    responses: dict = {ok: {"description": "OK", "content": content or JSON_OBJECT}}
    codes = list(errors) + (["401", "403"] if roles is not None else [])
    for code in sorted(set(codes)):
        responses[code] = {"description": REFUSALS[code],
                           "content": {"application/json": {"schema": ERROR}}}
        if code == "429":
            responses[code]["headers"] = {"Retry-After": {
                "schema": INT, "description": "Seconds until the lockout ends"}}
    op: dict = {"summary": summary, "responses": responses}
    if roles is None:
        op["security"] = []
    else:
        op["security"] = [{"bearer": []}]
        op["description"] = f"Roles: {', '.join(roles)}."
    parameters = [{"name": p, "in": "path", "required": True,
                   "schema": INT if p == "version" else S} for p in params]
    parameters += [{"name": name, "in": "query", "required": False, "schema": schema}
                   for name, schema in (query or {}).items()]
    if parameters:
        op["parameters"] = parameters
    if body is not None:
        op["requestBody"] = {"required": body_required,
                             "content": {"application/json": {"schema": body}}}
    return op


LABELS = _obj(("da", "en"), da=S, en=S)
DRAFT: dict[str, Any] = dict(
    title={"type": "string", "maxLength": 300}, text={"type": "string", "maxLength": 20_000},
    rationale={"type": "string", "maxLength": 20_000},
    theme={"type": "string", "maxLength": 200}, values={"type": "array", "items": S})
SCALE = {"type": "array", "minItems": 2, "items": _obj(
    ("key", "label"), key={"type": "string", "maxLength": 40}, label=LABELS, support=B,
    abstain=B)}
QUESTIONS = {"type": "array", "minItems": 1, "maxItems": 40, "items": _obj(
    ("id", "kind", "text"), id={"type": "string", "maxLength": 64},
    kind={"type": "string", "enum": ["agree", "choice", "text"]}, text=LABELS,
    options={"type": "array", "items": _obj(("key", "label"), key=S, label=LABELS)})}
FILES = {"text/html": {"schema": S}, "application/pdf": {"schema": S},
         "image/svg+xml": {"schema": S}, "image/png": {"schema": S}}
THRESHOLD = {"type": "number", "description": "a share (0.75) or a percentage (75)"}


def document() -> dict:
    a, r, rd, q = ("assembly_id",), ("rec_id",), ("round_id",), ("questionnaire_id",)
    paths = {
        # --- assemblies and members
        "/assemblies/{assembly_id}": {
            "put": _op("Name, support scale and threshold of an assembly", FAC, params=a,
                       errors=("400", "422"),
                       body=_obj(name={"type": "string", "maxLength": 200}, scale=SCALE,
                                 threshold=THRESHOLD)),
            "get": _op("An assembly", OPERATORS, params=a)},
        "/assemblies/{assembly_id}/members": {"get": _op(
            "Seated members and whether they hold a member code", FAC, params=a)},
        "/assemblies/{assembly_id}/members/{member_id}/code": {"post": _op(
            "Issue a seated member's personal code (shown once)", FAC, ok="201",
            params=("assembly_id", "member_id"))},
        # --- drafting
        "/assemblies/{assembly_id}/recommendations": {
            "post": _op("Draft a recommendation", FAC, params=a, ok="201", errors=CHANGES,
                        body=_obj(("title", "text"), **DRAFT, group=S, note=S)),
            "get": _op("An assembly's recommendations", OPERATORS, params=a)},
        "/recommendations/{rec_id}": {
            "get": _op("A recommendation with its versions, amendments and rounds", OPERATORS,
                       params=r),
            "put": _op("A new version by the drafting group", FAC, params=r, errors=CHANGES,
                       body=_obj(**DRAFT, note=S))},
        "/recommendations/{rec_id}/versions/{version}": {"get": _op(
            "One version of a recommendation", OPERATORS, params=("rec_id", "version"))},
        "/recommendations/{rec_id}/amendments": {"post": _op(
            "Propose an amendment", FAC, params=r, ok="201", errors=CHANGES,
            body=_obj(("changes",), changes=_obj(**DRAFT), rationale=S, proposed_by=S,
                      base_version=INT))},
        "/amendments/{amendment_id}/accept": {"post": _op(
            "Accept an amendment as a new version", FAC, params=("amendment_id",),
            errors=("404", "409"))},
        "/amendments/{amendment_id}/reject": {"post": _op(
            "Reject an amendment", FAC, params=("amendment_id",), errors=("404", "409"))},
        "/assemblies/{assembly_id}/recommendations/merge": {"post": _op(
            "Merge drafts into one new draft", FAC, params=a, ok="201", errors=CHANGES,
            body=_obj(("sources", "title", "text"), sources={"type": "array", "items": S,
                      "minItems": 2}, **DRAFT, group=S))},
        "/recommendations/{rec_id}/split": {"post": _op(
            "Split a draft into parts", FAC, params=r, ok="201", errors=CHANGES,
            body=_obj(("parts",), parts={"type": "array", "minItems": 2,
                                         "items": _obj(("title", "text"), **DRAFT)}))},
        # --- support votes
        "/recommendations/{rec_id}/rounds": {"post": _op(
            "Open a support vote on the current version", FAC, params=r, ok="201",
            errors=CHANGES, body=_obj(threshold=THRESHOLD), body_required=False)},
        "/rounds/{round_id}/roll-call": {"put": _op(
            "Who is present for a round", FAC, params=rd, errors=CHANGES,
            body=_obj(("present",), present={"type": "array", "items": S}))},
        "/rounds/{round_id}/ballots": {"post": _op(
            "A member's secret vote with their member code (no operator token)", None,
            params=rd, ok="201", errors=("400", "401", "403", "404", "409", "422", "429"),
            body=_obj(("member_code", "level"), member_code=S, level=S))},
        "/rounds/{round_id}": {"get": _op("A voting round", OPERATORS, params=rd)},
        "/rounds/{round_id}/close": {"post": _op(
            "Close and count a round", FAC, params=rd, errors=("404", "409"))},
        "/recommendations/{rec_id}/minority-statements": {"post": _op(
            "Record a minority statement", FAC, params=r, ok="201", errors=CHANGES,
            body=_obj(("text",), text=S, supporters={"type": "integer", "minimum": 1},
                      round_id=S))},
        # --- handover, answers, implementation
        "/assemblies/{assembly_id}/handover": {"put": _op(
            "Record the handover to the receiving body", ADM, params=a, errors=CHANGES,
            body=_obj(("receiving_body", "body_kind", "handed_over_on"),
                      receiving_body={"type": "string", "maxLength": 200},
                      body_kind={"type": "string", "enum": [
                          "regional_council", "municipal_council", "municipal_committee",
                          "other"]}, handed_over_on=DATE, answer_deadline=DATE))},
        "/recommendations/{rec_id}/answer-deadline": {"put": _op(
            "A recommendation's own answer deadline (null: the assembly's)", ADM, params=r,
            errors=CHANGES, body=_obj(("answer_deadline",), answer_deadline={
                **DATE, "nullable": True}))},
        "/recommendations/{rec_id}/answers": {"post": _op(
            "The receiving body's formal answer", ADM, params=r, ok="201", errors=CHANGES,
            body=_obj(("answer", "reasons", "answered_on"), answer={"type": "string", "enum": [
                "accepted", "partly_accepted", "rejected", "under_consideration"]},
                reasons=S, answered_on=DATE, answered_by=S))},
        "/recommendations/{rec_id}/implementation": {"post": _op(
            "Implementation status", ADM, params=r, ok="201", errors=CHANGES,
            body=_obj(("status",), status={"type": "string", "enum": [
                "not_started", "in_progress", "pilot", "done"]},
                percent={"type": "integer", "minimum": 0, "maximum": 100},
                responsible_committee=S, note=S, updated_on=DATE))},
        "/recommendations/{rec_id}/milestones": {"post": _op(
            "Add an implementation milestone", ADM, params=r, ok="201", errors=CHANGES,
            body=_obj(("title",), title={"type": "string", "maxLength": 300}, due=DATE,
                      done_on=DATE))},
        "/milestones/{milestone_id}/done": {"post": _op(
            "Mark a milestone done", ADM, params=("milestone_id",), errors=("400", "404"),
            body=_obj(done_on=DATE), body_required=False)},
        "/assemblies/{assembly_id}/tracking": {"get": _op(
            "Answers, implementation and overdue answers", OPERATORS, params=a)},
        "/audit": {"get": _op("The audit log", ADM, errors=(), query={"target": S})},
        # --- the final report and the public
        "/assemblies/{assembly_id}/report-input": {"put": _op(
            "Report input: title, composition, experts heard, process summary", FAC,
            params=a, errors=("400", "404"), body=_obj(
                title=LABELS, composition={"type": "array", "items": _obj(
                    ("feature", "category", "population_share", "panel_count"), feature=S,
                    category=S, population_share={"type": "number", "minimum": 0,
                                                  "maximum": 1},
                    panel_count={"type": "integer", "minimum": 0}, feature_label=LABELS,
                    label=LABELS)},
                experts_heard={"type": "array", "items": _obj(("name",), name=S,
                                                              role=LABELS)},
                process_summary=LABELS))},
        "/assemblies/{assembly_id}/reports": {"get": _op(
            "The report files the report plugins produce", OPERATORS, params=a, query=LANG,
            errors=("400", "404"))},
        "/assemblies/{assembly_id}/reports/{lang}/{name}": {"get": _op(
            "One report file (a preview before the release)", OPERATORS,
            params=("assembly_id", "lang", "name"), errors=("400", "404"),
            content={"text/html": {"schema": S}, "application/pdf": {"schema": S}})},
        "/assemblies/{assembly_id}/reports/release": {"post": _op(
            "Release the final report to the public", OPERATORS, params=a, ok="201",
            errors=("404", "409"))},
        "/public/assemblies/{assembly_id}/reports/{lang}/{name}": {"get": _op(
            "A released report file", None, params=("assembly_id", "lang", "name"),
            content={"text/html": {"schema": S}, "application/pdf": {"schema": S}})},
        "/public/assemblies/{assembly_id}": {"get": _op(
            "The public transparency page", None, params=a, query=LANG,
            errors=("400", "404"), content={"text/html": {"schema": S}})},
        "/public/assemblies/{assembly_id}/open-data.json": {"get": _op(
            "Open data: every recommendation, its vote, answer and implementation", None,
            params=a)},
        "/public/assemblies/{assembly_id}/open-data.csv": {"get": _op(
            "Open data as CSV (one row per recommendation)", None, params=a,
            content={"text/csv": {"schema": S}})},
        "/public/recommendations/{rec_id}/vote": {
            "get": _op("The members' voting page", None, params=r, query=LANG,
                       errors=("400", "404", "409"), content={"text/html": {"schema": S}}),
            "post": {**_op("Vote through the members' page (a form; answers with a page)",
                           None, params=r, query=LANG, ok="303",
                           errors=("400", "401", "403", "404", "409", "422", "429"),
                           content={"text/html": {"schema": S}}),
                     "requestBody": {"required": True, "content": {
                         "application/x-www-form-urlencoded": {"schema": _obj(
                             ("member_code", "level"), member_code=S, level=S)}}}}},
        # --- evaluation: questionnaires, facts and reports
        "/assemblies/{assembly_id}/questionnaires": {
            "post": _op("A questionnaire (default questions for its audience and stage unless "
                        "given)", FAC, params=a, ok="201", errors=CHANGES,
                        body=_obj(audience={"type": "string",
                                            "enum": ["member", "observer", "organiser"]},
                                  stage={"type": "string", "enum": ["session", "final"]},
                                  session_id={"type": "string", "maxLength": 64},
                                  title=LABELS, questions=QUESTIONS), body_required=False),
            "get": _op("The assembly's questionnaires with their response counts", OPERATORS,
                       params=a)},
        "/public/questionnaires/{questionnaire_id}": {"get": _op(
            "A questionnaire's questions (no results)", None, params=q)},
        "/public/questionnaires/{questionnaire_id}/responses": {"post": _op(
            "An anonymous response with a member code or a one-time code", None, params=q,
            ok="201", errors=("400", "401", "403", "404", "409", "422", "429"),
            body=_obj(("answers",), member_code=S, respondent_code=S,
                      answers={"type": "object"}))},
        "/public/questionnaires/{questionnaire_id}/form": {
            "get": _op("The respondents' questionnaire page", None, params=q, query=LANG,
                       errors=("400", "404", "409"), content={"text/html": {"schema": S}}),
            "post": {**_op("Answer through the page (a form; answers with a page)", None,
                           params=q, query=LANG, ok="303",
                           errors=("400", "401", "403", "404", "409", "422", "429"),
                           content={"text/html": {"schema": S}}),
                     "requestBody": {"required": True, "content": {
                         "application/x-www-form-urlencoded": {"schema": _obj(
                             member_code=S, respondent_code=S)}}}}},
        "/questionnaires/{questionnaire_id}/close": {"post": _op(
            "Close a questionnaire (its key and the list of who answered are erased)", FAC,
            params=q, errors=("404", "409"))},
        "/questionnaires/{questionnaire_id}/codes": {"post": _op(
            "One-time codes for observers or organisers (shown once)", FAC, params=q, ok="201",
            errors=CHANGES, body=_obj(("count",), count={"type": "integer", "minimum": 1,
                                                         "maximum": 500}))},
        "/questionnaires/{questionnaire_id}/results": {"get": _op(
            "A questionnaire's answers as counts (none below the minimum cell size)",
            OPERATORS, params=q)},
        "/assemblies/{assembly_id}/evaluation/population-targets": {"put": _op(
            "Population shares for features the extract does not hold", FAC, params=a,
            errors=CHANGES, body=_obj(("population_targets",), population_targets={
                "type": "object", "additionalProperties": {
                    "type": "object", "additionalProperties": N}}))},
        "/assemblies/{assembly_id}/evaluation": {"get": _op(
            "The evaluation data (organisers' edition)", OPERATORS, params=a)},
        "/assemblies/{assembly_id}/evaluation/reports/{lang}": {"get": _op(
            "The organisers' evaluation report files", OPERATORS, params=("assembly_id", "lang"),
            errors=("400", "404"))},
        "/assemblies/{assembly_id}/evaluation/reports/{lang}/{name}": {"get": _op(
            "An organisers' evaluation report file", OPERATORS,
            params=("assembly_id", "lang", "name"), errors=("400", "404"), content=FILES)},
        "/public/assemblies/{assembly_id}/evaluation": {"get": _op(
            "The public evaluation report's files (linked from the transparency page)", None,
            params=a, query=LANG, errors=("400", "404"), content={"text/html": {"schema": S}})},
        "/public/assemblies/{assembly_id}/evaluation/{lang}/{name}": {"get": _op(
            "A public evaluation report file (aggregates, small cells suppressed)", None,
            params=("assembly_id", "lang", "name"), errors=("400", "404"), content=FILES)},
        "/openapi.json": {"get": _op("This document", None, errors=())},
    }
    # The questionnaire page answers refusals with a page too.
    for op in paths["/public/questionnaires/{questionnaire_id}/form"].values():
        for code, response in op["responses"].items():
            if code != "303" and not code.startswith("2"):
                response["content"] = {**response["content"], "text/html": {"schema": S}}
    # The members' page answers refusals with a page in the member's language (only a bad
    # ``lang`` gets the JSON error).
    for op in paths["/public/recommendations/{rec_id}/vote"].values():
        for code, response in op["responses"].items():
            if code != "303" and not code.startswith("2"):
                response["content"] = {**response["content"], "text/html": {"schema": S}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "kleroterion recommendations", "version": "1"},
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": {"type": "object", "required": ["error"],
                                  "properties": {"error": S,
                                                 "field": {"type": "string", "nullable": True}}}},
        },
    }
