"""Drawn members confirm or decline their seat themselves, with their invitation's code, on
the public page (da/en) or its JSON API; the registry follows sessions' seat offers (the
substitute is told, once) and a facilitator's recorded answers, without a loop."""
from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa
from registry_support import Api, Outbox, extract, person_rows

from services.common import events
from services.common.outbox import event_outbox
from services.contracts.kleroterion.v1.sessions_events_pb2 import MemberResponded, SeatOffered
from services.contracts.kleroterion.v1.sortition_events_pb2 import PanelDrawn, SubstitutesDrawn
from services.registry import handlers, models


def drawn(make_registry, outbox=None, members=3, substitutes=2, signups=6, bus=None):
    """An assembly whose first ``members`` sign-ups are drawn (and told) and the next
    ``substitutes`` are substitutes. Returns app, ctx, the sign-ups' codes and ids, and the
    selection and channel consumers."""
    outbox = outbox or Outbox()
    app, ctx = make_registry(outbox, bus=bus)
    api = Api(app, ctx)
    api.assembly()
    assert api.upload("a1", extract(person_rows(30))).status_code == 201
    r = api.post("/api/assemblies/a1/rollouts", {"scope": "Danmark", "size": 10})
    assert r.status_code == 201, r.json
    with ctx.engine.connect() as conn:
        codes = conn.scalars(sa.select(models.invitations.c.code)
                             .order_by(models.invitations.c.id)).all()
    client = app.test_client()
    ids = []
    for code in codes[:signups]:
        r = client.post("/api/public/signup", json={"code": code, "answers": {
            "education": "long"}, "available": True, "consent": True})
        assert r.status_code == 201, r.json
        ids.append(r.json["registrant_id"])
    selection, channels = handlers.selection.consumer(ctx), handlers.channels.consumer(ctx)
    deliver(ctx, [selection, channels],
            PanelDrawn(run_id="r", member_ids=ids[:members]),
            SubstitutesDrawn(run_id="r", substitute_ids=ids[members:members + substitutes]))
    return app, ctx, codes, ids, (selection, channels)


def deliver(ctx, consumers, *payloads, producer="sortition", event_id=None) -> list[str]:
    sent = []
    for payload in payloads:
        envelope = events.new_event(payload, assembly_id="a1", region="local",
                                    producer=producer, event_id=event_id)
        ctx.bus.publish(envelope)
        sent.append(envelope.event_id)
    for consumer in consumers:
        while consumer.poll_once(0.05):
            pass
    return sent


def states(ctx) -> dict[str, str]:
    r = models.registrants
    with ctx.engine.connect() as conn:
        return dict(conn.execute(sa.select(r.c.id, r.c.state)).all())


def published(ctx, event_type) -> list:
    return [events.payload_of(events.decode(r.value))
            for r in ctx.bus.read_topic(events.topic_for(event_type))]


def snapshot(ctx):
    with ctx.engine.connect() as conn:
        return (conn.execute(sa.select(models.registrants).order_by(models.registrants.c.id)).all(),
                conn.scalar(sa.select(sa.func.count()).select_from(event_outbox)),
                len(published(ctx, "seat_answered")))


def notices(outbox) -> list[str]:
    return [i.recipient.invitation_id for i in outbox.sent
            if i.recipient.invitation_id.endswith(".selected")]


# --- the JSON API ---------------------------------------------------------------------------


