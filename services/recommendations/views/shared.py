"""What every view of the service shares: one transaction per change that publishes its
events after the commit, the operator's audit line, today's date from the app's clock
(tests set the clock to test deadlines), and the rate limit of the endpoints that take a
member's or a respondent's code."""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app

from services.common import audit, auth, ratelimit
from services.common.service import current_context
from services.recommendations import outgoing
from services.recommendations.inputs import Refused

CLOCK_KEY = "kleroterion.clock"
# The service's Jinja templates (the views live one folder down).
TEMPLATES = str(Path(__file__).resolve().parent.parent / "templates")


def today() -> date:
    clock: Callable[[], date] = current_app.extensions[CLOCK_KEY]
    return clock()


def now() -> datetime:
    return datetime.now(UTC)


def who() -> tuple[str, str]:
    p = auth.current_principal()
    return p.subject, p.role


@contextmanager
def change() -> Iterator[sa.Connection]:
    """One transaction; events it put in the outbox are published after the commit."""
    ctx = current_context()
    with ctx.engine.begin() as conn:
        yield conn
    outgoing.publish(ctx)


def log_change(conn: sa.Connection, action: str, target: str,
               detail: Mapping[str, Any] | None = None) -> None:
    actor, role = who()
    audit.record(conn, actor=actor, role=role, action=action, target=target, detail=detail)


LOCKED = {"da": "For mange forkerte forsøg med koden. Prøv igen om {minutes} minutter.",
          "en": "Too many failed tries with the code. Try again in {minutes} minutes."}
# Refusals that say nothing about the code: they are not failed tries.
NOT_ABOUT_THE_CODE = frozenset({"code_missing", "closed", "level", "answers", "empty"})


def code_guard(field: str, code: object) -> ratelimit.CodeGuard:
    """The request's guard for the code in ``field``; raises RateLimited (429 with
    Retry-After) when this client or this code is locked out."""
    ctx = current_context()
    return ratelimit.guard(ctx.engine, ctx.settings, field, code)


def count_failure(guard: ratelimit.CodeGuard, exc: Refused) -> None:
    """Count a refusal of the code (unknown, not a member, not present, used, voted) as a
    failed try. Call it after the request's transaction has ended."""
    if exc.kind not in NOT_ABOUT_THE_CODE:
        guard.failed()


def locked_message(lang: str, exc: ratelimit.RateLimited) -> str:
    return LOCKED[lang].format(minutes=max(1, -(-exc.retry_after // 60)))
