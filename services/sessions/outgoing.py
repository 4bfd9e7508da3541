"""The sessions service's events, through the transactional outbox.

An event is written in the transaction of the change it announces (``enqueue``), so a
rolled-back change announces nothing and a committed one is never lost to a crash or a
broker outage; ``publish`` after the commit sends it at once when the broker is there, and
the outbox relay of the service process sends it later when it is not.
"""
from __future__ import annotations

from typing import Iterable

from services.common import events, outbox
from services.common.service import ServiceContext

PRODUCER = "sessions"


def enqueue(conn, ctx: ServiceContext, assembly_id: str, payloads: Iterable) -> int:
    envelopes = [events.new_event(p, assembly_id=assembly_id, region=ctx.settings.region,
                                  producer=PRODUCER) for p in payloads]
    return outbox.enqueue_many(conn, envelopes)


def publish(ctx: ServiceContext) -> None:
    """After the commit: never fails the request (the change is already made)."""
    ctx.outbox.try_publish()