def test_a_drawn_member_confirms_with_the_json_api(make_registry):
    app, ctx, codes, ids, _ = drawn(make_registry)
    client = app.test_client()
    r = client.get(f"/api/public/signup/{codes[0].lower()}?lang=en")
    assert r.status_code == 200 and r.json["step"] == "seat"
    assert r.json["message"] == ("You have been drawn for Borgersamling om vand: confirm or "
                                 "decline your seat.")
    assert r.json["answers"] == ["confirmed", "declined"]
    # A person in the pool still gets the sign-up's answer (used code).
    assert client.get(f"/api/public/signup/{codes[5]}").json["field"] == "code"
    assert client.get(f"/api/public/signup/{codes[8]}").json["step"] == "signup"

    r = client.post("/api/public/seat", json={"code": codes[0], "answer": "confirmed",
                                              "reason": "dates"})
    assert r.status_code == 200, r.json
    assert r.json == {"registrant_id": ids[0], "state": "confirmed"}
    assert states(ctx)[ids[0]] == "confirmed"
    [answered] = published(ctx, "seat_answered")
    # A reason goes only with a decline; the event carries the pseudonymous id, no code.
    assert (answered.registrant_id, answered.answer, answered.reason) == (ids[0], "confirmed", "")
    [record] = ctx.bus.read_topic(events.topic_for("seat_answered"))
    assert codes[0] not in record.value.decode("latin-1")

    before = snapshot(ctx)
    again = client.post("/api/public/seat", json={"code": codes[0], "answer": "declined"})
    assert again.status_code == 409 and again.json["field"] == "code"
    assert again.json["error"] == "Du har allerede svaret på pladsen."
    r = client.get(f"/api/public/signup/{codes[0]}?lang=en")
    assert r.status_code == 409 and r.json == {
        "error": "You have already answered the seat offer.", "field": "code"}
    assert snapshot(ctx) == before


def test_a_decline_keeps_its_reason_and_is_committed_with_its_event(make_registry):
    app, ctx, codes, ids, _ = drawn(make_registry)
    ctx.outbox.publish_soon = lambda: 0  # the process dies right after the commit
    r = app.test_client().post("/api/public/seat", json={
        "code": codes[1], "answer": "declined", "reason": "dates", "language": "en"})
    assert r.status_code == 200 and r.json["state"] == "declined"
    assert published(ctx, "seat_answered") == []
    with ctx.engine.connect() as conn:
        [row] = conn.execute(sa.select(event_outbox.c.routing_key, event_outbox.c.envelope)
                             .where(event_outbox.c.published_at.is_(None))).all()
    envelope = events.decode(row.envelope)
    assert envelope.event_type == "seat_answered" and row.routing_key == ids[1]
    assert (envelope.seat_answered.answer, envelope.seat_answered.reason) == ("declined", "dates")
    assert envelope.producer == "registry" and envelope.assembly_id == "a1"
    assert ctx.outbox.publish_pending() == 1
    assert states(ctx)[ids[1]] == "declined"


@pytest.mark.parametrize("language, body, status, field, error", [
    ("da", {"code": "NOPE-NOPE-2"}, 404, "code", "Koden findes ikke. Tjek koden i dit brev."),
    ("en", {"code": ""}, 422, "code", "Enter your code."),
    ("en", {"code": 7}, 422, "code", "Enter your code."),
    ("en", {"code": "#pool", "answer": "confirmed"}, 409, "code",
     "There is no seat to confirm or decline with this code."),
    ("da", {"code": "#substitute", "answer": "confirmed"}, 409, "code",
     "Der er ingen plads at bekræfte eller afslå med denne kode."),
    ("en", {"code": "#invited", "answer": "confirmed"}, 409, "code",
     "There is no seat to confirm or decline with this code."),
    ("en", {"code": "#selected"}, 422, "answer",
     "Choose whether you confirm or decline your seat."),
    ("da", {"code": "#selected", "answer": "yes"}, 422, "answer",
     "Vælg, om du bekræfter eller afslår din plads."),
    ("en", {"code": "#selected", "answer": "declined", "reason": "I am ill"}, 422, "reason",
     "Choose one of the reasons."),
    ("en", {"code": "#selected", "answer": ["confirmed"], "reason": 3}, 422, "answer",
     "Choose whether you confirm or decline your seat."),
])
def test_refusals_name_the_field_and_write_nothing(make_registry, language, body, status,
                                                    field, error):
    app, ctx, codes, ids, _ = drawn(make_registry)
    code = {"#selected": codes[0], "#substitute": codes[3], "#pool": codes[5],
            "#invited": codes[8]}.get(body.get("code"), body.get("code"))
    before = snapshot(ctx)
    r = app.test_client().post("/api/public/seat", json={**body, "code": code,
                                                         "language": language})
    assert r.status_code == status, r.json
    assert (r.json["field"], r.json["error"]) == (field, error)
    assert snapshot(ctx) == before


