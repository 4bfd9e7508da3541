"""The OpenAPI 3 document of the registry's JSON API (a test checks it lists every route)."""
from __future__ import annotations

from typing import Any

from services.registry.roles import ANYONE, OPERATORS, PLATFORM

ERROR = {"$ref": "#/components/schemas/Error"}
OPS = list(OPERATORS)
ALL = list(ANYONE)


# The code endpoints' lockout (services/common/ratelimit.py).
TOO_MANY_TRIES: dict[str, Any] = {
    "description": "Too many failed tries from this client or with this code: locked out; "
                   "Retry-After says for how many seconds",
    "headers": {"Retry-After": {"schema": {"type": "integer"},
                                "description": "Seconds until the lockout ends"}}}


def _op(summary: str, roles: list[str] | None, *, params: tuple = (), body: dict | None = None,
        ok: str = "200", multipart: bool = False, responses: dict | None = None) -> dict:
    op: dict = {"summary": summary,
                "responses": {ok: {"description": "OK"},
                              "400": {"description": "Bad input (names the field)",
                                      "content": {"application/json": {"schema": ERROR}}},
                              **(responses or {})}}
    if roles is not None:
        op["security"] = [{"bearer": []}]
        op["description"] = f"Roles: {', '.join(roles)}."
        op["responses"]["401"] = {"description": "No or unknown token"}
        op["responses"]["403"] = {"description": "Role not allowed"}
    else:
        op["security"] = []
    if params:
        op["parameters"] = [{"name": p, "in": "path", "required": True,
                             "schema": {"type": "string"}} for p in params]
        # What every lookup by id can answer (found by fuzzing, tests/fuzz/).
        for code, what in (("404", "Unknown id (names the field)"),
                           ("409", "The assembly has ended, or the state forbids it")):
            op["responses"].setdefault(code, {"description": what})
    if body is not None or params:
        op["responses"].setdefault("422", {"description": "Bad value (names the field)"})
    for response in op["responses"].values():
        if response is not op["responses"][ok]:
            response.setdefault("content", {"application/json": {"schema": ERROR}})
    if body is not None:
        kind = "multipart/form-data" if multipart else "application/json"
        op["requestBody"] = {"required": True, "content": {kind: {"schema": body}}}
    return op


def _obj(**props: Any) -> dict[str, Any]:
    return {"type": "object", "properties": props}


S, N, B = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}  # string, number, bool


