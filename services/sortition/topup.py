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

from google.protobuf import json_format

from services.common import events, outbox, storage
from services.common.bus import Bus
from services.common.outbox import Outbox
from services.contracts.kleroterion.v1 import sortition_events_pb2 as ev
from services.contracts.kleroterion.v1 import sortition_pb2 as pb
from services.sortition import draw as drawing
from services.sortition.engine.distribution import ALGORITHMS, compute_distribution
from services.sortition.engine.feasibility import check_feasibility
from services.sortition.engine.model import InstanceError
from services.sortition.models import RunStore
from services.sortition.settings import Settings
from services.sortition.substitutes import top_up_instance

log = logging.getLogger(__name__)

CONSUMER_GROUP = "sortition"
CONSUMED = ("replacement_requested",)
PRODUCER = "sortition"


class TopUp:
    def __init__(self, settings: Settings, store: RunStore, box: Outbox):
        self.settings = settings
        self.store = store
        self.outbox = box

    def consumer(self, bus: Bus):
        return bus.consumer(CONSUMER_GROUP, list(CONSUMED), self.handle,
                            applied=storage.SqlAppliedEvents(self.store.engine))

    def handle(self, envelope) -> None:
        from services.sortition.server import instance_from_pool, panel_members

        request = envelope.replacement_requested
        assembly_id = envelope.assembly_id
        run = self.store.latest_drawn(assembly_id)
        if run is None:
            return self._skip(envelope, "no drawn run for the assembly")
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
            return self._skip(envelope, "every seat is taken")
        top = top_up_instance(instance, seated, withdrawn)
        report = check_feasibility(top, time_limit=self.settings.feasibility_seconds)
        if not report.feasible:
            return self._skip(envelope, "no panel with the seated members meets the quotas: "
                                        + report.summary())
        algorithm = run.algorithm if run.algorithm in ALGORITHMS else "leximin"
        distribution = compute_distribution(top, algorithm)
        pool_hash = drawing.pool_sha256(top)
        rounded = drawing.make_lottery(top, distribution, self.settings.lottery_size,
                                       seed=int(pool_hash[:16], 16),
                                       time_budget=self.settings.rounding_seconds)
        lottery = rounded.lottery
        result = drawing.draw(lottery, envelope.event_id)
        new_ids = [pid for pid in result.panel if pid not in set(seated)]
        run_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"top-up/{envelope.event_id}"))
        top_pool = pb.Pool(seats=pool.seats, quotas=pool.quotas, already_selected=seated,
                           household_rule=pool.household_rule,
                           people=[p for p in pool.people if p.id not in set(withdrawn)])
        ids = [p.id for p in top.people]
        substitutes = ev.SubstitutesDrawn(
            run_id=run_id, substitute_ids=new_ids, lottery_sha256=lottery.sha256,
            panel_index=result.panel_index, substitutes=panel_members(pool, new_ids))
        envelope_out = events.new_event(
            substitutes, assembly_id=assembly_id, region=self.settings.region, producer=PRODUCER,
            correlation_id=envelope.event_id,
            event_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{run_id}/substitutes")))
        with self.store.engine.begin() as conn:
            if not storage.apply_once(conn, CONSUMER_GROUP, envelope.event_id):
                return
            self.store.add(
                conn=conn, run_id=run_id, assembly_id=assembly_id,
                algorithm=distribution.algorithm, pool_sha256=pool_hash,
                pool_json=json_format.MessageToJson(top_pool, indent=None),
                probabilities={pid: float(p) for pid, p in zip(ids, distribution.probabilities)},
                min_probability=distribution.stats.minimum, gini=distribution.stats.gini,
                lottery_json=lottery.data, lottery_sha256=lottery.sha256,
                lottery_size=lottery.size, max_rounding_deviation=rounded.max_deviation,
                seed=result.seed, panel_index=result.panel_index,
                panel_json=json.dumps(list(result.panel)),
                substitutes_json=json.dumps({"substitute_ids": new_ids,
                                             "top_up_for": request.vacated_by}))
            outbox.enqueue(conn, envelope_out)
        log.info("top-up drawn", extra={"run_id": run_id, "assembly_id": assembly_id,
                                        "new_members": len(new_ids)})
        self.outbox.try_publish()

    def _skip(self, envelope, reason: str) -> None:
        # Retrying cannot change the answer; an operator sees the warning and draws by hand.
        log.warning("top-up not drawn", extra={"assembly_id": envelope.assembly_id,
                                               "event_id": envelope.event_id, "reason": reason})
        with self.store.engine.begin() as conn:
            storage.apply_once(conn, CONSUMER_GROUP, envelope.event_id)