def test_a_body_that_is_not_an_object_and_an_ended_assembly_are_refused(make_registry):
    app, ctx, codes, ids, _ = drawn(make_registry)
    client = app.test_client()
    r = client.post("/api/public/seat", data="confirmed", content_type="text/plain")
    assert r.status_code == 400 and r.json["field"] == "body"
    assert Api(app, ctx).post("/api/assemblies/a1/end").status_code == 200
    r = client.post("/api/public/seat", json={"code": codes[0], "answer": "confirmed"})
    assert r.status_code == 404 and r.json["field"] == "code"  # the codes are erased too


# --- the page ------------------------------------------------------------------------------


def test_the_page_asks_a_drawn_member_in_danish_and_english(make_registry):
    app, ctx, codes, ids, _ = drawn(make_registry)
    client = app.test_client()
    da = client.get(f"/signup?code={codes[2].lower()}").get_data(as_text=True)
    assert '<html lang="da">' in da and "<h1>Bekræft din plads</h1>" in da
    assert "Du er trukket ud til Borgersamling om vand: bekræft eller afslå din plads." in da
    assert 'action="/signup/seat"' in da and "Tilmeld mig" not in da
    assert '<label for="field-answer">Jeg bekræfter min plads</label>' in da
    en = client.get(f"/signup?code={codes[2]}&lang=en").get_data(as_text=True)
    assert "You have been drawn for Borgersamling om vand: confirm or decline your seat." in en
    assert '<label for="reason-dates">I cannot take part on the session dates</label>' in en

    r = client.post("/signup/seat", data={"lang": "en", "code": codes[2], "reason": "dates"})
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and "There is a problem with the form" in page
    assert '<a href="#field-answer">Choose whether you confirm or decline your seat.</a>' in page
    assert 'value="dates"\n         checked' in page  # what was chosen is kept
    r = client.post("/signup/seat", data={"lang": "da", "code": codes[2], "answer": "declined",
                                          "reason": "noget helt andet"})
    assert r.status_code == 422 and "Vælg en af grundene." in r.get_data(as_text=True)
    assert states(ctx)[ids[2]] == "selected"

    r = client.post("/signup/seat", data={"lang": "da", "code": codes[2], "answer": "declined",
                                          "reason": "not_interested"})
    assert r.status_code == 200 and "Du har afslået pladsen" in r.get_data(as_text=True)
    assert states(ctx)[ids[2]] == "declined"
    assert [(p.answer, p.reason) for p in published(ctx, "seat_answered")] == [
        ("declined", "not_interested")]
    r = client.post("/signup/seat", data={"lang": "en", "code": codes[2], "answer": "confirmed"})
    page = r.get_data(as_text=True)
    assert r.status_code == 409 and "You have already answered the seat offer." in page
    assert 'id="field-code"' in page  # back to the code step, the error names the code
    r = client.get(f"/signup?code={codes[2]}&lang=en")
    assert r.status_code == 409 and "already answered" in r.get_data(as_text=True)
    r = client.post("/signup/seat", data={"lang": "en", "code": codes[4], "answer": "confirmed"})
    assert r.status_code == 409 and "no seat to confirm" in r.get_data(as_text=True)


# --- what sessions tells the registry -------------------------------------------------------


def test_an_offered_substitute_becomes_selected_and_is_told_once(make_registry):
    outbox = Outbox()
    app, ctx, codes, ids, consumers = drawn(make_registry, outbox)
    assert len(notices(outbox)) == 3
    [first] = deliver(ctx, consumers, SeatOffered(vacated_by=ids[1], substitute_id=ids[3],
                                                  substitute_rank=1), producer="sessions")
    deliver(ctx, consumers, SeatOffered(vacated_by=ids[1], substitute_id=ids[3],
                                        substitute_rank=1), producer="sessions",
            event_id=first)  # redelivered: applied once
    # A second offer to the same person (another event) does not tell them again.
    deliver(ctx, consumers, SeatOffered(vacated_by=ids[2], substitute_id=ids[3],
                                        substitute_rank=1), producer="sessions")
    assert states(ctx)[ids[3]] == "selected"
    assert len(notices(outbox)) == 4
    [notice] = [i for i in outbox.sent if i.recipient.invitation_id.endswith(".selected")][3:]
    assert "Bekræft eller afslå din plads på http://127.0.0.1:8000/signup" in notice.body
    assert len(published(ctx, "invitation_requested")) == 4
    # The substitute answers on the page with the code of their invitation.
    r = app.test_client().post("/api/public/seat", json={"code": codes[3],
                                                         "answer": "confirmed"})
    assert r.status_code == 200 and states(ctx)[ids[3]] == "confirmed"


