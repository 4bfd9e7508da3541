"""Helpers for the sortition tests: small pools, pool messages, an in-process server."""
from __future__ import annotations

import random
from pathlib import Path

import grpc

from services.common import storage
from services.contracts.kleroterion.v1 import sortition_pb2 as pb
from services.contracts.kleroterion.v1 import sortition_pb2_grpc as pb_grpc
from services.sortition.engine import Instance, Person, Quota
from services.sortition.models import RunStore
from services.sortition.server import SortitionServer
from services.sortition.settings import Settings


def small_instance(n: int = 60, seats: int = 10, seed: int = 3,
                   households: bool = False) -> Instance:
    """Two quota categories with uneven pool shares, so fairness and substitutes matter."""
    rng = random.Random(seed)
    people = []
    for i in range(n):
        gender = "f" if rng.random() < 0.35 else "m"
        age = rng.choices(["young", "middle", "old"], weights=[1, 3, 2])[0]
        people.append(Person(f"p{i:03d}", {"gender": gender, "age": age},
                             household=f"h{i // 2}" if households else None))
    quotas = [Quota("gender", "f", 4, 6), Quota("gender", "m", 4, 6),
              Quota("age", "young", 2, 4), Quota("age", "middle", 3, 5), Quota("age", "old", 2, 4)]
    return Instance(people, quotas, seats, one_per_household=households)


def pool_message(instance: Instance) -> pb.Pool:
    pool = pb.Pool(seats=instance.seats, already_selected=list(instance.already_selected),
                   household_rule=pb.HOUSEHOLD_RULE_ONE_PER_HOUSEHOLD if instance.one_per_household
                   else pb.HOUSEHOLD_RULE_NONE)
    for p in instance.people:
        pool.people.add(id=p.id, features=dict(p.features), household=p.household or "")
    for q in instance.quotas:
        m = pool.quotas.add(feature=q.feature, value=q.value, min=q.min, max=q.max)
        if q.min_flex is not None:
            m.min_flex = q.min_flex
        if q.max_flex is not None:
            m.max_flex = q.max_flex
    return pool


class Running:
    def __init__(self, server: SortitionServer):
        self.server = server
        self.channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
        grpc.channel_ready_future(self.channel).result(timeout=10)
        self.stub = pb_grpc.SortitionServiceStub(self.channel)

    def close(self):
        self.channel.close()
        self.server.stop(0).wait()


def start_server(tmp_path: Path, bus, **settings) -> Running:
    cfg = Settings.from_env({}, port=0, host="127.0.0.1", data_dir=str(tmp_path),
                            rounding_seconds=2, **settings)
    store = RunStore(storage.make_engine(cfg.database()))
    return Running(SortitionServer(cfg, bus=bus, store=store).start())


def publish(stub: pb_grpc.SortitionServiceStub, run_id: str,
            published_by: str = "Organiser") -> pb.PublishLotteryResponse:
    """Publish a computed run as its assembly's lottery (before any seed is entered)."""
    return stub.PublishLottery(pb.PublishLotteryRequest(run_id=run_id,
                                                        published_by=published_by), timeout=10)
