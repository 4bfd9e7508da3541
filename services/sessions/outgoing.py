"""The sessions service's events, through the transactional outbox.

An event is written in the transaction of the change it announces (``enqueue``), so a
rolled-back change announces nothing and a committed one is never lost to a crash or a
broker outage; ``publish`` after the commit sends it at once when the broker is there, and
the outbox relay of the service process sends it later when it is not.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.engine import Connection

from services.common import events, outbox
from services.common.service import ServiceContext
from services.contracts.kleroterion.v1 import sessions_events_pb2 as pb
from services.sessions import summary
from services.sessions.settings import settings_of

PRODUCER = "sessions"


def enqueue(conn: Connection, ctx: ServiceContext, assembly_id: str, payloads: Iterable[Any],
            *, summarise: bool = False) -> int:
    """Every change announced here (or ``summarise``) also gets a process_summarised,
    computed in the same transaction, so the evaluation's newest snapshot matches the
    newest change, and takes along what changed without an event of its own (the
    programme, attendance)."""
    announced = list(payloads)
    if summarise or any(not isinstance(p, pb.ProcessSummarised) for p in announced):
        announced.append(summary.process_summarised(conn, assembly_id,
                                                    settings_of(ctx).timezone))
    envelopes = [events.new_event(p, assembly_id=assembly_id, region=ctx.settings.region,
                                  producer=PRODUCER) for p in announced]
    # Snapshots keyed by assembly share a partition, so a consumer sees them in order.
    keys: list[str | None] = [assembly_id if isinstance(p, pb.ProcessSummarised) else None
                              for p in announced]
    return outbox.enqueue_many(conn, envelopes, keys=keys)


def publish(ctx: ServiceContext) -> None:
    """After the commit: never fails the request (the change is already made)."""
    ctx.outbox.try_publish()