def test_a_seat_offered_to_an_unknown_id_is_dead_lettered_for_an_operator(make_registry):
    app, ctx, codes, ids, consumers = drawn(make_registry)
    deliver(ctx, consumers, SeatOffered(vacated_by=ids[1], substitute_id="not-a-registrant"),
            producer="sessions")
    [dead] = ctx.bus.dead_letters("registry.selection", timeout=0.1)
    assert "not registrants" in dead.error


def test_a_facilitators_answer_reaches_the_registrant_once_and_an_own_answer_does_not_loop(
        make_registry, kept_logs):
    app, ctx, codes, ids, consumers = drawn(make_registry)
    [first] = deliver(ctx, consumers, MemberResponded(member_id=ids[0], answer="confirmed"),
                      producer="sessions")
    deliver(ctx, consumers, MemberResponded(member_id=ids[0], answer="confirmed"),
            producer="sessions", event_id=first)
    deliver(ctx, consumers, MemberResponded(member_id=ids[1], answer="declined"),
            producer="sessions")
    assert [states(ctx)[i] for i in ids[:2]] == ["confirmed", "declined"]
    # The member answered on the page; sessions' member_responded comes back: no change.
    client = app.test_client()
    assert client.post("/api/public/seat", json={"code": codes[2],
                                                 "answer": "declined"}).status_code == 200
    before = snapshot(ctx)
    deliver(ctx, consumers, MemberResponded(member_id=ids[2], answer="declined"),
            producer="sessions")
    assert snapshot(ctx) == before
    # An answer that contradicts the registry is logged for an operator, not applied and
    # not dead-lettered: sessions holds the seats.
    with kept_logs("services.registry.pool") as records:
        deliver(ctx, consumers, MemberResponded(member_id=ids[1], answer="confirmed"),
                MemberResponded(member_id=ids[5], answer="confirmed"),
                MemberResponded(member_id="unknown", answer="declined"), producer="sessions")
    assert states(ctx)[ids[1]] == "declined" and states(ctx)[ids[5]] == "pool"
    assert [(r.levelno, r.getMessage()) for r in records] == [
        (logging.WARNING, "member answer not applied to the registrant")] * 3
    assert ctx.bus.dead_letters("registry.selection", timeout=0.1) == []


def test_an_answer_that_overtakes_its_offer_is_kept_and_the_offer_tells_nobody(make_registry):
    outbox = Outbox()
    app, ctx, codes, ids, consumers = drawn(make_registry, outbox)
    # seat_offered and member_responded travel on different topics: the answer first.
    deliver(ctx, consumers, MemberResponded(member_id=ids[4], answer="confirmed"),
            producer="sessions")
    assert states(ctx)[ids[4]] == "confirmed"
    deliver(ctx, consumers, SeatOffered(vacated_by=ids[1], substitute_id=ids[4]),
            producer="sessions")
    assert states(ctx)[ids[4]] == "confirmed" and len(notices(outbox)) == 3
    assert ctx.bus.dead_letters("registry.selection", timeout=0.1) == []


# --- with the sessions service on the same bus -------------------------------------------------


