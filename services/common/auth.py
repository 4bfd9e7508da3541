"""Operator authentication and roles for the HTTP services.

Operators (platform operators, region administrators, facilitators, observers …) call the
JSON APIs with a bearer token. Tokens are random, shown once when issued, and stored only as
a SHA-256 hash in the service's own database, so a database dump does not let anyone in.
Each service names its roles; ``require`` guards an endpoint with the roles allowed.

Citizens (invited people, panel members) do not have operator tokens: each service
authenticates them in its own way (an invitation code, a member code).
"""
from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ParamSpec, TypeVar

import sqlalchemy as sa
from flask import Flask, current_app, g, request
from sqlalchemy.engine import Engine

from services.common.web import ApiError

P = ParamSpec("P")
R = TypeVar("R")

_meta = sa.MetaData()
api_tokens = sa.Table(
    "api_tokens", _meta,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("subject", sa.String(200), nullable=False),
    sa.Column("role", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
)


@dataclass(frozen=True)
class Principal:
    subject: str
    role: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenStore:
    def __init__(self, engine: Engine, roles: Iterable[str]) -> None:
        self.engine = engine
        self.roles = frozenset(roles)
        _meta.create_all(engine)

    def issue(self, subject: str, role: str) -> str:
        if role not in self.roles:
            raise ApiError("role", f"unknown role {role!r} "
                                   f"(roles: {', '.join(sorted(self.roles))})")
        if not subject.strip():
            raise ApiError("subject", "is required")
        token = secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            conn.execute(api_tokens.insert().values(
                token_hash=_digest(token), subject=subject, role=role,
                created_at=datetime.now(UTC)))
        return token

    def revoke(self, token: str) -> bool:
        with self.engine.begin() as conn:
            result = conn.execute(api_tokens.update()
                                  .where(api_tokens.c.token_hash == _digest(token),
                                         api_tokens.c.revoked_at.is_(None))
                                  .values(revoked_at=datetime.now(UTC)))
        return result.rowcount == 1

    def authenticate(self, token: str) -> Principal | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(api_tokens.c.subject, api_tokens.c.role)
                               .where(api_tokens.c.token_hash == _digest(token),
                                      api_tokens.c.revoked_at.is_(None))).first()
        return Principal(row.subject, row.role) if row else None


def install(app: Flask, store: TokenStore) -> None:
    app.extensions["kleroterion.tokens"] = store


def current_principal() -> Principal:
    principal: Principal | None = getattr(g, "principal", None)
    if principal is None:
        raise RuntimeError("current_principal() outside a @require'd endpoint")
    return principal


def require(*roles: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Allow the endpoint to callers whose token carries one of ``roles``."""

    def decorate(view: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(view)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
            header = request.headers.get("Authorization", "")
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token:
                raise ApiError("Authorization", "a bearer token is required", 401)
            store: TokenStore = current_app.extensions["kleroterion.tokens"]
            principal = store.authenticate(token.strip())
            if principal is None:
                raise ApiError("Authorization", "unknown or revoked token", 401)
            if roles and principal.role not in roles:
                raise ApiError("Authorization", f"role {principal.role!r} may not do this "
                                                f"(allowed: {', '.join(roles)})", 403)
            g.principal = principal
            return view(*args, **kwargs)

        return guarded

    return decorate
