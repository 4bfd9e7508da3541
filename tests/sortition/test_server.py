"""The gRPC service over a real channel: health, reflection, errors, streaming, deadlines,
the draw and its events."""
from __future__ import annotations

import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from sortition_support import pool_message, publish, small_instance, start_server

from services.common import events
from services.common.bus import InProcessBus
from services.contracts.kleroterion.v1 import sortition_pb2 as pb
from services.sortition import draw as drawing
from services.sortition.engine import load_instance
from services.sortition.messages import FEASIBILITY_TRAILER
from services.sortition.server import SERVICE_NAME
from services.sortition.substitutes import panel_problems


def _compute(stub, instance, **kw):
    updates = list(stub.ComputeDistribution(pb.ComputeDistributionRequest(
        assembly_id="asm-1", pool=pool_message(instance), **kw), timeout=60))
    return updates


def _events(bus, event_type):
    topic = events.topic_for(event_type, bus.prefix)
    return [events.decode(r.value) for r in bus.read_topic(topic)]


def test_health_reports_serving(sortition):
    stub = health_pb2_grpc.HealthStub(sortition.channel)
    for service in ("", SERVICE_NAME):
        reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING


def test_reflection_lists_the_service(sortition):
    stub = reflection_pb2_grpc.ServerReflectionStub(sortition.channel)
    replies = stub.ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5)
    names = {s.name for r in replies for s in r.list_services_response.service}
    assert SERVICE_NAME in names
    assert "grpc.health.v1.Health" in names


def test_check_feasibility_feasible_and_infeasible(sortition):
    inst = small_instance()
    ok = sortition.stub.CheckFeasibility(pb.CheckFeasibilityRequest(pool=pool_message(inst)),
                                         timeout=30)
    assert ok.feasible
    assert len(ok.example_panel) == inst.seats

    pool = pool_message(inst)
    pool.quotas[0].min, pool.quotas[0].max = 7, 8   # f >= 7 and m >= 4 cannot fit 10 seats
    pool.quotas[0].min_flex = 5
    bad = sortition.stub.CheckFeasibility(pb.CheckFeasibilityRequest(pool=pool), timeout=30)
    assert not bad.feasible
    assert {(c.feature, c.value) for c in bad.conflicting} >= {("gender", "f")}
    assert bad.relaxation_found and bad.relaxation


def test_compute_distribution_streams_progress_then_result(sortition, bus):
    inst = small_instance()
    updates = _compute(sortition.stub, inst)
    kinds = [u.WhichOneof("update") for u in updates]
    assert kinds[-1] == "result" and kinds.count("result") == 1
    progress = [u.progress for u in updates[:-1]]
    assert progress and all(p.phase for p in progress)
    assert [p.iteration for p in progress] == sorted(p.iteration for p in progress)
    result = updates[-1].result
    assert result.lottery_size == 1000
    assert drawing.sha256_hex(result.lottery_json) == result.lottery_sha256
    probs = {p.id: p.probability for p in result.probabilities}
    assert set(probs) == {p.id for p in inst.people}
    assert abs(sum(probs.values()) - inst.seats) < 1e-6
    assert result.stats.min_probability == pytest.approx(min(probs.values()), abs=1e-6)
    # the first leximin level converges to the minimum; later levels report higher ones
    assert min(abs(p.min_probability - result.stats.min_probability) for p in progress) < 1e-5
    assert max(abs(p.lottery_probability - p.probability) for p in result.probabilities) == \
        pytest.approx(result.max_rounding_deviation, abs=1e-12)
    (computed,) = _events(bus, "distribution_computed")
    assert computed.distribution_computed.run_id == result.run_id
    assert computed.distribution_computed.lottery_sha256 == result.lottery_sha256
    # what the evaluation's representativeness report shows of the draw
    dc = computed.distribution_computed
    assert (dc.pool_size, dc.seats) == (len(inst.people), inst.seats)
    assert dc.share_below_k_over_n == pytest.approx(
        sum(v < inst.seats / len(probs) - 1e-9 for v in probs.values()) / len(probs), abs=1e-9)
    assert dc.geometric_mean == pytest.approx(result.stats.geometric_mean)


@pytest.mark.parametrize("mutate, field", [
    (lambda r: setattr(r.pool.quotas[2], "max", 1), "pool.quotas[2].max"),
    (lambda r: setattr(r.pool, "seats", 0), "pool.seats"),
    (lambda r: setattr(r.pool.people[4], "id", "p000"), "pool.people[4].id"),
    (lambda r: r.pool.people[7].features.pop("age"), "pool.people[7].features"),
    (lambda r: r.pool.already_selected.append("nobody"), "pool.already_selected[0]"),
    (lambda r: setattr(r, "algorithm", "best"), "algorithm"),
    (lambda r: setattr(r, "assembly_id", ""), "assembly_id"),
])
def test_bad_requests_name_the_field(sortition, mutate, field):
    request = pb.ComputeDistributionRequest(assembly_id="asm-1",
                                            pool=pool_message(small_instance()))
    mutate(request)
    with pytest.raises(grpc.RpcError) as err:
        list(sortition.stub.ComputeDistribution(request, timeout=30))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert err.value.details().startswith(field + ":"), err.value.details()


