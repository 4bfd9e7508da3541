"""Fuzz a Flask service from its own OpenAPI document with schemathesis, in process (WSGI).

Every documented operation gets ``KLERO_FUZZ_EXAMPLES`` generated requests (positive and
negative data, half of them aimed at objects that exist, so the code behind the 404s is
reached too), carrying an operator token of a role the operation allows. Each response must
not be a 5xx, must have a documented status code, content type and (for errors) schema, and
a refused request (4xx) must leave the database exactly as it was: no audit entry, no row
added, changed or removed in any table but the rate limit's counters of failed code tries
(``rate_limit_counters``: counting a refused code is what they are for). The fixtures raise
the limits (``UNLIMITED_CODE_TRIES``) so that the lockout does not hide the code behind it.
"""
from __future__ import annotations

import hashlib
import os
import re

import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

EXAMPLES = int(os.environ.get("KLERO_FUZZ_EXAMPLES", "15"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


def load(app):
    """The app's schema as schemathesis reads it from ``/openapi.json``."""
    return schemathesis.openapi.from_wsgi("/openapi.json", app)


def operation_ids(document: dict) -> list[str]:
    return [f"{method.upper()} {path}" for path, item in document["paths"].items()
            for method in item if path != "/openapi.json"]


_TABLES: dict[int, list[sa.Table]] = {}


# Settings for a fuzzed service: every try of one client, so no lockout in a fuzz run.
UNLIMITED_CODE_TRIES = {"code_failures_per_client": 10**9, "code_failures_per_code": 10**9}
# Written by design on a refused code (services/common/ratelimit.py).
WRITTEN_ON_REFUSAL = {"rate_limit_counters"}


def snapshot(engine) -> dict[str, str]:
    """A digest of every table's rows: equal snapshots mean nothing was written."""
    if id(engine) not in _TABLES:
        meta = sa.MetaData()
        meta.reflect(bind=engine)
        _TABLES[id(engine)] = [meta.tables[n] for n in sorted(meta.tables)
                               if n not in WRITTEN_ON_REFUSAL]
    out = {}
    with engine.connect() as conn:
        for table in _TABLES[id(engine)]:
            rows = sorted(repr(tuple(r)) for r in conn.execute(sa.select(table)))
            out[table.name] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
    return out


def roles_of(operation) -> list[str]:
    """The roles an operation allows, from its description ("Roles: a, b.")."""
    found = re.search(r"Roles: ([^.]*)\.", operation.definition.raw.get("description", ""))
    return [r.strip() for r in found.group(1).split(",")] if found else []


def fuzz_operation(schema, label: str, engine, token_for, known: dict[str, object]) -> None:
    """Run the fuzz cases of one operation (``label`` is "METHOD /path")."""
    method, path = label.split(" ", 1)
    operation = schema[path][method]
    names = {p.name for p in operation.path_parameters}
    fixed = {k: v for k, v in known.items() if k in names}
    strategies = [operation.as_strategy(GenerationMode.POSITIVE),
                  operation.as_strategy(GenerationMode.NEGATIVE)]
    if fixed:
        strategies += [operation.as_strategy(GenerationMode.POSITIVE, path_parameters=fixed),
                       operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=fixed)]
    roles = roles_of(operation)
    headers = {"Authorization": f"Bearer {token_for(roles[0])}"} if roles else {}

    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck), print_blob=True)
    @given(case=st.one_of(strategies))
    def run(case):
        if roles:
            # A negative case may put its own Authorization header; ours wins so the
            # request gets past authentication and into the endpoint.
            case.headers = {**(case.headers or {}), **headers}
        before = snapshot(engine)
        response = case.call()
        case.validate_response(response, checks=CHECKS)
        if 400 <= response.status_code < 500:
            after = snapshot(engine)
            changed = sorted(t for t in before if before[t] != after.get(t))
            assert not changed, (f"{label} answered {response.status_code} but wrote to "
                                 f"{changed}: {response.text[:300]}")

    run()
