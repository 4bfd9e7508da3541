"""Events in, the same way in every service: one decorated function per event type.

Like nameko's ``@event_handler``: a service's ``handlers.py`` makes one ``EventHandlers`` per
consumer group and decorates one function per event type it applies. The list of consumed
types is derived from the decorations, so it can never drift from the code that handles
them::

    handlers = EventHandlers("sessions")

    @handlers.handles("panel_drawn")
    def panel_drawn(ctx: ServiceContext, envelope: Envelope) -> None:
        ...

    consumer = handlers.consumer(ctx)          # subscribes to handlers.consumed

A group may also take a polled batch at once (``@handlers.handles_batch``): one transaction
for many events; when the batch handler fails, the bus falls back to the per-type handlers
one event at a time to find the poison event. ``around`` wraps every per-event call, for a
service that claims the event and writes its audit line in one place for all of its types.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, Protocol, TypeVar

from services.common import events
from services.common.bus import Bus, Consumer
from services.contracts.kleroterion.v1.envelope_pb2 import Envelope


class WithBus(Protocol):
    """A context a consumer can be made from: it has the service's bus (and, optionally,
    ``applied``, the service's applied-events memory)."""

    @property
    def bus(self) -> Bus: ...


# Every consumer group runs with its service's context, which reaches the bus.
Ctx = TypeVar("Ctx", bound=WithBus)
EventHandler = Callable[[Any, Envelope], None]
BatchEventHandler = Callable[[Any, list[Envelope]], None]
# around(ctx, envelope, handler) calls handler(ctx, envelope) inside whatever it sets up.
Around = Callable[[Any, Envelope, EventHandler], None]
H = TypeVar("H", bound=EventHandler)
B = TypeVar("B", bound=BatchEventHandler)


class UnhandledEvent(LookupError):
    """An event reached a group that has no handler for its type (a routing mistake)."""


class EventHandlers(Generic[Ctx]):
    """The handlers of one consumer group, keyed by event type."""

    def __init__(self, group: str, *, around: Around | None = None) -> None:
        self.group = group
        self.around = around
        self._by_type: dict[str, EventHandler] = {}
        self._batch: BatchEventHandler | None = None

    def handles(self, event_type: str) -> Callable[[H], H]:
        """Register the decorated function as the handler of ``event_type``."""
        events.topic_for(event_type)  # an unknown type fails at import, not at the first poll

        def register(fn: H) -> H:
            if event_type in self._by_type:
                raise ValueError(f"event_type: {event_type!r} already has a handler in group "
                                 f"{self.group!r} ({self._by_type[event_type].__qualname__})")
            self._by_type[event_type] = fn
            return fn

        return register

    def handles_batch(self, fn: B) -> B:
        """Register the decorated function for polled batches of more than one event."""
        if self._batch is not None:
            raise ValueError(f"batch handler: group {self.group!r} has one already")
        self._batch = fn
        return fn

    @property
    def consumed(self) -> tuple[str, ...]:
        """The event types this group subscribes to, in the order they were registered."""
        return tuple(self._by_type)

    def handler_for(self, event_type: str) -> EventHandler:
        try:
            return self._by_type[event_type]
        except KeyError:
            raise UnhandledEvent(f"event_type: group {self.group!r} does not handle "
                                 f"{event_type!r}") from None

    def handle(self, ctx: Ctx, envelope: Envelope) -> None:
        """Apply one event with its type's handler (inside ``around`` when given)."""
        handler = self.handler_for(envelope.event_type)
        if self.around is None:
            handler(ctx, envelope)
        else:
            self.around(ctx, envelope, handler)

    def handle_batch(self, ctx: Ctx, envelopes: Sequence[Envelope]) -> None:
        if self._batch is None:
            for envelope in envelopes:
                self.handle(ctx, envelope)
        else:
            self._batch(ctx, list(envelopes))

    def consumer(self, ctx: Ctx, *, group: str | None = None) -> Consumer:
        """A member of this group on the service's bus, remembering applied events in the
        service's database. ``group`` overrides the group name (a setting in some services)."""
        bus = ctx.bus
        applied = getattr(ctx, "applied", None)
        name = group or self.group
        batch = None if self._batch is None else (
            lambda envelopes: self.handle_batch(ctx, envelopes))
        consumer: Consumer = bus.consumer(name, list(self.consumed),
                                          lambda envelope: self.handle(ctx, envelope),
                                          applied=applied, batch_handler=batch)
        return consumer