def test_answers_travel_between_registry_and_sessions_and_settle(make_registry, tmp_path):
    from services.common.bus import InProcessBus
    from services.contracts.kleroterion.v1.platform_events_pb2 import AssemblyCreated
    from services.sessions import app as sessions_app
    from services.sessions.settings import Settings as SessionsSettings

    bus = InProcessBus()
    sessions = sessions_app.build(SessionsSettings.from_env(
        {}, database_url=f"sqlite:///{tmp_path}/sessions.sqlite3", plugins=("formats",)), bus=bus)
    try:
        [seats] = sessions_app.consumers(sessions)
        bus.publish(events.new_event(AssemblyCreated(name="Vand", format="panel", seats=3),
                                     assembly_id="a1", region="local", producer="platform"))
        outbox = Outbox()
        app, ctx, codes, ids, (selection, channels) = drawn(make_registry, outbox, bus=bus)

        def settle():
            while sum(c.poll_once(0.05) for c in (seats, selection, channels)):
                pass

        settle()
        client = app.test_client()
        # A member declines on the page: sessions offers the seat to the first substitute,
        # whom the registry selects and tells.
        assert client.post("/api/public/seat", json={"code": codes[0], "answer": "declined",
                                                     "reason": "dates"}).status_code == 200
        settle()
        assert [states(ctx)[i] for i in ids[:5]] == [
            "declined", "selected", "selected", "selected", "substitute"]
        assert len(notices(outbox)) == 4
        # The substitute confirms on the page; a facilitator records another member's
        # confirmation in sessions, which reaches the registry.
        assert client.post("/api/public/seat", json={"code": codes[3],
                                                     "answer": "confirmed"}).status_code == 200
        token = sessions.tokens.issue("f", "facilitator")
        r = sessions_app.create_app(context=sessions).test_client().post(
            f"/api/assemblies/a1/members/{ids[1]}/response", json={"answer": "confirmed"},
            headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200, r.json
        settle()
        assert [states(ctx)[i] for i in ids[:5]] == [
            "declined", "confirmed", "selected", "confirmed", "substitute"]
        with sessions.engine.connect() as conn:
            held = dict(conn.execute(sa.text("SELECT member_id, status FROM members")).all())
        assert [held[i] for i in ids[:5]] == ["declined", "confirmed", "offered", "confirmed",
                                              "substitute"]
        # Settled: each answer announced once on each side, nothing left to publish.
        assert sorted((a.registrant_id, a.answer) for a in published(ctx, "seat_answered")) == \
            sorted([(ids[0], "declined"), (ids[3], "confirmed")])
        assert sorted((r.member_id, r.answer) for r in published(ctx, "member_responded")) == \
            sorted([(ids[0], "declined"), (ids[3], "confirmed"), (ids[1], "confirmed")])
        assert ctx.outbox.pending() == 0 and sessions.outbox.pending() == 0
        assert len(notices(outbox)) == 4
        assert bus.dead_letters("registry.selection", timeout=0.1) == []
        assert bus.dead_letters("sessions", timeout=0.1) == []
    finally:
        sessions.close()


# --- in a browser ---------------------------------------------------------------------------


@pytest.mark.browser
def test_the_seat_page_in_chromium(make_registry, page, live_server):
    app, ctx, codes, ids, _ = drawn(make_registry)
    url = live_server(app)
    page.goto(f"{url}/signup")
    page.get_by_label("Din kode fra invitationen").fill(codes[0].lower())
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.get_attribute("html", "lang") == "da"
    assert page.locator("h1").inner_text() == "Bekræft din plads"
    assert "Du er trukket ud til Borgersamling om vand" in page.locator("#seat-intro").inner_text()
    page.get_by_role("button", name="Send mit svar").click()  # nothing chosen
    summary = page.locator("#error-summary")
    assert "Vælg, om du bekræfter eller afslår din plads." in summary.inner_text()
    assert page.evaluate("document.activeElement.id") == "error-summary"
    summary.get_by_role("link").click()
    assert page.evaluate("document.activeElement.id") == "field-answer"
    page.get_by_role("link", name="English").click()
    assert page.get_attribute("html", "lang") == "en"
    assert page.locator("h1").inner_text() == "Confirm your seat"
    # Keyboard only: the arrow keys move through a radio group.
    page.get_by_label("I confirm my seat").focus()
    page.keyboard.press("ArrowDown")
    assert page.get_by_label("I decline the seat").is_checked()
    page.get_by_label("I cannot take part on the session dates").check()
    page.get_by_role("button", name="Send my answer").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("h2#done").inner_text() == "You have declined the seat"
    assert states(ctx)[ids[0]] == "declined"
    [answered] = published(ctx, "seat_answered")
    assert (answered.answer, answered.reason) == ("declined", "dates")
    page.go_back()
    page.get_by_role("button", name="Send my answer").click()  # a second answer
    assert "You have already answered" in page.locator("#error-summary").inner_text()
