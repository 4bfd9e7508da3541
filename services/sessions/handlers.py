"""Events in: the platform's ``assembly_created``, sortition's ``panel_drawn`` and
``substitutes_drawn`` (which carry the members' stratification features and the quotas) and
the registry's ``seat_answered`` (a member's own answer to their seat offer), each applied
once per event id, with the events its change causes enqueued in the same transaction."""
from __future__ import annotations

import logging
from datetime import UTC, datetime

from services.common import audit, events, storage
from services.common.service import ServiceContext
from services.common.web import ApiError
from services.sessions import models as m
from services.sessions import outgoing, queries, seats

log = logging.getLogger(__name__)
CONSUMER_GROUP = "sessions"
CONSUMED = ("assembly_created", "panel_drawn", "substitutes_drawn", "seat_answered")


def _drawn(ids, people) -> list[tuple[str, dict]]:
    """(member id, features) in the draw's order; ``member_ids``/``substitute_ids`` stay the
    order of record, and an event from before features travelled gives empty features."""
    features = {p.member_id: dict(p.features) for p in people}
    order = list(ids) or [p.member_id for p in people]
    return [(member_id, features.get(member_id, {})) for member_id in order]


def handle_event(ctx: ServiceContext, envelope) -> None:
    """Apply an event from sortition, the registry or the platform, once per event id."""
    payload = events.payload_of(envelope)
    assembly_id = envelope.assembly_id
    detail = {"event_id": envelope.event_id}
    with ctx.engine.begin() as conn:
        if not storage.apply_once(conn, CONSUMER_GROUP, envelope.event_id):
            return
        out: list = []
        if envelope.event_type == "assembly_created":
            if not queries.assembly_exists(conn, assembly_id):
                conn.execute(m.assemblies.insert().values(
                    id=assembly_id, name=payload.name or assembly_id, format=payload.format,
                    seats=payload.seats, created_at=datetime.now(UTC)))
        elif envelope.event_type == "panel_drawn":
            seats.seat_panel(conn, assembly_id, _drawn(payload.member_ids, payload.members),
                             [{"feature": q.feature, "value": q.value, "min": q.min, "max": q.max}
                              for q in payload.quotas])
        elif envelope.event_type == "substitutes_drawn":
            seats.list_substitutes(conn, assembly_id,
                                   _drawn(payload.substitute_ids, payload.substitutes))
            if queries.assembly_exists(conn, assembly_id):
                out = seats.fill_open_vacancies(conn, assembly_id)
        elif envelope.event_type == "seat_answered":
            reason = "declined the seat" + (f" ({payload.reason})" if payload.reason else "")
            try:
                with conn.begin_nested():
                    out = seats.answer_offer(conn, ctx, assembly_id, payload.registrant_id,
                                             payload.answer, reason)
            except ApiError as exc:
                # Answered already (a facilitator recorded it first), or nothing to answer:
                # the event is claimed and changes nothing; retrying could never apply it.
                log.info("seat answer not applied", extra={
                    "event_id": envelope.event_id, "member_id": payload.registrant_id,
                    "field": exc.field, "reason": exc.reason})
                return
            detail.update(member_id=payload.registrant_id, answer=payload.answer)
        audit.record(conn, actor=envelope.producer or "bus", role="event",
                     action=f"event.{envelope.event_type}", target=f"assembly:{assembly_id}",
                     detail=detail)
        # A seated panel (or the seats it is to fill) announces nothing else, yet changes
        # the process.
        outgoing.enqueue(conn, ctx, assembly_id, out,
                         summarise=envelope.event_type in ("assembly_created", "panel_drawn"))
    outgoing.publish(ctx)
