"""One decorated handler per event type; the consumed list is derived from them."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from services.common import events
from services.common.bus import InProcessBus, MemoryAppliedEvents
from services.common.handlers import EventHandlers, UnhandledEvent
from services.contracts.kleroterion.v1.envelope_pb2 import Envelope
from services.contracts.kleroterion.v1.platform_events_pb2 import AssemblyCreated


def _event(name: str) -> Envelope:
    return events.new_event(AssemblyCreated(name=name), assembly_id="a1", region="test",
                            producer="test")


def test_consumed_types_are_the_decorated_ones_in_order() -> None:
    handlers: EventHandlers[object] = EventHandlers("g")

    @handlers.handles("panel_drawn")
    def panel_drawn(ctx: object, envelope: Envelope) -> None: ...

    @handlers.handles("assembly_created")
    def assembly_created(ctx: object, envelope: Envelope) -> None: ...

    assert handlers.consumed == ("panel_drawn", "assembly_created")
    assert handlers.handler_for("assembly_created") is assembly_created


def test_unknown_type_and_a_second_handler_are_refused() -> None:
    handlers: EventHandlers[object] = EventHandlers("g")
    with pytest.raises(Exception, match="no_such_event"):
        handlers.handles("no_such_event")

    @handlers.handles("panel_drawn")
    def first(ctx: object, envelope: Envelope) -> None: ...

    with pytest.raises(ValueError, match="already has a handler"):
        handlers.handles("panel_drawn")(first)
    with pytest.raises(UnhandledEvent, match="assembly_created"):
        handlers.handle(None, _event("x"))


def test_consumer_delivers_each_type_to_its_handler_inside_around() -> None:
    seen: list[tuple[str, str]] = []

    def around(ctx: object, envelope: Envelope, handler) -> None:  # type: ignore[no-untyped-def]
        seen.append(("around", envelope.event_type))
        handler(ctx, envelope)

    handlers: EventHandlers[SimpleNamespace] = EventHandlers("g", around=around)

    @handlers.handles("assembly_created")
    def assembly_created(ctx: SimpleNamespace, envelope: Envelope) -> None:
        seen.append(("handled", events.payload_of(envelope).name))

    bus = InProcessBus()
    ctx = SimpleNamespace(bus=bus, applied=MemoryAppliedEvents())
    consumer = handlers.consumer(ctx)
    assert consumer.event_types == ("assembly_created",)
    bus.publish(_event("Borgersamling"))
    consumer.poll_once()
    assert seen == [("around", "assembly_created"), ("handled", "Borgersamling")]


def test_batch_handler_takes_a_batch_and_failed_batches_fall_back_to_single_events() -> None:
    batches: list[int] = []
    singles: list[str] = []
    handlers: EventHandlers[SimpleNamespace] = EventHandlers("g")

    @handlers.handles("assembly_created")
    def one(ctx: SimpleNamespace, envelope: Envelope) -> None:
        singles.append(events.payload_of(envelope).name)

    @handlers.handles_batch
    def many(ctx: SimpleNamespace, envelopes: list[Envelope]) -> None:
        batches.append(len(envelopes))
        if ctx.fail:
            raise RuntimeError("poison somewhere")

    bus = InProcessBus(partitions=1)
    ctx = SimpleNamespace(bus=bus, applied=MemoryAppliedEvents(), fail=False)
    consumer = handlers.consumer(ctx, group="other")
    assert consumer.group == "other"
    for name in ("a", "b", "c"):
        bus.publish(_event(name))
    consumer.poll_once()
    assert batches == [3] and singles == []
    ctx.fail = True
    for name in ("d", "e"):
        bus.publish(_event(name))
    consumer.poll_once()
    assert batches == [3, 2] and singles == ["d", "e"]
