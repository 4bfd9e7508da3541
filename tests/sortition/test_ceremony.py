"""The draw cannot be fixed: one published lottery per assembly, frozen before any seed; only
that run is drawn, once, with the seed's enterer and source on record (issue 15's attacks
on the sortition port, re-run and refused)."""
from __future__ import annotations

from datetime import datetime

import grpc
import pytest
from sortition_support import pool_message, publish, small_instance

from services.common import events
from services.contracts.kleroterion.v1 import sortition_pb2 as pb


def _compute(stub, assembly_id="asm-1", **kw):
    return list(stub.ComputeDistribution(pb.ComputeDistributionRequest(
        assembly_id=assembly_id, pool=pool_message(small_instance()), **kw),
        timeout=60))[-1].result


def _draw(stub, run_id, seed="4 8 15", entered_by="Notary Jensen", **kw):
    return stub.DrawPanel(pb.DrawPanelRequest(run_id=run_id, seed=seed, entered_by=entered_by,
                                              **kw), timeout=10)


def _refused(call, code=grpc.StatusCode.FAILED_PRECONDITION) -> str:
    with pytest.raises(grpc.RpcError) as err:
        call()
    assert err.value.code() == code, err.value.details()
    return err.value.details()


def _events(bus, event_type):
    return [events.decode(r.value) for r in bus.read_topic(events.topic_for(event_type,
                                                                            bus.prefix))]


def test_no_seed_is_taken_before_the_lottery_is_published(sortition, bus):
    run = _compute(sortition.stub)
    message = _refused(lambda: _draw(sortition.stub, run.run_id))
    assert message.startswith("run_id:") and "no published lottery" in message
    assert _events(bus, "panel_drawn") == []


def test_only_the_published_run_is_drawn_and_an_assembly_publishes_once(sortition, bus):
    # The attacker's rerun on the same pool has the same lottery (same SHA-256) but is not
    # the published run: it is neither drawn nor publishable.
    official = _compute(sortition.stub)
    rerun = _compute(sortition.stub)
    assert rerun.lottery_sha256 == official.lottery_sha256
    published = publish(sortition.stub, official.run_id, "Organiser Hansen")
    assert (published.assembly_id, published.lottery_sha256) == ("asm-1", official.lottery_sha256)
    assert published.published_by == "Organiser Hansen" and published.published_at
    assert publish(sortition.stub, official.run_id) == published  # again: the same publication
    message = _refused(lambda: publish(sortition.stub, rerun.run_id))
    assert message.startswith("run_id:") and official.run_id in message
    message = _refused(lambda: _draw(sortition.stub, rerun.run_id))
    assert "not the published lottery" in message
    # A frozen lottery: nothing more is computed for the assembly.
    message = _refused(lambda: _compute(sortition.stub))
    assert message.startswith("assembly_id:") and "frozen" in message
    # Another assembly is not affected.
    assert _compute(sortition.stub, assembly_id="asm-2").run_id
    (announced,) = _events(bus, "lottery_published")
    assert announced.assembly_id == "asm-1"
    assert announced.lottery_published.run_id == official.run_id
    assert announced.lottery_published.lottery_sha256 == official.lottery_sha256
    assert announced.lottery_published.published_by == "Organiser Hansen"


def test_the_draw_records_who_entered_the_seed_when_and_its_source(sortition, bus):
    run = _compute(sortition.stub)
    published = publish(sortition.stub, run.run_id)
    message = _refused(lambda: _draw(sortition.stub, run.run_id, entered_by="  "),
                       grpc.StatusCode.INVALID_ARGUMENT)
    assert message.startswith("entered_by:")
    drawn = _draw(sortition.stub, run.run_id, seed="7 12 19 23 31 34 + 2",
                  seed_source="Lotto, draw of 2025-06-07 (danskespil.dk)")
    assert drawn.entered_by == "Notary Jensen"
    assert drawn.seed_source == "Lotto, draw of 2025-06-07 (danskespil.dk)"
    assert datetime.fromisoformat(drawn.entered_at) >= \
        datetime.fromisoformat(published.published_at)
    (event,) = _events(bus, "panel_drawn")
    payload = event.panel_drawn
    assert (payload.run_id, payload.lottery_sha256) == (run.run_id, run.lottery_sha256)
    assert (payload.seed_entered_by, payload.seed_entered_at, payload.seed_source) == \
        (drawn.entered_by, drawn.entered_at, drawn.seed_source)
    stored = sortition.server.store.get(run.run_id)
    assert (stored.seed_entered_by, stored.seed_source) == (drawn.entered_by, drawn.seed_source)


def test_a_second_draw_of_an_assembly_is_refused(sortition, bus):
    run = _compute(sortition.stub)
    publish(sortition.stub, run.run_id)
    first = _draw(sortition.stub, run.run_id, seed="official seed")
    message = _refused(lambda: _draw(sortition.stub, run.run_id, seed="chosen by an attacker",
                                     entered_by="Mallory"))
    assert message.startswith("seed:") and "drawn once" in message and "Notary Jensen" in message
    # The same seed again is the same draw (a retried call), announced once.
    again = _draw(sortition.stub, run.run_id, seed="official seed", entered_by="Someone else")
    assert list(again.panel_ids) == list(first.panel_ids)
    assert again.entered_by == "Notary Jensen"
    assert len({e.event_id for e in _events(bus, "panel_drawn")}) == 1
    assert sortition.server.store.get(run.run_id).seed == "official seed"


def test_the_reserve_list_is_drawn_once_and_not_replaced(sortition, bus):
    run = _compute(sortition.stub)
    publish(sortition.stub, run.run_id)
    _draw(sortition.stub, run.run_id)
    first = sortition.stub.DrawSubstitutes(pb.DrawSubstitutesRequest(run_id=run.run_id,
                                                                     count=8), timeout=10)
    message = _refused(lambda: sortition.stub.DrawSubstitutes(
        pb.DrawSubstitutesRequest(run_id=run.run_id, count=3), timeout=10))
    assert message.startswith("count:") and "drawn once" in message
    again = sortition.stub.DrawSubstitutes(pb.DrawSubstitutesRequest(run_id=run.run_id,
                                                                     count=8), timeout=10)
    assert list(again.substitute_ids) == list(first.substitute_ids)
    (event,) = _events(bus, "substitutes_drawn")
    assert list(event.substitutes_drawn.substitute_ids) == list(first.substitute_ids)
    assert event.substitutes_drawn.published_run_id == run.run_id
    assert event.substitutes_drawn.published_lottery_sha256 == run.lottery_sha256
    assert sortition.server.store.get(run.run_id).substitutes["count"] == 8


def test_substitutes_of_a_run_that_is_not_published_are_refused(sortition):
    official = _compute(sortition.stub)
    rerun = _compute(sortition.stub)
    publish(sortition.stub, official.run_id)
    message = _refused(lambda: sortition.stub.DrawSubstitutes(
        pb.DrawSubstitutesRequest(run_id=rerun.run_id, count=3), timeout=10))
    assert "not the published lottery" in message
