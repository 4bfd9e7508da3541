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


def _seated(sessions):
    sessions.deliver(assembly_created())
    sessions.deliver(panel_drawn(PANEL))
    sessions.deliver(substitutes_drawn(["s1", "s2"]))


def _answer(sessions, member_id, answer, reason="", event_id=None) -> str:
    envelope = events.new_event(SeatAnswered(registrant_id=member_id, answer=answer,
                                             reason=reason),
                                assembly_id="a1", region="test", producer="registry",
                                event_id=event_id)
    sessions.ctx.bus.publish(envelope)
    while sessions.consumer.poll_once(0.05):
        pass
    return envelope.event_id


def _status(sessions) -> dict:
    comp = sessions.call("get", "/api/assemblies/a1/composition", role="observer").json
    return {x["member_id"]: x["status"] for x in comp["members"]}


def _dead_letters(sessions) -> list:
    return sessions.ctx.bus.dead_letters(sessions.consumer.group, timeout=0.1)


def test_a_confirmation_from_the_registry_takes_the_seat_once(sessions):
    _seated(sessions)
    first = _answer(sessions, "p00", "confirmed")
    _answer(sessions, "p00", "confirmed", event_id=first)  # redelivered: applied once
    assert _status(sessions)["p00"] == "confirmed"
    assert [(r.member_id, r.answer) for r in sessions.sent("member_responded")] == [
        ("p00", "confirmed")]
    assert not _dead_letters(sessions)
    with sessions.ctx.engine.connect() as conn:
        actions = [r.action for r in conn.execute(sa.text("SELECT action FROM audit_log"))]
    assert actions.count("event.seat_answered") == 1
    assert audit.verify_chain(sessions.ctx.engine) is None


def test_a_decline_from_the_registry_vacates_the_seat_for_the_next_substitute(sessions):
    _seated(sessions)
    _answer(sessions, "p03", "declined", reason="dates")
    status = _status(sessions)
    assert status["p03"] == "declined" and status["s1"] == "offered"
    [withdrew] = sessions.sent("member_withdrew")
    assert withdrew.member_id == "p03" and withdrew.reason == "declined the seat (dates)"
    [offered] = sessions.sent("seat_offered")
    assert (offered.vacated_by, offered.substitute_id) == ("p03", "s1")
    # The offered substitute answers on the registry's page too: the seat is filled.
    _answer(sessions, "s1", "confirmed")
    assert [(f.vacated_by, f.substitute_id) for f in sessions.sent("seat_filled")] == [
        ("p03", "s1")]
    assert [r.answer for r in sessions.sent("member_responded")] == ["declined", "confirmed"]


def test_the_facilitator_endpoint_and_the_event_share_one_answer(sessions, kept_logs):
    _seated(sessions)
    r = sessions.call("post", "/api/assemblies/a1/members/p01/response", role="facilitator",
                      json={"answer": "confirmed"})
    assert r.status_code == 200
    before = len(sessions.sent("process_summarised"))
    # The member answers on the page too, after the facilitator recorded it: nothing to do,
    # logged at info, not dead-lettered, no second member_responded.
    with kept_logs("services.sessions.handlers") as records:
        _answer(sessions, "p01", "declined")
    assert _status(sessions)["p01"] == "confirmed"
    assert [r.answer for r in sessions.sent("member_responded")] == ["confirmed"]
    assert len(sessions.sent("process_summarised")) == before
    assert not _dead_letters(sessions)
    [record] = [r for r in records if r.getMessage() == "seat answer not applied"]
    assert record.levelno == logging.INFO and record.field == "member_id"
    # And the other way round: answered by event, the facilitator is told it is done.
    _answer(sessions, "p02", "confirmed")
    r = sessions.call("post", "/api/assemblies/a1/members/p02/response", role="facilitator",
                      json={"answer": "declined"})
    assert r.status_code == 409 and r.json["field"] == "member_id"
    assert _status(sessions)["p02"] == "confirmed"


def test_answers_that_cannot_apply_are_claimed_and_change_nothing(sessions):
    _seated(sessions)
    with sessions.ctx.engine.connect() as conn:
        members_before = conn.execute(sa.text("SELECT * FROM members ORDER BY member_id")).all()
    _answer(sessions, "nobody", "confirmed")  # not on the panel
    _answer(sessions, "s2", "confirmed")  # a substitute never offered a seat
    _answer(sessions, "p04", "maybe")  # not an answer
    with sessions.ctx.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT * FROM members ORDER BY member_id")).all() == \
            members_before
    assert sessions.sent("member_responded") == [] and not _dead_letters(sessions)
    # The facilitator endpoint still refuses a bad answer by name.
    r = sessions.call("post", "/api/assemblies/a1/members/p04/response", role="facilitator",
                      json={"answer": "maybe"})
    assert r.status_code == 422 and r.json["field"] == "answer"
