"""Building, naming and routing events.

An event is an ``Envelope`` (proto/kleroterion/v1/envelope.proto) whose ``payload`` oneof
holds one typed message. The payload's field name is the event type and decides the topic,
so a producer never chooses topic names by hand.
"""
from __future__ import annotations

import uuid
from datetime import UTC, datetime

from google.protobuf.message import DecodeError, Message

from services.contracts.kleroterion.v1.envelope_pb2 import Envelope

SCHEMA_VERSION = 1

_PAYLOAD = Envelope.DESCRIPTOR.oneofs_by_name["payload"]
# event type -> the service whose block of field numbers it sits in.
_OWNER_BY_BLOCK = {1: "registry", 2: "sortition", 3: "sessions", 4: "recommendations",
                   9: "platform"}
EVENT_TYPES: dict[str, str] = {f.name: _OWNER_BY_BLOCK[f.number // 100] for f in _PAYLOAD.fields}
_FIELD_BY_MESSAGE = {f.message_type.full_name: f.name for f in _PAYLOAD.fields}


class EventError(ValueError):
    """An event that cannot be built or read; ``field`` names the offending part."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def topic_for(event_type: str, prefix: str = "kleroterion") -> str:
    """The one topic naming rule: ``<prefix>.<owning service>.<event type>``."""
    try:
        owner = EVENT_TYPES[event_type]
    except KeyError:
        raise EventError("event_type", f"unknown event type {event_type!r}") from None
    return f"{prefix}.{owner}.{event_type}"


def dead_letter_topic(group: str, prefix: str = "kleroterion") -> str:
    """One dead-letter topic per consumer group, so each team sees only its own poison."""
    return f"{prefix}.dead-letter.{group}"


def new_event(payload: Message, *, assembly_id: str, region: str, producer: str,
              correlation_id: str = "", event_id: str | None = None,
              occurred_at: datetime | None = None) -> Envelope:
    """Wrap a typed payload in an envelope with a fresh event id and the current time."""
    event_type = _FIELD_BY_MESSAGE.get(payload.DESCRIPTOR.full_name)
    if event_type is None:
        raise EventError("payload", f"{payload.DESCRIPTOR.full_name} is not an event payload")
    if not assembly_id:
        raise EventError("assembly_id", "is required")
    envelope = Envelope(
        event_id=event_id or str(uuid.uuid4()),
        event_type=event_type,
        assembly_id=assembly_id,
        region=region,
        schema_version=SCHEMA_VERSION,
        producer=producer,
        correlation_id=correlation_id,
    )
    envelope.occurred_at.FromDatetime(occurred_at or datetime.now(UTC))
    getattr(envelope, event_type).CopyFrom(payload)
    return envelope


def payload_of(envelope: Envelope) -> Message:
    which = envelope.WhichOneof("payload")
    if which is None:
        raise EventError("payload", "envelope carries no payload")
    payload: Message = getattr(envelope, which)
    return payload


def encode(envelope: Envelope) -> bytes:
    data: bytes = envelope.SerializeToString()
    return data


def decode(data: bytes) -> Envelope:
    """Parse and check an envelope; a message that fails here is poison."""
    envelope = Envelope()
    try:
        envelope.ParseFromString(data)
    except DecodeError as exc:
        raise EventError("envelope", f"not a protobuf Envelope ({exc})") from None
    if not envelope.event_id:
        raise EventError("event_id", "is missing")
    which = envelope.WhichOneof("payload")
    if which is None:
        raise EventError("payload", "is missing or of a type this service does not know")
    if envelope.event_type != which:
        raise EventError("event_type", f"says {envelope.event_type!r} but the payload is {which!r}")
    return envelope
