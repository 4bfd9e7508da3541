"""Reading an operator's request: the service context, the JSON body and its fields, and the
audit entry of the change the request makes."""
from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import current_app

from services.common import audit
from services.common.auth import current_principal
from services.common.service import ServiceContext
from services.common.web import ApiError


def ctx() -> ServiceContext:
    return current_app.extensions["kleroterion.context"]


def now() -> datetime:
    return datetime.now(UTC)


def audit_change(conn, action: str, target: str, detail: dict | None = None) -> None:
    who = current_principal()
    audit.record(conn, actor=who.subject, role=who.role, action=action, target=target,
                 detail=detail)


def text(data: dict, name: str, required: bool = True, default: str = "") -> str:
    value = data.get(name, default)
    if not isinstance(value, str) or (required and not value.strip()):
        raise ApiError(name, "is required (a non-empty string)" if required else "must be a string", 422)
    return value.strip()


def whole(data: dict, name: str, default: int | None = None, minimum: int = 0) -> int:
    value = data.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ApiError(name, f"must be a whole number of at least {minimum}", 422)
    return value


def when(data: dict, name: str, tz: str) -> datetime:
    raw = text(data, name)
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise ApiError(name, f"not an ISO 8601 date-time: {raw!r}", 422) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(tz))
    return value.astimezone(UTC)
