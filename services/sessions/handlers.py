"""Events in: the platform's ``assembly_created``, sortition's ``lottery_published``,
``panel_drawn`` and ``substitutes_drawn`` (which carry the members' stratification features
and the quotas; only the published run's draw applies, see ``published_draw``) and
the registry's ``seat_answered`` (a member's own answer to their seat offer), each applied
once per event id, with the events its change causes enqueued in the same transaction."""
from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Connection

from services.common import audit, events, published_draw, storage
from services.common.handlers import EventHandler, EventHandlers
from services.common.service import ServiceContext
from services.common.web import ApiError
from services.contracts.kleroterion.v1 import sortition_events_pb2
from services.contracts.kleroterion.v1.envelope_pb2 import Envelope
from services.sessions import models as m
from services.sessions import outgoing, queries, seats

log = logging.getLogger(__name__)


@dataclass
class Change:
    """One event being applied, inside the transaction that claimed it: what the handler's
    change announces, whether it also gets a process snapshot, and the audit line's detail.
    A handler that finds nothing to apply sets ``changes_nothing``: the event stays claimed
    and nothing is written or announced."""

    ctx: ServiceContext
    conn: Connection
    detail: dict[str, Any]
    announced: list[Any] = field(default_factory=list)
    summarise: bool = False
    changes_nothing: bool = False


def _claim_apply_and_announce(ctx: ServiceContext, envelope: Envelope,
                              handler: EventHandler) -> None:
    """Every event type alike: claimed once per event id, applied, audited and its events
    enqueued in one transaction, then published after the commit."""
    assembly_id = envelope.assembly_id
    with ctx.engine.begin() as conn:
        if not storage.apply_once(conn, handlers.group, envelope.event_id):
            return
        change = Change(ctx, conn, detail={"event_id": envelope.event_id})
        handler(change, envelope)
        if change.changes_nothing:
            return
        audit.record(conn, actor=envelope.producer or "bus", role="event",
                     action=f"event.{envelope.event_type}", target=f"assembly:{assembly_id}",
                     detail=change.detail)
        outgoing.enqueue(conn, ctx, assembly_id, change.announced, summarise=change.summarise)
    outgoing.publish(ctx)


handlers: EventHandlers[ServiceContext] = EventHandlers("sessions",
                                                        around=_claim_apply_and_announce)


def _drawn(ids: Iterable[str], people: Iterable[sortition_events_pb2.PanelMember],
           ) -> list[tuple[str, Mapping[str, str]]]:
    """(member id, features) in the draw's order; ``member_ids``/``substitute_ids`` stay the
    order of record, and an event from before features travelled gives empty features."""
    features = {p.member_id: dict(p.features) for p in people}
    order = list(ids) or [p.member_id for p in people]
    return [(member_id, features.get(member_id, {})) for member_id in order]


@handlers.handles("assembly_created")
def assembly_created(change: Change, envelope: Envelope) -> None:
    payload = events.payload_of(envelope)
    assembly_id = envelope.assembly_id
    if not queries.assembly_exists(change.conn, assembly_id):
        change.conn.execute(m.assemblies.insert().values(
            id=assembly_id, name=payload.name or assembly_id, format=payload.format,
            seats=payload.seats, created_at=datetime.now(UTC)))
    # A new assembly announces nothing else, yet changes the process.
    change.summarise = True


def _refused(change: Change, envelope: Envelope) -> bool:
    """True (with the refusal on record) when the draw is not the assembly's published run's,
    or was applied already."""
    reason = published_draw.admit(change.conn, m.published_draws, envelope)
    if reason is None:
        return False
    published_draw.refuse(change.conn, envelope, reason)
    change.changes_nothing = True
    return True


@handlers.handles("lottery_published")
def lottery_published(change: Change, envelope: Envelope) -> None:
    if _refused(change, envelope):
        return
    change.detail.update(run_id=envelope.lottery_published.run_id)


@handlers.handles("panel_drawn")
def panel_drawn(change: Change, envelope: Envelope) -> None:
    if _refused(change, envelope):
        return
    payload = events.payload_of(envelope)
    seats.seat_panel(change.conn, envelope.assembly_id,
                     _drawn(payload.member_ids, payload.members),
                     [{"feature": q.feature, "value": q.value, "min": q.min, "max": q.max}
                      for q in payload.quotas])
    # A seated panel announces nothing else, yet changes the process.
    change.summarise = True


@handlers.handles("substitutes_drawn")
def substitutes_drawn(change: Change, envelope: Envelope) -> None:
    if _refused(change, envelope):
        return
    payload = events.payload_of(envelope)
    assembly_id = envelope.assembly_id
    seats.list_substitutes(change.conn, assembly_id,
                           _drawn(payload.substitute_ids, payload.substitutes))
    if queries.assembly_exists(change.conn, assembly_id):
        change.announced = seats.fill_open_vacancies(change.conn, assembly_id)


@handlers.handles("seat_answered")
def seat_answered(change: Change, envelope: Envelope) -> None:
    payload = events.payload_of(envelope)
    reason = "declined the seat" + (f" ({payload.reason})" if payload.reason else "")
    try:
        with change.conn.begin_nested():
            change.announced = seats.answer_offer(change.conn, change.ctx, envelope.assembly_id,
                                                  payload.registrant_id, payload.answer, reason)
    except ApiError as exc:
        # Answered already (a facilitator recorded it first), or nothing to answer:
        # the event is claimed and changes nothing; retrying could never apply it.
        log.info("seat answer not applied", extra={
            "event_id": envelope.event_id, "member_id": payload.registrant_id,
            "field": exc.field, "reason": exc.reason})
        change.changes_nothing = True
        return
    change.detail.update(member_id=payload.registrant_id, answer=payload.answer)


GROUPS = (handlers,)
