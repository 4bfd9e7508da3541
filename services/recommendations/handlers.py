"""Events in: who is seated (sortition's ``panel_drawn``, the sessions' ``seat_filled`` and
``member_withdrew``), the assembly's name, the sessions held, and the aggregates the
evaluation reports are made of (``funnel_counted``, ``distribution_computed``,
``process_summarised``). Each is applied once per event id, in one transaction with the
claim; the consumer group's name is a setting (``consumer_group``)."""
from __future__ import annotations

from datetime import UTC

import sqlalchemy as sa

from services.common import published_draw, storage
from services.common.handlers import EventHandlers
from services.common.service import ServiceContext
from services.contracts.kleroterion.v1.envelope_pb2 import Envelope
from services.recommendations import assemblies, evaluation, models
from services.recommendations.settings import settings_of

handlers: EventHandlers[ServiceContext] = EventHandlers("recommendations")
GROUPS = (handlers,)


def _claim(conn: sa.Connection, ctx: ServiceContext, envelope: Envelope) -> bool:
    """Claim the event for the service's group and make sure its assembly is known; False
    when it was applied before."""
    settings = settings_of(ctx)
    if not storage.apply_once(conn, settings.consumer_group, envelope.event_id):
        return False
    assemblies.ensure_assembly(conn, settings, envelope.assembly_id)
    return True


@handlers.handles("assembly_created")
def assembly_created(ctx: ServiceContext, envelope: Envelope) -> None:
    with ctx.engine.begin() as conn:
        if _claim(conn, ctx, envelope):
            assemblies.rename(conn, envelope.assembly_id, envelope.assembly_created.name)


def _admitted(conn: sa.Connection, envelope: Envelope) -> bool:
    """Only the assembly's published run is applied, once; a refusal is kept on record."""
    reason = published_draw.admit(conn, models.published_draws, envelope)
    if reason is not None:
        published_draw.refuse(conn, envelope, reason)
    return reason is None


@handlers.handles("lottery_published")
def lottery_published(ctx: ServiceContext, envelope: Envelope) -> None:
    with ctx.engine.begin() as conn:
        if _claim(conn, ctx, envelope):
            _admitted(conn, envelope)


@handlers.handles("panel_drawn")
def panel_drawn(ctx: ServiceContext, envelope: Envelope) -> None:
    with ctx.engine.begin() as conn:
        if _claim(conn, ctx, envelope) and _admitted(conn, envelope):
            for member_id in envelope.panel_drawn.member_ids:
                assemblies.seat(conn, envelope.assembly_id, member_id, True)


@handlers.handles("seat_filled")
def seat_filled(ctx: ServiceContext, envelope: Envelope) -> None:
    payload = envelope.seat_filled
    with ctx.engine.begin() as conn:
        if _claim(conn, ctx, envelope):
            if payload.vacated_by:
                assemblies.seat(conn, envelope.assembly_id, payload.vacated_by, False)
            assemblies.seat(conn, envelope.assembly_id, payload.substitute_id, True)


@handlers.handles("member_withdrew")
def member_withdrew(ctx: ServiceContext, envelope: Envelope) -> None:
    with ctx.engine.begin() as conn:
        if _claim(conn, ctx, envelope):
            assemblies.seat(conn, envelope.assembly_id, envelope.member_withdrew.member_id, False)


@handlers.handles("session_held")
def session_held(ctx: ServiceContext, envelope: Envelope) -> None:
    payload = envelope.session_held
    with ctx.engine.begin() as conn:
        if _claim(conn, ctx, envelope):
            assemblies.session_held(conn, envelope.assembly_id, payload.session_id,
                                    hours=payload.hours, present=payload.present,
                                    seated=payload.seated,
                                    held_at=envelope.occurred_at.ToDatetime(tzinfo=UTC))


def _keep_fact(ctx: ServiceContext, envelope: Envelope) -> None:
    """Keep the evaluation fact an aggregate event carries (the newest of its kind)."""
    with ctx.engine.begin() as conn:
        if _claim(conn, ctx, envelope):
            kind = envelope.event_type
            fact, data = evaluation.fact_from_event(kind, getattr(envelope, kind))
            evaluation.store_fact(conn, envelope.assembly_id, fact, data,
                                  envelope.occurred_at.ToDatetime(tzinfo=UTC))


@handlers.handles("funnel_counted")
def funnel_counted(ctx: ServiceContext, envelope: Envelope) -> None:
    _keep_fact(ctx, envelope)


@handlers.handles("distribution_computed")
def distribution_computed(ctx: ServiceContext, envelope: Envelope) -> None:
    _keep_fact(ctx, envelope)


@handlers.handles("process_summarised")
def process_summarised(ctx: ServiceContext, envelope: Envelope) -> None:
    _keep_fact(ctx, envelope)