def document() -> dict:
    paths = {
        "/api/assemblies": {"post": _op("Create an assembly", OPS, ok="201", body=_obj(
            id=S, name=S, session_dates={"type": "array", "items": S},
            questions={"type": "array", "items": _obj(id=S, label=_obj(da=S, en=S),
                                                      options={"type": "array"})}))},
        "/api/assemblies/{assembly_id}": {"get": _op("An assembly", ALL, params=("assembly_id",))},
        "/api/municipalities": {"get": _op("Denmark's 98 municipalities and their regions", ALL)},
        "/api/assemblies/{assembly_id}/extracts": {"post": _op(
            "Import a population extract (CSV, streamed; all or nothing)", OPS, ok="201",
            params=("assembly_id",), multipart=True,
            body=_obj(file={"type": "string", "format": "binary"},
                      mapping={"type": "string", "description":
                               "JSON: {columns: {person_key, name, address, postcode, "
                               "municipality_code, birth_date, sex, [phone, email, "
                               "digital_post_exempt, language]: column}, delimiter, "
                               "date_format, encoding, person_key_format}"}),
            responses={"422": {"description": "Bad rows: errors lists row, field, reason"}})},
        "/api/assemblies/{assembly_id}/templates": {"post": _op(
            "Add an invitation template", OPS, ok="201", params=("assembly_id",),
            body=_obj(content=_obj(da=_obj(subject=S, body=S), en=_obj(subject=S, body=S))))},
        "/api/templates/{template_id}/preview": {"post": _op(
            "Render a template with every enabled channel", ALL, params=("template_id",),
            body=_obj(language=S))},
        "/api/templates/{template_id}/test-send": {"post": _op(
            "Send a template to a test recipient", OPS, params=("template_id",),
            body=_obj(channel=S, recipient=_obj(name=S, email=S, phone=S, address=S,
                                                postcode=S, cpr=S, language=S)))},
        "/api/templates/{template_id}/approve": {"post": _op(
            "Approve a template after a test send", OPS, params=("template_id",),
            responses={"409": {"description": "No test send yet"}})},
        "/api/assemblies/{assembly_id}/rollouts": {"post": _op(
            "Draw an invitation lottery", OPS, ok="201", params=("assembly_id",),
            body=_obj(scope=S, size=N, seed=S, one_per_household=B,
                      age_bands={"type": "array", "items": S},
                      weights={"type": "object", "description":
                               "{feature: {value: weight}}, features age_band and sex"}))},
        "/api/rollouts/{rollout_id}": {"get": _op("A rollout and its invitations' states", ALL,
                                                  params=("rollout_id",))},
        "/api/rollouts/{rollout_id}/send": {"post": _op(
            "Send a rollout's invitations with an approved template", OPS, ok="202",
            params=("rollout_id",), body=_obj(template_id=S),
            responses={"409": {"description": "Template not approved"}})},
        "/api/rollouts/{rollout_id}/deliveries": {"get": _op(
            "Delivery counts per state and channel", ALL, params=("rollout_id",))},
        "/api/assemblies/{assembly_id}/statistics": {"get": _op(
            "Invited, signed up and response rate per municipality and feature", ALL,
            params=("assembly_id",))},
        "/api/assemblies/{assembly_id}/pool-exports": {"post": {
            **_op("Export the pool (features, pseudonymous ids) with its SHA-256", OPS,
                  params=("assembly_id",)),
            "parameters": [{"name": "assembly_id", "in": "path", "required": True,
                            "schema": S},
                           {"name": "format", "in": "query", "schema":
                            {"type": "string", "enum": ["json", "csv"]}}]}},
        "/api/assemblies/{assembly_id}/registrants": {"get": _op(
            "Registrants (pseudonymous ids and states)", ALL, params=("assembly_id",))},
        "/api/registrants/{registrant_id}/state": {"post": _op(
            "Change a registrant's state (erased erases their personal data)", OPS,
            params=("registrant_id",), body=_obj(state={"type": "string", "enum": [
                "pool", "selected", "substitute", "confirmed", "declined", "withdrawn",
                "erased"]}), responses={"409": {"description": "Illegal transition"}})},
        "/api/assemblies/{assembly_id}/end": {"post": _op(
            "End an assembly: erase all personal data, keep aggregate counts",
            list(PLATFORM), params=("assembly_id",))},
        "/api/public/signup/{code}": {"get": _op(
            "What an invitation code is for now (public): the sign-up's questions "
            "(step signup) or, once its registrant is drawn, the seat offer to confirm or "
            "decline (step seat)", None, params=("code",),
            responses={"404": {"description": "Unknown code"},
                       "409": {"description": "Code already used, or the seat already "
                                              "answered"},
                       "410": {"description": "The assembly has ended"},
                       "429": dict(TOO_MANY_TRIES)})},
        "/api/public/signup": {"post": _op(
            "Sign up with an invitation code (public)", None, ok="201",
            body=_obj(code=S, language=S, answers={"type": "object"}, available=B, consent=B),
            responses={"422": {"description": "Missing answers (errors lists every field)"},
                       "404": {"description": "Unknown code"},
                       "409": {"description": "Code already used"},
                       "410": {"description": "The assembly has ended"},
                       "429": dict(TOO_MANY_TRIES)})},
        "/api/public/seat": {"post": _op(
            "Confirm or decline a seat with the invitation code (public); a reason, from "
            "a fixed list, is kept only with a decline", None,
            body=_obj(code=S, language=S,
                      answer={"type": "string", "enum": ["confirmed", "declined"]},
                      reason={"type": "string", "enum": ["", "dates", "circumstances",
                                                         "not_interested", "other"]}),
            responses={"422": {"description": "Missing or bad answer or reason (errors "
                                              "lists every field)"},
                       "404": {"description": "Unknown code"},
                       "409": {"description": "The code's person is not drawn, or has "
                                              "answered already"},
                       "410": {"description": "The assembly has ended"},
                       "429": dict(TOO_MANY_TRIES)})},
        "/openapi.json": {"get": _op("This document", None)},
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "kleroterion registry", "version": "1"},
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": _obj(error=S, field=S)},
        },
    }
