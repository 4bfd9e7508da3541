"""Reading an operator's request: the JSON body's fields as typed values, and the audit
entry of the change the request makes."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Connection

from services.common import audit
from services.common.auth import current_principal
from services.common.web import ApiError


def now() -> datetime:
    return datetime.now(UTC)


def audit_change(conn: Connection, action: str, target: str,
                 detail: Mapping[str, Any] | None = None) -> None:
    who = current_principal()
    audit.record(conn, actor=who.subject, role=who.role, action=action, target=target,
                 detail=detail)


def text(data: Mapping[str, Any], name: str, required: bool = True, default: str = "") -> str:
    value = data.get(name, default)
    if not isinstance(value, str) or (required and not value.strip()):
        raise ApiError(name, "is required (a non-empty string)" if required
                       else "must be a string", 422)
    return value.strip()


def whole(data: Mapping[str, Any], name: str, default: int | None = None,
          minimum: int = 0) -> int:
    value = data.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ApiError(name, f"must be a whole number of at least {minimum}", 422)
    return value


def when(data: Mapping[str, Any], name: str, tz: str) -> datetime:
    raw = text(data, name)
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise ApiError(name, f"not an ISO 8601 date-time: {raw!r}", 422) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(tz))
    return value.astimezone(UTC)