def test_infeasible_quotas_fail_precondition_with_relaxation(sortition):
    pool = pool_message(small_instance())
    pool.quotas[2].min, pool.quotas[2].max = 6, 6   # young 6 + middle >= 3 + old >= 2 > 10
    with pytest.raises(grpc.RpcError) as err:
        list(sortition.stub.ComputeDistribution(
            pb.ComputeDistributionRequest(assembly_id="asm-1", pool=pool), timeout=30))
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert err.value.details().startswith("pool.quotas:")
    trailers = dict(err.value.trailing_metadata())
    report = pb.FeasibilityReport.FromString(trailers[FEASIBILITY_TRAILER])
    assert not report.feasible and report.relaxation_found
    assert any(c.feature == "age" for c in report.relaxation)


def test_deadline_stops_the_solve(sortition, shared_instances):
    # geneva_30 takes several seconds; sf_fixture_22 now fits inside a 1 s deadline
    d = shared_instances / "geneva_30"
    inst = load_instance(d / "categories.csv", d / "respondents.csv", 30, strict_values=False)
    request = pb.ComputeDistributionRequest(assembly_id="asm-1", pool=pool_message(inst))
    servicer = sortition.server.servicer
    with pytest.raises(grpc.RpcError) as err:
        list(sortition.stub.ComputeDistribution(request, timeout=1.0))
    assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    deadline = time.monotonic() + 30
    while servicer.solves_cancelled + servicer.solves_discarded < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    # the solver itself stopped (a solve that ran to the end would count as discarded)
    assert (servicer.solves_cancelled, servicer.solves_discarded) == (1, 0)


def test_cancelling_the_call_stops_the_solve(sortition, shared_instances):
    # geneva_30 (every quota exact) takes long enough that the cancel always lands mid-solve.
    d = shared_instances / "geneva_30"
    inst = load_instance(d / "categories.csv", d / "respondents.csv", 30, strict_values=False)
    call = sortition.stub.ComputeDistribution(
        pb.ComputeDistributionRequest(assembly_id="asm-1", pool=pool_message(inst)), timeout=60)
    next(call)  # the solve is running once progress arrives
    call.cancel()
    servicer = sortition.server.servicer
    # The solver looks at the cancellation between its integer programs; one of those can
    # take a while on a loaded machine.
    deadline = time.monotonic() + 150
    while servicer.solves_cancelled + servicer.solves_discarded < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (servicer.solves_cancelled, servicer.solves_discarded) == (1, 0)


def test_draw_panel_is_reproducible_matches_verify_and_survives_restart(tmp_path, bus):
    inst = small_instance()
    first = start_server(tmp_path, bus)
    try:
        result = _compute(first.stub, inst)[-1].result
        publish(first.stub, result.run_id)
        drawn = first.stub.DrawPanel(pb.DrawPanelRequest(
            entered_by="Notary", run_id=result.run_id, seed="3 17 22 31 40"), timeout=10)
    finally:
        first.close()
    checked = drawing.verify(result.lottery_json, "3 17 22 31 40", result.lottery_sha256)
    assert (checked.panel_index, list(checked.panel)) == (drawn.panel_index, list(drawn.panel_ids))
    position = {p.id: i for i, p in enumerate(inst.people)}
    assert panel_problems(inst, [position[i] for i in drawn.panel_ids]) == []

    second = start_server(tmp_path, bus)   # same database: the run outlives the process
    try:
        again = second.stub.DrawPanel(pb.DrawPanelRequest(
            entered_by="Notary", run_id=result.run_id, seed=" 3 17 22 31 40 "), timeout=10)
        assert list(again.panel_ids) == list(drawn.panel_ids)
        with pytest.raises(grpc.RpcError) as err:
            second.stub.DrawPanel(pb.DrawPanelRequest(
                entered_by="Notary", run_id=result.run_id, seed="another"), timeout=10)
        assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert err.value.details().startswith("seed:")
        with pytest.raises(grpc.RpcError) as err:
            second.stub.DrawPanel(pb.DrawPanelRequest(entered_by="Notary", run_id="nope",
                                                      seed="1"), timeout=10)
        assert err.value.code() == grpc.StatusCode.NOT_FOUND
    finally:
        second.close()
    drawn_events = _events(bus, "panel_drawn")
    # the retried draw republished under the same event id, so consumers apply it once
    assert {e.event_id for e in drawn_events} and len({e.event_id for e in drawn_events}) == 1
    assert list(drawn_events[0].panel_drawn.member_ids) == list(drawn.panel_ids)
    assert drawn_events[0].panel_drawn.seed == "3 17 22 31 40"
    # The members' stratification answers and the quotas travel with the draw.
    by_id = {p.id: dict(p.features) for p in inst.people}
    members = drawn_events[0].panel_drawn.members
    assert [m.member_id for m in members] == list(drawn.panel_ids)
    assert all(dict(m.features) == by_id[m.member_id] for m in members)
    assert [(q.feature, q.value, q.min, q.max) for q in drawn_events[0].panel_drawn.quotas] == \
        [(q.feature, q.value, q.min, q.max) for q in inst.quotas]


