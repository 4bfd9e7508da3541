"""The OpenAPI 3 document of the sessions service (a test checks it lists every route;
tests/fuzz/ fuzzes every operation from it with schemathesis)."""
from __future__ import annotations

from typing import Any

from services.sessions import roles

ERROR = {"$ref": "#/components/schemas/Error"}
READERS = list(roles.READERS)
PLANNERS = list(roles.PLANNERS)
FACILITATORS = list(roles.FACILITATORS)
REFUSALS = {
    "400": "The body is not a JSON object",
    "404": "Unknown assembly, session, member or agenda item (names the field)",
    "409": "Conflicts with the current state (names the field)",
    "422": "Bad input (names the field and the reason)",
}
S, INT, B = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
JSON_OBJECT = {"application/json": {"schema": {"type": "object"}}}


def _obj(required: tuple[str, ...] = (), **props: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        out["required"] = list(required)
    return out


def _op(summary: str, roles: list[str] | None, *, params: tuple[str, ...] = (),
        query: dict[str, Any] | None = None, body: dict[str, Any] | None = None,
        ok: str = "200", errors: tuple[str, ...] = ("404",),
        content: dict[str, Any] | None = None) -> dict[str, Any]:
    responses: dict[str, Any] = {ok: {"description": "OK", "content": content or JSON_OBJECT}}
    for code in errors:
        responses[code] = {"description": REFUSALS[code],
                           "content": {"application/json": {"schema": ERROR}}}
    op: dict[str, Any] = {"summary": summary, "responses": responses}
    if roles is None:
        op["security"] = []
    else:
        op["security"] = [{"bearer": []}]
        op["description"] = f"Roles: {', '.join(roles)}."
        for code, what in (("401", "No, unknown or revoked token"), ("403", "Role not allowed")):
            responses[code] = {"description": what,
                               "content": {"application/json": {"schema": ERROR}}}
    parameters = [{"name": p, "in": "path", "required": True, "schema": S} for p in params]
    parameters += [{"name": name, "in": "query", "required": False, "schema": schema}
                   for name, schema in (query or {}).items()]
    if parameters:
        op["parameters"] = parameters
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return op


AGENDA_ITEM = _obj(("kind", "title", "minutes"), id=S, kind={"type": "string", "enum": [
    "expert_talk", "stakeholder_hearing", "group_work", "plenary", "voting"]}, title=S,
    minutes={"type": "integer", "minimum": 1}, table_size={"type": "integer", "minimum": 2})
GUEST = _obj(("kind", "name"), kind={"type": "string", "enum": ["expert", "stakeholder"]},
             name=S, organisation=S)
SESSION = _obj(("title", "starts_at", "ends_at", "place", "host"), id=S, title=S,
               starts_at={"type": "string", "description": "ISO 8601 date-time (local time "
                                                           "of the service's zone if naive)"},
               ends_at={"type": "string", "description": "ISO 8601 date-time, after starts_at"},
               place=S, host=S, agenda={"type": "array", "items": AGENDA_ITEM},
               guests={"type": "array", "items": GUEST})
LANG = {"lang": {"type": "string", "enum": ["da", "en"]}}


def document() -> dict[str, Any]:
    a, m, s, g = ("assembly_id",), ("assembly_id", "member_id"), ("session_id",), ("item_id",)
    paths = {
        "/api/assemblies": {"post": _op(
            "Create an assembly", PLANNERS, ok="201", errors=("400", "409", "422"),
            body=_obj(("id", "name", "format"), id=S, name=S,
                      format={"type": "string", "description": "an assembly format plugin: "
                                                               "panel, assembly, national"},
                      seats={"type": "integer", "minimum": 1}))},
        "/api/assemblies/{assembly_id}/sessions": {"post": _op(
            "Add a session to the programme", PLANNERS, params=a, ok="201",
            errors=("400", "404", "409", "422"), body=SESSION)},
        "/api/assemblies/{assembly_id}/programme/draft": {"post": _op(
            "Draft the whole programme from the format's minimum", PLANNERS, params=a, ok="201",
            errors=("400", "404", "409", "422"),
            body=_obj(("start_date", "place", "host"), start_date={"type": "string",
                      "format": "date"}, place=S, host=S,
                      every_days={"type": "integer", "minimum": 1}))},
        "/api/assemblies/{assembly_id}/programme": {"get": _op(
            "The programme and its check against the format", READERS, params=a,
            errors=("404", "422"))},
        "/api/assemblies/{assembly_id}/composition": {
            "put": _op("Names (with consent), features and quotas of the drawn members",
                       ["platform_operator"], params=a, errors=("400", "404", "422"),
                       body=_obj(members={"type": "object", "additionalProperties": _obj(
                           features={"type": "object"}, name=S, name_consent=B)},
                           quotas={"type": "array", "items": _obj(
                               ("feature",), feature=S, value=S, min=INT, max=INT)})),
            "get": _op("The panel's composition against the quotas", READERS, params=a)},
        "/api/assemblies/{assembly_id}/members/{member_id}/response": {"post": _op(
            "A member's answer to a seat offer", FACILITATORS, params=m,
            errors=("400", "404", "409", "422"),
            body=_obj(("answer",), answer={"type": "string",
                                           "enum": ["confirmed", "declined"]}))},
        "/api/assemblies/{assembly_id}/members/{member_id}/withdraw": {"post": _op(
            "A member withdraws; a substitute who keeps the quotas may take the seat",
            FACILITATORS, params=m, errors=("400", "404", "409", "422"),
            body=_obj(reason=S, before_session={"type": "integer", "minimum": 1}))},
        "/api/sessions/{session_id}/attendance": {
            "put": _op("Check a member in or out", FACILITATORS, params=s,
                       errors=("400", "404", "409", "422"),
                       body=_obj(("member_id", "present"), member_id=S, present=B)),
            "get": _op("Attendance of a session", READERS, params=s)},
        "/api/sessions/{session_id}/held": {"post": _op(
            "Record a session as held", FACILITATORS, params=s, errors=("404", "409", "422"))},
        "/api/assemblies/{assembly_id}/attendance": {"get": _op(
            "Attendance per member across held sessions", READERS, params=a,
            errors=("404", "422"))},
        "/api/assemblies/{assembly_id}/group-constraints": {"put": _op(
            "Replace the constraints of the rotating groups", FACILITATORS, params=a,
            errors=("400", "404", "422"),
            body=_obj(("constraints",), constraints={"type": "array", "items": _obj(
                ("kind", "members"), kind={"type": "string",
                                           "enum": ["apart", "together", "fixed"]},
                members={"type": "array", "items": S, "minItems": 1},
                table={"type": "integer", "minimum": 1})}))},
        "/api/agenda-items/{item_id}/groups": {
            "post": _op("Seat the present members at tables for a group-work item",
                        FACILITATORS, params=g, errors=("400", "404", "422"),
                        body=_obj(table_size={"type": "integer", "minimum": 2}, seed=S)),
            "get": _op("The tables of a group-work item", READERS, params=g)},
        "/api/sessions/{session_id}/table-plan": {"get": _op(
            "The printable table plan (HTML, or PDF with format=pdf)", READERS, params=s,
            query={"format": {"type": "string", "enum": ["html", "pdf"]}, **LANG},
            content={"text/html": {"schema": S}, "application/pdf": {"schema": S}})},
        "/api/audit": {"get": _op(
            "The audit log", ["platform_operator", "observer"], errors=(),
            query={"after": {"type": "string", "description": "entries after this id"}})},
        "/public/assemblies/{assembly_id}/programme.json": {"get": _op(
            "The public programme (names only with consent)", None, params=a,
            errors=("404", "422"))},
        "/public/assemblies/{assembly_id}/programme": {"get": _op(
            "The public programme page", None, params=a, query=LANG, errors=("404", "422"),
            content={"text/html": {"schema": S}})},
        "/public/assemblies/{assembly_id}/programme.ics": {"get": _op(
            "The programme as iCalendar", None, params=a,
            content={"text/calendar": {"schema": S}})},
        "/check-in/{session_id}": {"get": _op(
            "The facilitators' check-in page (its script calls the attendance API)", None,
            params=s, query=LANG, content={"text/html": {"schema": S}})},
        "/openapi.json": {"get": _op("This document", None, errors=())},
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "kleroterion sessions", "version": "1"},
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": {"type": "object", "required": ["error"],
                                  "properties": {"error": S,
                                                 "field": {"type": "string", "nullable": True}}}},
        },
    }
