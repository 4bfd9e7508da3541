"""The audit log: who changed what, when — kept in the service's own database.

An entry is written in the same transaction as the change it records, so there is never a
change without its entry or an entry for a change that was rolled back. Entries are chained
(each holds the SHA-256 of the previous entry and its own content), so a deleted or edited
entry breaks the chain and ``verify_chain`` finds it. Details must not hold personal data:
record ids, not names.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

_meta = sa.MetaData()
audit_log = sa.Table(
    "audit_log", _meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("role", sa.String(64), nullable=False),
    sa.Column("action", sa.String(100), nullable=False),
    sa.Column("target", sa.String(200), nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("previous_hash", sa.String(64), nullable=False),
    sa.Column("entry_hash", sa.String(64), nullable=False),
)
GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    role: str
    action: str
    target: str
    detail: dict[str, Any]
    entry_hash: str


def create_tables(engine: Engine) -> None:
    _meta.create_all(engine)


def _hash(previous: str, at: datetime, actor: str, role: str, action: str, target: str,
          detail: str) -> str:
    material = json.dumps([previous, at.isoformat(), actor, role, action, target, detail])
    return hashlib.sha256(material.encode()).hexdigest()


def record(conn: Connection, *, actor: str, role: str, action: str, target: str,
           detail: Mapping[str, Any] | None = None) -> None:
    """Append an entry inside the caller's transaction."""
    detail_json = json.dumps(dict(detail or {}), sort_keys=True, default=str)
    if conn.dialect.name == "postgresql":
        # Writers must append one at a time or two entries would claim the same predecessor
        # (SQLite's write lock already serialises them).
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(74201)"))
    previous = conn.scalar(sa.select(audit_log.c.entry_hash).order_by(audit_log.c.id.desc())
                           .limit(1)) or GENESIS
    at = datetime.now(UTC).replace(microsecond=0)
    conn.execute(audit_log.insert().values(
        at=at, actor=actor, role=role, action=action, target=target, detail=detail_json,
        previous_hash=previous,
        entry_hash=_hash(previous, at, actor, role, action, target, detail_json)))


def entries(engine: Engine, *, target: str | None = None, limit: int = 200,
            after_id: int = 0) -> list[AuditEntry]:
    query = (sa.select(audit_log).where(audit_log.c.id > after_id).order_by(audit_log.c.id)
             .limit(limit))
    if target is not None:
        query = query.where(audit_log.c.target == target)
    with engine.connect() as conn:
        return [AuditEntry(r.id, r.at, r.actor, r.role, r.action, r.target, json.loads(r.detail),
                           r.entry_hash) for r in conn.execute(query)]


def verify_chain(engine: Engine) -> int | None:
    """The id of the first entry that does not follow from its predecessor, or None."""
    previous = GENESIS
    with engine.connect() as conn:
        for r in conn.execute(sa.select(audit_log).order_by(audit_log.c.id)):
            at = r.at if r.at.tzinfo else r.at.replace(tzinfo=UTC)
            expected = _hash(previous, at, r.actor, r.role, r.action, r.target, r.detail)
            if r.previous_hash != previous or r.entry_hash != expected:
                broken: int = r.id
                return broken
            previous = r.entry_hash
    return None