def test_draw_substitutes_after_the_draw(sortition, bus):
    inst = small_instance()
    result = _compute(sortition.stub, inst)[-1].result
    with pytest.raises(grpc.RpcError) as err:
        sortition.stub.DrawSubstitutes(pb.DrawSubstitutesRequest(run_id=result.run_id), timeout=10)
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    publish(sortition.stub, result.run_id)
    drawn = sortition.stub.DrawPanel(pb.DrawPanelRequest(entered_by="Notary",
                                                         run_id=result.run_id, seed="42"),
                                     timeout=10)
    subs = sortition.stub.DrawSubstitutes(pb.DrawSubstitutesRequest(run_id=result.run_id, count=5),
                                        timeout=10)
    assert len(subs.substitute_ids) == 5
    assert not set(subs.substitute_ids) & set(drawn.panel_ids)
    assert {r.member_id for r in subs.first_replacements} | set(subs.uncovered_member_ids) == \
        set(drawn.panel_ids)
    (event,) = _events(bus, "substitutes_drawn")
    assert list(event.substitutes_drawn.substitute_ids) == list(subs.substitute_ids)
    by_id = {p.id: dict(p.features) for p in inst.people}
    assert [(s.member_id, dict(s.features)) for s in event.substitutes_drawn.substitutes] == \
        [(i, by_id[i]) for i in subs.substitute_ids]


def test_only_quota_categories_travel_with_the_draw(sortition, bus):
    pool = pool_message(small_instance())
    for person in pool.people:
        person.features["postcode"] = "3400"  # in the pool, but no quota: stays home
    result = list(sortition.stub.ComputeDistribution(pb.ComputeDistributionRequest(
        assembly_id="asm-1", pool=pool), timeout=60))[-1].result
    publish(sortition.stub, result.run_id)
    sortition.stub.DrawPanel(pb.DrawPanelRequest(entered_by="Notary", run_id=result.run_id,
                                                 seed="7"), timeout=10)
    (event,) = _events(bus, "panel_drawn")
    assert {k for m in event.panel_drawn.members for k in m.features} == {"gender", "age"}


def test_graceful_stop_reports_not_serving(tmp_path, bus):
    r = start_server(tmp_path, bus)
    stub = health_pb2_grpc.HealthStub(r.channel)
    r.server.health.enter_graceful_shutdown()
    reply = stub.Check(health_pb2.HealthCheckRequest(service=SERVICE_NAME), timeout=5)
    assert reply.status == health_pb2.HealthCheckResponse.NOT_SERVING
    assert r.server.stop(1).wait(5)
    r.channel.close()


class _BrokerAway(InProcessBus):
    """The in-process bus with the broker switched off: every publish fails."""

    away = True

    def publish(self, envelope, *args, **kwargs):
        if self.away:
            raise ConnectionError("broker unreachable")
        return super().publish(envelope, *args, **kwargs)


def test_results_are_announced_through_the_outbox_even_with_the_broker_away(tmp_path):
    bus = _BrokerAway()
    server = start_server(tmp_path, bus)
    try:
        inst = small_instance()
        result = _compute(server.stub, inst)[-1].result  # the call succeeds all the same
        publish(server.stub, result.run_id)
        request = pb.DrawPanelRequest(entered_by="Notary", run_id=result.run_id, seed="7 7 7")
        drawn = server.stub.DrawPanel(request, timeout=10)
        again = server.stub.DrawPanel(request, timeout=10)
        assert list(again.panel_ids) == list(drawn.panel_ids)
        assert _events(bus, "panel_drawn") == []
        bus.away = False
        server.server.outbox.try_publish()  # what the relay does once the broker is back
        (computed,) = _events(bus, "distribution_computed")
        (panel,) = _events(bus, "panel_drawn")  # the retried call wrote no second event
        assert computed.distribution_computed.run_id == result.run_id
        assert list(panel.panel_drawn.member_ids) == list(drawn.panel_ids)
    finally:
        server.close()
