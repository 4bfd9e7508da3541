"""Top-up draws on request: sessions publishes ``replacement_requested`` when no substitute
on the list keeps the quotas, and sortition answers with ``substitutes_drawn``.

The assembly's latest drawn run holds the pool and the quotas; what it cannot know is the
panel as it stands now, so the request names it (``seated_ids``, ``withdrawn_ids``). The
top-up (``substitutes.top_up_instance``) keeps the seated on every panel and leaves out who
left; the engine computes a fair distribution for the open seats, rounded to a lottery like
any run, and the lottery is drawn with the request's event id as the seed. That id is a
random UUID fixed before the lottery exists, and both are stored with the run, so anyone can
recompute the draw (``kleroterion verify``). The new run, the claim of the event and the
``substitutes_drawn`` event are written in one transaction (the event through the outbox),
so a crash or a broker outage neither loses the answer nor draws twice.
"""
from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass

from google.protobuf import json_format

from services.common import events, outbox, storage
from services.common.bus import Bus
from services.common.outbox import Outbox
from services.contracts.kleroterion.v1 import sortition_events_pb2 as ev
from services.contracts.kleroterion.v1 import sortition_pb2 as pb
from services.contracts.kleroterion.v1.envelope_pb2 import Envelope
from services.sortition import draw as drawing
from services.sortition.engine import (
    ALGORITHMS,
    InstanceError,
    check_feasibility,
    compute_distribution,
)
from services.sortition.messages import instance_from_pool, panel_members, probabilities_by_id
from services.sortition.models import RunStore
from services.sortition.settings import Settings
from services.sortition.substitutes import top_up_instance

log = logging.getLogger(__name__)

PRODUCER = "sortition"


@dataclass(frozen=True)
class TopUps:
    """What answering top-up requests needs: the settings, the run store, the outbox the
    answers go through, and the bus and applied-event record of the requests' consumer."""

    settings: Settings
    store: RunStore
    outbox: Outbox
    bus: Bus
    applied: storage.SqlAppliedEvents


def draw_top_up(ctx: TopUps, envelope: Envelope, *, group: str) -> None:
    """Answer one ``replacement_requested`` with a drawn top-up, claimed for ``group``."""
    request = envelope.replacement_requested
    assembly_id = envelope.assembly_id
    run = ctx.store.latest_drawn(assembly_id)
    published = ctx.store.published(assembly_id)
    if run is None or published is None or run.published_run_id != published.run_id:
        _skip(ctx, envelope, "no drawn run of the assembly's published lottery", group=group)
        return
    pool = json_format.Parse(run.pool_json, pb.Pool())
    instance = instance_from_pool(pool)
    known = {p.id for p in instance.people}
    seated = list(dict.fromkeys(request.seated_ids))
    unknown = [pid for pid in seated if pid not in known]
    if unknown:
        raise InstanceError("seated_ids", f"{len(unknown)} seated ids are not in the pool")
    # Earlier top-ups already left some out of their pool.
    withdrawn = [pid for pid in dict.fromkeys([*request.withdrawn_ids, request.vacated_by])
                 if pid in known and pid not in seated]
    if len(seated) >= instance.seats:
        _skip(ctx, envelope, "every seat is taken", group=group)
        return
    top = top_up_instance(instance, seated, withdrawn)
    report = check_feasibility(top, time_limit=ctx.settings.feasibility_seconds)
    if not report.feasible:
        _skip(ctx, envelope, "no panel with the seated members meets the quotas: "
              + report.summary(), group=group)
        return
    algorithm = run.algorithm if run.algorithm in ALGORITHMS else "leximin"
    distribution = compute_distribution(top, algorithm)
    pool_hash = drawing.pool_sha256(top)
    rounded = drawing.make_lottery(top, distribution, ctx.settings.lottery_size,
                                   seed=int(pool_hash[:16], 16),
                                   time_budget=ctx.settings.rounding_seconds)
    lottery = rounded.lottery
    result = drawing.draw(lottery, envelope.event_id)
    new_ids = [pid for pid in result.panel if pid not in set(seated)]
    run_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"top-up/{envelope.event_id}"))
    top_pool = pb.Pool(seats=pool.seats, quotas=pool.quotas, already_selected=seated,
                       household_rule=pool.household_rule,
                       people=[p for p in pool.people if p.id not in set(withdrawn)])
    substitutes = ev.SubstitutesDrawn(
        run_id=run_id, substitute_ids=new_ids, lottery_sha256=lottery.sha256,
        panel_index=result.panel_index, substitutes=panel_members(pool, new_ids),
        # The consumers apply a top-up only for the lottery the assembly published.
        published_run_id=published.run_id, published_lottery_sha256=published.lottery_sha256)
    envelope_out = events.new_event(
        substitutes, assembly_id=assembly_id, region=ctx.settings.region, producer=PRODUCER,
        correlation_id=envelope.event_id,
        event_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{run_id}/substitutes")))
    with ctx.store.engine.begin() as conn:
        if not storage.apply_once(conn, group, envelope.event_id):
            return
        ctx.store.add(
            conn=conn, run_id=run_id, assembly_id=assembly_id,
            algorithm=distribution.algorithm, pool_sha256=pool_hash,
            pool_json=json_format.MessageToJson(top_pool, indent=None),
            probabilities=probabilities_by_id(top, distribution),
            min_probability=distribution.stats.minimum, gini=distribution.stats.gini,
            lottery_json=lottery.data, lottery_sha256=lottery.sha256,
            lottery_size=lottery.size, max_rounding_deviation=rounded.max_deviation,
            seed=result.seed, panel_index=result.panel_index,
            panel_json=json.dumps(list(result.panel)),
            substitutes_json=json.dumps({"substitute_ids": new_ids,
                                         "top_up_for": request.vacated_by}),
            top_up_of=published.run_id)
        outbox.enqueue(conn, envelope_out)
    log.info("top-up drawn", extra={"run_id": run_id, "assembly_id": assembly_id,
                                    "new_members": len(new_ids)})
    ctx.outbox.try_publish()


def _skip(ctx: TopUps, envelope: Envelope, reason: str, *, group: str) -> None:
    # Retrying cannot change the answer; an operator sees the warning and draws by hand.
    log.warning("top-up not drawn", extra={"assembly_id": envelope.assembly_id,
                                           "event_id": envelope.event_id, "reason": reason})
    with ctx.store.engine.begin() as conn:
        storage.apply_once(conn, group, envelope.event_id)
