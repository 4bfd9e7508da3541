"""What the service learns about an assembly from the other services: that it exists, its
name, who is seated on its panel and which sessions were held."""
from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from services.recommendations import models as m
from services.recommendations import queries
from services.recommendations import scale as scales
from services.recommendations.settings import Settings


def ensure_assembly(conn: sa.Connection, settings: Settings, assembly_id: str) -> None:
    """An assembly is known from its first event or its first operator request, whichever
    comes first; it starts with the default scale and threshold."""
    if not queries.assembly_exists(conn, assembly_id):
        conn.execute(m.assemblies.insert().values(
            assembly_id=assembly_id, name="", scale=None,
            threshold=settings.default_threshold_percent / 100,
            created_at=datetime.now(UTC)))


def rename(conn: sa.Connection, assembly_id: str, name: str) -> None:
    conn.execute(m.assemblies.update().where(m.assemblies.c.assembly_id == assembly_id)
                 .values(name=name))


def seat(conn: sa.Connection, assembly_id: str, member_id: str, seated: bool) -> None:
    members = m.members
    now = datetime.now(UTC)
    where = (members.c.assembly_id == assembly_id) & (members.c.member_id == member_id)
    if conn.scalar(sa.select(sa.func.count()).select_from(members).where(where)):
        # A member who leaves loses the member code too: it must not outlive the seat.
        values: dict[str, Any] = {"seated": seated, "changed_at": now}
        if not seated:
            values["code_hash"] = None
        conn.execute(members.update().where(where).values(**values))
    elif seated:
        conn.execute(members.insert().values(assembly_id=assembly_id, member_id=member_id,
                                             seated=True, code_hash=None, changed_at=now))


def session_held(conn: sa.Connection, assembly_id: str, session_id: str, *, hours: float,
                 present: int, seated: int, held_at: datetime) -> None:
    """Keep the newest report of a held session (a correction replaces it)."""
    s = m.sessions_held
    where = (s.c.assembly_id == assembly_id) & (s.c.session_id == session_id)
    conn.execute(s.delete().where(where))
    conn.execute(s.insert().values(assembly_id=assembly_id, session_id=session_id, hours=hours,
                                   present=present, seated=seated, held_at=held_at))


def new_member_code() -> str:
    return "-".join(secrets.token_hex(2).upper() for _ in range(4))


def code_hash(code: str) -> str:
    """What is kept of a member code: its hash (the code itself is shown once)."""
    return hashlib.sha256(code.encode()).hexdigest()


def member_by_code(conn: sa.Connection, code: str) -> queries.Row | None:
    """The member a typed member code belongs to (spaces and case as the member typed)."""
    return queries.member_by_code_hash(conn, code_hash(code.strip().upper()))


def assembly_json(conn: sa.Connection, a: queries.Row) -> dict[str, Any]:
    return {"assembly_id": a.assembly_id, "name": a.name,
            "scale": a.scale or scales.DEFAULT_SCALE, "threshold": a.threshold,
            "seated_members": queries.seated_count(conn, a.assembly_id),
            "receiving_body": a.receiving_body, "body_kind": a.body_kind,
            "handed_over_on": a.handed_over_on.isoformat() if a.handed_over_on else None,
            "answer_deadline": a.answer_deadline.isoformat() if a.answer_deadline else None}
