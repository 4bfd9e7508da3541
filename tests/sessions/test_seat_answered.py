"""Members answer their seat offer themselves on the registry's page: sessions consumes the
registry's ``seat_answered`` exactly as a facilitator's recorded answer, once per event, and
an answer to an offer that is no longer open changes nothing (and is never dead-lettered)."""
from __future__ import annotations

import logging

import sqlalchemy as sa
from sessions_support import assembly_created, panel_drawn, substitutes_drawn

from services.common import audit, events
from services.contracts.kleroterion.v1.registry_events_pb2 import SeatAnswered

PANEL = [f"p{i:02d}" for i in range(12)]


def _seated(service):
    service.deliver(assembly_created())
    service.deliver(panel_drawn(PANEL))
    service.deliver(substitutes_drawn(["s1", "s2"]))


def _answer(service, member_id, answer, reason="", event_id=None) -> str:
    envelope = events.new_event(SeatAnswered(registrant_id=member_id, answer=answer,
                                             reason=reason),
                                assembly_id="a1", region="test", producer="registry",
                                event_id=event_id)
    service.ctx.bus.publish(envelope)
    while service.consumer.poll_once(0.05):
        pass
    return envelope.event_id


def _status(service) -> dict:
    comp = service.call("get", "/api/assemblies/a1/composition", role="observer").json
    return {x["member_id"]: x["status"] for x in comp["members"]}


def _dead_letters(service) -> list:
    return service.ctx.bus.dead_letters(service.consumer.group, timeout=0.1)


def test_a_confirmation_from_the_registry_takes_the_seat_once(service):
    _seated(service)
    first = _answer(service, "p00", "confirmed")
    _answer(service, "p00", "confirmed", event_id=first)  # redelivered: applied once
    assert _status(service)["p00"] == "confirmed"
    assert [(r.member_id, r.answer) for r in service.sent("member_responded")] == [
        ("p00", "confirmed")]
    assert not _dead_letters(service)
    with service.ctx.engine.connect() as conn:
        actions = [r.action for r in conn.execute(sa.text("SELECT action FROM audit_log"))]
    assert actions.count("event.seat_answered") == 1
    assert audit.verify_chain(service.ctx.engine) is None


def test_a_decline_from_the_registry_vacates_the_seat_for_the_next_substitute(service):
    _seated(service)
    _answer(service, "p03", "declined", reason="dates")
    status = _status(service)
    assert status["p03"] == "declined" and status["s1"] == "offered"
    [withdrew] = service.sent("member_withdrew")
    assert withdrew.member_id == "p03" and withdrew.reason == "declined the seat (dates)"
    [offered] = service.sent("seat_offered")
    assert (offered.vacated_by, offered.substitute_id) == ("p03", "s1")
    # The offered substitute answers on the registry's page too: the seat is filled.
    _answer(service, "s1", "confirmed")
    assert [(f.vacated_by, f.substitute_id) for f in service.sent("seat_filled")] == [
        ("p03", "s1")]
    assert [r.answer for r in service.sent("member_responded")] == ["declined", "confirmed"]


def test_the_facilitator_endpoint_and_the_event_share_one_answer(service, kept_logs):
    _seated(service)
    r = service.call("post", "/api/assemblies/a1/members/p01/response", role="facilitator",
                     json={"answer": "confirmed"})
    assert r.status_code == 200
    before = len(service.sent("process_summarised"))
    # The member answers on the page too, after the facilitator recorded it: nothing to do,
    # logged at info, not dead-lettered, no second member_responded.
    with kept_logs("services.sessions.handlers") as records:
        _answer(service, "p01", "declined")
    assert _status(service)["p01"] == "confirmed"
    assert [r.answer for r in service.sent("member_responded")] == ["confirmed"]
    assert len(service.sent("process_summarised")) == before
    assert not _dead_letters(service)
    [record] = [r for r in records if r.getMessage() == "seat answer not applied"]
    assert record.levelno == logging.INFO and record.field == "member_id"
    # And the other way round: answered by event, the facilitator is told it is done.
    _answer(service, "p02", "confirmed")
    r = service.call("post", "/api/assemblies/a1/members/p02/response", role="facilitator",
                     json={"answer": "declined"})
    assert r.status_code == 409 and r.json["field"] == "member_id"
    assert _status(service)["p02"] == "confirmed"


def test_answers_that_cannot_apply_are_claimed_and_change_nothing(service):
    _seated(service)
    with service.ctx.engine.connect() as conn:
        members_before = conn.execute(sa.text("SELECT * FROM members ORDER BY member_id")).all()
    _answer(service, "nobody", "confirmed")  # not on the panel
    _answer(service, "s2", "confirmed")  # a substitute never offered a seat
    _answer(service, "p04", "maybe")  # not an answer
    with service.ctx.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT * FROM members ORDER BY member_id")).all() == \
            members_before
    assert service.sent("member_responded") == [] and not _dead_letters(service)
    # The facilitator endpoint still refuses a bad answer by name.
    r = service.call("post", "/api/assemblies/a1/members/p04/response", role="facilitator",
                     json={"answer": "maybe"})
    assert r.status_code == 422 and r.json["field"] == "answer"
