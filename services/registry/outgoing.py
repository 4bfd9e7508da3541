"""The registry's events, through the transactional outbox.

Each function writes its events in the caller's transaction, the one of the change they
announce: a rolled-back change announces nothing, and a committed one is never lost to a
crash or a broker outage. ``publish`` after the commit sends them at once when the broker
is there; the outbox relay of the service process sends them later when it is not.
"""
from __future__ import annotations

import json
import os
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from services.common import events, outbox
from services.common.service import ServiceContext
from services.contracts.kleroterion.v1.envelope_pb2 import Envelope
from services.contracts.kleroterion.v1.registry_events_pb2 import (
    FunnelCount,
    FunnelCounted,
    InvitationDelivered,
    InvitationRequested,
    PoolExported,
    SeatAnswered,
    SignupReceived,
)
from services.registry import models, pool

PRODUCER = "registry"
# The built-in template of the notice telling a registrant they were drawn (dispatch.py
# holds its text): no operator approves it, it is the same for every assembly.
SELECTED_TEMPLATE = "builtin:selected"
# The extract's features under the names of the pool export's columns (and so of the quotas).
EXTRACT_FEATURES = ("municipality_code", "age_band", "sex")


def event_ids(count: int) -> list[str]:
    """``count`` random (version 4) event ids from one read of the OS's randomness.
    ``uuid.uuid4()`` reads it once per id, releasing the GIL each time; beside a busy
    consumer thread every such release waits for the GIL again, which made publishing a
    rollout (100,000 events) spend most of its time waiting."""
    raw = os.urandom(16 * count)
    return [str(uuid.UUID(bytes=raw[n:n + 16], version=4)) for n in range(0, 16 * count, 16)]


def publish(ctx: ServiceContext) -> None:
    """After the commit: publish what the change enqueued, soon, without making the
    request wait for the broker."""
    ctx.outbox.publish_soon()


def invitations_requested(conn: Connection, region: str, *, assembly_id: str, rollout_id: str,
                          template_id: str, invitation_ids: Sequence[str]) -> None:
    """One ``invitation_requested`` per invitation of a rollout being sent, keyed by the
    invitation so that a person's events keep their order."""
    stamp = datetime.now(UTC)
    for start in range(0, len(invitation_ids), 10_000):
        chunk = invitation_ids[start:start + 10_000]
        outbox.enqueue_many(conn, [events.new_event(
            InvitationRequested(invitation_id=invitation_id, rollout_id=rollout_id,
                                template_id=template_id, purpose="invitation"),
            assembly_id=assembly_id, region=region, producer=PRODUCER,
            correlation_id=rollout_id, event_id=event_id, occurred_at=stamp)
            for invitation_id, event_id in zip(chunk, event_ids(len(chunk)), strict=True)],
            keys=chunk)


def selection_notices(conn: Connection, region: str, *, assembly_id: str, correlation_id: str,
                      invitation_ids: Sequence[str]) -> None:
    """Ask the channel worker to tell each newly selected registrant (through the channel
    of their invitation) that they hold a seat."""
    outbox.enqueue_many(conn, [events.new_event(
        InvitationRequested(invitation_id=invitation_id, template_id=SELECTED_TEMPLATE,
                            purpose="selected"),
        assembly_id=assembly_id, region=region, producer=PRODUCER,
        correlation_id=correlation_id)
        for invitation_id in invitation_ids], keys=list(invitation_ids))


def invitation_delivered(request: Envelope, region: str, *, invitation_id: str, state: str,
                         channel: str | None, attempts: int, detail: str,
                         event_id: str | None = None) -> Envelope:
    """The outcome of one ``invitation_requested`` (``request``) at the channels."""
    return events.new_event(
        InvitationDelivered(invitation_id=invitation_id, channel=channel or "", status=state,
                            attempt=attempts, detail=detail),
        assembly_id=request.assembly_id, region=region, producer=PRODUCER,
        correlation_id=request.event_id, event_id=event_id)


def signup_received(conn: Connection, region: str, *, assembly_id: str, registrant_id: str,
                    features: Mapping[str, str], municipality_code: int) -> None:
    """A registrant joined the pool (features only: no personal data travels)."""
    outbox.enqueue(conn, events.new_event(
        SignupReceived(registrant_id=registrant_id, features=dict(features),
                       municipality_code=str(municipality_code)),
        assembly_id=assembly_id, region=region, producer=PRODUCER))


def seat_answered(conn: Connection, region: str, *, assembly_id: str, registrant_id: str,
                  answer: str, reason: str) -> None:
    """A drawn registrant confirmed or declined their seat; only a decline has a reason."""
    outbox.enqueue(conn, events.new_event(
        SeatAnswered(registrant_id=registrant_id, answer=answer,
                     reason=reason if answer == "declined" else ""),
        assembly_id=assembly_id, region=region, producer=PRODUCER), key=registrant_id)


def pool_exported(conn: Connection, region: str, *, assembly_id: str, version: str,
                  count: int, digest: str) -> None:
    """The pool was exported for sortition, and the funnel behind it: counted in the
    export's transaction, so the funnel is the one behind this pool."""
    outbox.enqueue(conn, events.new_event(
        PoolExported(pool_version=version, registrant_count=count, sha256=digest),
        assembly_id=assembly_id, region=region, producer=PRODUCER))
    outbox.enqueue(conn, funnel_counted(conn, region, assembly_id, version))


def funnel_counted(conn: Connection, region: str, assembly_id: str, version: str) -> Envelope:
    """Population, invited and signed up per feature value, with the pool export they belong
    with: the evaluation sets them beside the draw's quotas, so features are named as the
    export's columns. Counts only."""
    p = models.persons
    funnel: dict[tuple[str, str], list[int]] = {}
    for feature in EXTRACT_FEATURES:
        column = p.c[feature]
        for value, n in conn.execute(sa.select(column, sa.func.count())
                                     .where(p.c.assembly_id == assembly_id).group_by(column)):
            funnel[(feature, str(value))] = [n, 0, 0]
    stats = pool.statistics(conn, assembly_id)
    for m in stats["municipalities"]:
        funnel.setdefault(("municipality_code", str(m["code"])), [0, 0, 0])[1:] = (
            m["invited"], m["signed_up"])
    for feature, values in stats["features"].items():
        for value, d in values.items():
            # Answers to the assembly's own questions keep population 0: the extract
            # does not hold them.
            funnel.setdefault((feature, value), [0, 0, 0])[1:] = d["invited"], d["signed_up"]
    questions = json.loads(conn.execute(sa.select(models.assemblies.c.questions)
                                        .where(models.assemblies.c.id == assembly_id))
                           .scalar_one())
    for q in questions:
        # An option nobody chose is still a quota category: its zeros are a finding.
        for option in q.get("options", []):
            funnel.setdefault((q["id"], str(option["value"])), [0, 0, 0])
    order = {f: n for n, f in enumerate([*EXTRACT_FEATURES, *(q["id"] for q in questions)])}
    population = conn.scalar(sa.select(sa.func.count()).select_from(p)
                             .where(p.c.assembly_id == assembly_id)) or 0
    return events.new_event(FunnelCounted(
        population_total=population, invited_total=stats["total"]["invited"],
        signed_up_total=stats["total"]["signed_up"], pool_version=version,
        counts=[FunnelCount(feature=f, value=v, population=n[0], invited=n[1], signed_up=n[2])
                for (f, v), n in sorted(funnel.items(),
                                        key=lambda kv: (order.get(kv[0][0], len(order)), kv[0]))]),
        assembly_id=assembly_id, region=region, producer=PRODUCER)
