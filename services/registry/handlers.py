"""Events in: two consumer groups.

- ``registry.channels``, the channel worker: ``invitation_requested`` (a rollout sent, or a
  registrant drawn) becomes a letter, a post or a text (``dispatch.py``), one event at a
  time or a polled batch at once.
- ``registry.selection``, who holds a seat: sortition's draw makes members ``selected``
  (and tells them, through their channel) and substitutes ``substitute``; sessions'
  ``seat_offered`` makes the offered substitute ``selected`` (and tells them the same way),
  and its ``member_responded`` (a facilitator recorded the answer) makes them ``confirmed``
  or ``declined``.
"""
from __future__ import annotations

from services.common import published_draw, storage
from services.common.handlers import EventHandlers
from services.contracts.kleroterion.v1.envelope_pb2 import Envelope
from services.registry import dispatch, models, outgoing, pool
from services.registry.context import RegistryContext

channels: EventHandlers[RegistryContext] = EventHandlers(dispatch.GROUP)
selection: EventHandlers[RegistryContext] = EventHandlers("registry.selection")


@channels.handles("invitation_requested")
def invitation_requested(ctx: RegistryContext, envelope: Envelope) -> None:
    ctx.dispatcher.send(envelope)


@channels.handles_batch
def invitations_requested(ctx: RegistryContext, envelopes: list[Envelope]) -> None:
    ctx.dispatcher.send_batch(envelopes)


@selection.handles("lottery_published")
def lottery_published(ctx: RegistryContext, envelope: Envelope) -> None:
    with ctx.engine.begin() as conn:
        if not storage.apply_once(conn, selection.group, envelope.event_id):
            return
        refused = published_draw.admit(conn, models.published_draws, envelope)
        if refused is not None:
            published_draw.refuse(conn, envelope, refused)


@selection.handles("panel_drawn")
def panel_drawn(ctx: RegistryContext, envelope: Envelope) -> None:
    _seat(ctx, envelope, list(envelope.panel_drawn.member_ids), "selected", draw=True)


@selection.handles("substitutes_drawn")
def substitutes_drawn(ctx: RegistryContext, envelope: Envelope) -> None:
    _seat(ctx, envelope, list(envelope.substitutes_drawn.substitute_ids), "substitute",
          draw=True)


@selection.handles("seat_offered")
def seat_offered(ctx: RegistryContext, envelope: Envelope) -> None:
    # The answer (a facilitator's, on another topic) may have overtaken the offer.
    _seat(ctx, envelope, [envelope.seat_offered.substitute_id], "selected", answers_stand=True)


@selection.handles("member_responded")
def member_responded(ctx: RegistryContext, envelope: Envelope) -> None:
    with ctx.engine.begin() as conn:
        if not storage.apply_once(conn, selection.group, envelope.event_id):
            return
        pool.record_answer(conn, envelope.assembly_id, envelope.member_responded.member_id,
                           envelope.member_responded.answer, envelope.event_id)


def _seat(ctx: RegistryContext, envelope: Envelope, registrant_ids: list[str], target: str,
          *, answers_stand: bool = False, draw: bool = False) -> None:
    with ctx.engine.begin() as conn:
        if not storage.apply_once(conn, selection.group, envelope.event_id):
            return
        # Only the assembly's published run seats anyone, once.
        refused = (published_draw.admit(conn, models.published_draws, envelope) if draw
                   else None)
        if refused is not None:
            published_draw.refuse(conn, envelope, refused)
            return
        notify = pool.seat(conn, envelope.assembly_id, registrant_ids, target,
                           answers_stand=answers_stand)
        # With the state change and the event's claim: a crash after this commit still
        # tells every selected member. The delivery rows (one per person and purpose)
        # keep it to one notice per person and assembly.
        outgoing.selection_notices(conn, ctx.settings.region, assembly_id=envelope.assembly_id,
                                   correlation_id=envelope.event_id, invitation_ids=notify)
    outgoing.publish(ctx)


GROUPS = (channels, selection)
