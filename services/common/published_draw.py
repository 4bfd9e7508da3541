"""Which lottery the assembly published, as far as this service knows: the first of
sortition's ``lottery_published`` or the assembly's first ``panel_drawn`` pins the run and its
lottery's SHA-256, and only that run's draw is applied, once. A ``panel_drawn`` or
``substitutes_drawn`` from any other run (a rerun on the same pool, a forged event) is
claimed, written to the audit log as refused and logged, and changes nothing; it is not
retried or dead-lettered, because no retry could make it the published run.

Each service keeps the pin in a table of its own schema, made by ``table()``; the rule is the
same everywhere and lives here once."""
from __future__ import annotations

import logging
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from services.common import audit
from services.contracts.kleroterion.v1.envelope_pb2 import Envelope

log = logging.getLogger(__name__)


def table(name: str, metadata: sa.MetaData) -> sa.Table:
    """A service's table of pinned runs, one row per assembly."""
    return sa.Table(
        name, metadata,
        sa.Column("assembly_id", sa.String(200), primary_key=True),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("lottery_sha256", sa.String(64), nullable=False),
        # The event type that pinned it: lottery_published, or the first panel_drawn.
        sa.Column("pinned_by", sa.String(40), nullable=False),
        sa.Column("pinned_at", sa.DateTime(timezone=True), nullable=False),
        # The events that applied the panel and the run's own reserve list.
        sa.Column("panel_event_id", sa.String(64), nullable=True),
        sa.Column("reserve_event_id", sa.String(64), nullable=True),
    )


def _pin(conn: Connection, published_draws: sa.Table, assembly_id: str
         ) -> sa.Row[tuple[object, ...]] | None:
    query = sa.select(published_draws).where(published_draws.c.assembly_id == assembly_id)
    return conn.execute(query).first()


def _insert(conn: Connection, published_draws: sa.Table, envelope: Envelope, run_id: str,
            lottery_sha256: str, **applied: str) -> None:
    conn.execute(published_draws.insert().values(
        assembly_id=envelope.assembly_id, run_id=run_id, lottery_sha256=lottery_sha256,
        pinned_by=envelope.event_type, pinned_at=datetime.now(UTC), **applied))


def admit(conn: Connection, published_draws: sa.Table, envelope: Envelope) -> str | None:
    """Whether the draw event may be applied, in the caller's transaction (after the claim):
    None if so (and the pin records it), else the reason it is refused. ``lottery_published``
    pins the run; ``panel_drawn`` applies once, for the pinned run; ``substitutes_drawn``
    applies for the pinned run (its own reserve list once, and the top-ups that name it)."""
    kind = envelope.event_type
    payload = getattr(envelope, kind)
    if kind == "substitutes_drawn":
        run_id = payload.published_run_id or payload.run_id
        sha = payload.published_lottery_sha256 or payload.lottery_sha256
    else:
        run_id, sha = payload.run_id, payload.lottery_sha256
    if not run_id:
        return "the event names no run"
    pin = _pin(conn, published_draws, envelope.assembly_id)
    own_list = kind == "substitutes_drawn" and payload.run_id == run_id
    if pin is None:
        if kind == "substitutes_drawn" and not own_list:
            return f"a top-up of run {run_id}, whose publication or draw was never seen"
        _insert(conn, published_draws, envelope, run_id, sha,
                **({"panel_event_id": envelope.event_id} if kind == "panel_drawn" else {}),
                **({"reserve_event_id": envelope.event_id} if own_list else {}))
        return None
    if (pin.run_id, pin.lottery_sha256) != (run_id, sha):
        return (f"run {run_id} (lottery {sha[:16] or 'unnamed'}) is not the assembly's "
                f"published run {pin.run_id} (lottery {pin.lottery_sha256[:16] or 'unnamed'})")
    column = ("panel_event_id" if kind == "panel_drawn"
              else "reserve_event_id" if own_list else None)
    if column is None:
        return None
    if getattr(pin, column) not in (None, envelope.event_id):
        return (f"the {'panel' if column == 'panel_event_id' else 'reserve list'} of run "
                f"{run_id} was applied already (event {getattr(pin, column)}); a draw "
                "applies once")
    conn.execute(published_draws.update()
                 .where(published_draws.c.assembly_id == envelope.assembly_id)
                 .values({column: envelope.event_id}))
    return None


def refuse(conn: Connection, envelope: Envelope, reason: str) -> None:
    """Keep the refusal on record (audit and log) in the transaction that claims the event."""
    payload = getattr(envelope, envelope.event_type)
    detail = {"event_id": envelope.event_id, "run_id": payload.run_id, "reason": reason}
    audit.record(conn, actor=envelope.producer or "bus", role="event",
                 action=f"event.{envelope.event_type}.refused",
                 target=f"assembly:{envelope.assembly_id}", detail=detail)
    log.warning("draw event refused", extra={"assembly_id": envelope.assembly_id,
                                             "event_type": envelope.event_type, **detail})
