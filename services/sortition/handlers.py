"""Events in: sessions' ``replacement_requested`` (no substitute on the list keeps the quotas)
is answered with a top-up draw and its ``substitutes_drawn`` (see ``topup``)."""
from __future__ import annotations

from services.common.handlers import EventHandlers
from services.contracts.kleroterion.v1.envelope_pb2 import Envelope
from services.sortition import topup
from services.sortition.topup import TopUps

handlers: EventHandlers[TopUps] = EventHandlers("sortition")


@handlers.handles("replacement_requested")
def replacement_requested(ctx: TopUps, envelope: Envelope) -> None:
    topup.draw_top_up(ctx, envelope, group=handlers.group)


GROUPS = (handlers,)
