"""End to end over the real broker: extract, rollout, Digital Post into an outbox folder,
public sign-up, pool export, sortition over gRPC, and ``panel_drawn`` reaching the registry,
sessions and recommendations — each a separate process, read back through its HTTP API."""
from __future__ import annotations

import time

import pytest

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow]


def test_a_panel_drawn_over_grpc_reaches_every_service(drawn):
    a = drawn["assembly"]
    assert drawn["requested"] == 80
    assert drawn["delivered"] == {"sent": 80}
    # every invitation went out as a MeMo file with its code, and was signed up with it
    assert len(drawn["accepted"]) == 80
    assert drawn["statistics"]["total"] == {"invited": 80, "signed_up": 80,
                                            "response_rate": 1.0}
    assert sorted(p["id"] for p in drawn["people"]) == sorted(drawn["accepted"])
    panel = set(drawn["drawn"]["panel_ids"])
    assert len(panel) == a.seats and panel <= set(drawn["accepted"])
    # registry: the drawn are selected, everyone else stays in the pool
    states = {x["id"]: x["state"] for x in a.registrants()}
    assert {i for i, s in states.items() if s == "selected"} == panel
    assert {s for i, s in states.items() if i not in panel} == {"pool"}
    # sessions: seated with the features the draw used, and the quotas met
    composition = a.composition()
    members = {m["member_id"]: m for m in composition["members"]}
    assert panel <= set(members)
    by_id = {p["id"]: p for p in drawn["people"]}
    for member in panel:
        features = members[member]["features"]
        assert features["sex"] == by_id[member]["sex"]
        assert features["education"] == by_id[member]["education"]
    assert composition["quotas_ok"] is True
    # recommendations: the same members seated
    seated = {m["member_id"] for m in a.seated_in_recommendations() if m["seated"]}
    assert seated == panel



def test_the_evaluation_gathers_every_service_s_aggregates_over_the_broker(drawn):
    a = drawn["assembly"]
    deadline = time.monotonic() + 60
    while True:
        data = a.evaluation()
        totals = data["representativeness"]["totals"]
        if (totals.get("invited") and totals.get("drawn") and data["selection"]) \
                or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    # registry's funnel_counted, sortition's distribution_computed, sessions' process_summarised
    assert totals["invited"] == 80 and totals["signed_up"] == 80
    assert totals["drawn"] == a.seats
    assert data["selection"]["pool_size"] == 80 and data["selection"]["seats"] == a.seats
    sex = next(f for f in data["representativeness"]["features"] if f["feature"] == "sex")
    assert {"population", "invited", "signed_up", "drawn", "seated"} == set(sex["stages"])
    assert data["process"]["seats"] == a.seats
