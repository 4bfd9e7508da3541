"""What every view of the service shares: one transaction per change that publishes its
events after the commit, the operator's audit line, and today's date from the app's clock
(tests set the clock to test deadlines)."""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app

from services.common import audit, auth
from services.common.service import current_context
from services.recommendations import outgoing

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
