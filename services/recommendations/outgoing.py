"""Events out: ``recommendation_adopted``, ``answer_recorded`` and
``implementation_updated``, enqueued in the shared outbox inside the transaction of the
change they announce and published after the commit, so an event is never lost between the
commit and the bus (the relay publishes what a crash or a broker outage left)."""
from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from google.protobuf.message import Message

from services.common import events, outbox
from services.common.service import ServiceContext
from services.contracts.kleroterion.v1.recommendations_events_pb2 import (
    AnswerRecorded,
    ImplementationUpdated,
    RecommendationAdopted,
)

PUBLISHED = ("recommendation_adopted", "answer_recorded", "implementation_updated")


def enqueue(conn: sa.Connection, ctx: ServiceContext, payload: Message, assembly_id: str
            ) -> None:
    """Write an event to the shared outbox inside the caller's transaction."""
    outbox.enqueue(conn, events.new_event(payload, assembly_id=assembly_id,
                                          region=ctx.settings.region,
                                          producer="recommendations"))


def publish(ctx: ServiceContext) -> None:
    """After the commit: a broker outage must not fail a change that is already committed."""
    ctx.outbox.try_publish()


def recommendation_adopted(conn: sa.Connection, ctx: ServiceContext, *, assembly_id: str,
                           recommendation_id: str, title: str, result: dict[str, Any],
                           threshold: float, round_id: str, round_number: int, version: int
                           ) -> None:
    enqueue(conn, ctx, RecommendationAdopted(
        recommendation_id=recommendation_id, title=title, support_share=result["support_share"],
        threshold=threshold, round_id=round_id, round_number=round_number, version=version,
        votes=result["votes"], abstentions=result["abstentions"]), assembly_id)


def answer_recorded(conn: sa.Connection, ctx: ServiceContext, *, assembly_id: str,
                    recommendation_id: str, answer: str, answered_by: str, answered_on: date
                    ) -> None:
    enqueue(conn, ctx, AnswerRecorded(
        recommendation_id=recommendation_id, answer=answer, answered_by=answered_by,
        answered_on=answered_on.isoformat()), assembly_id)


def implementation_updated(conn: sa.Connection, ctx: ServiceContext, *, assembly_id: str,
                           recommendation_id: str, status: str, percent: int | None,
                           responsible_committee: str | None) -> None:
    # The event has no null: -1 says no percentage was given.
    enqueue(conn, ctx, ImplementationUpdated(
        recommendation_id=recommendation_id, status=status,
        percent=-1 if percent is None else percent,
        responsible_committee=responsible_committee or ""), assembly_id)
