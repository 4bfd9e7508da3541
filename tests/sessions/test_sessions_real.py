"""The sessions service against the real components: Apache Kafka and PostgreSQL, and the
public programme in headless Chromium."""
from __future__ import annotations

import time
import uuid

import pytest
from sessions_support import (
    assembly_created,
    make_sessions,
    panel_drawn,
    session_body,
    substitutes_drawn,
)

from services.common import audit, events
from services.common.bus import KafkaBus, KafkaConfig

PANEL = [f"p{i:02d}" for i in range(12)]


@pytest.mark.kafka
def test_panel_drawn_from_kafka_seats_the_members_once(kafka_bootstrap, tmp_path):
    bus = KafkaBus(KafkaConfig(bootstrap_servers=(kafka_bootstrap,)),
                   prefix=f"t{uuid.uuid4().hex[:10]}", partitions=1, retry_backoff=0.01)
    svc = make_sessions(f"sqlite:///{tmp_path}/k.sqlite3", bus=bus)
    try:
        drawn = events.new_event(panel_drawn(PANEL), assembly_id="a1", region="test",
                                 producer="sortition")
        for envelope in (events.new_event(assembly_created(), assembly_id="a1", region="test",
                                          producer="platform"), drawn):
            bus.publish(envelope, wait=True)
        bus.publish(drawn, wait=True)  # the broker delivers it again
        handled, deadline = 0, time.monotonic() + 60
        while handled < 3 and time.monotonic() < deadline:
            handled += svc.consumer.poll_once(1.0)
        assert handled == 3
        comp = svc.call("get", "/api/assemblies/a1/composition").json
        assert comp["seated"] == 12 and len(comp["members"]) == 12
        applied = [e for e in audit.entries(svc.ctx.engine) if e.action == "event.panel_drawn"]
        assert len(applied) == 1
        # The service's own events go out on Kafka too.
        svc.call("post", "/api/assemblies/a1/members/p03/withdraw", role="facilitator",
                 json={"reason": "moved", "before_session": 3})
        bus.flush()
        out = bus.read_topic(events.topic_for("member_withdrew", bus.prefix), timeout=30)
        assert [events.decode(r.value).member_withdrew.member_id for r in out] == ["p03"]
    finally:
        svc.ctx.close()


@pytest.mark.postgres
def test_core_state_on_postgres_survives_a_restart(postgres_database):
    svc = make_sessions(postgres_database)
    first = svc.deliver(assembly_created())
    drawn = svc.deliver(panel_drawn(PANEL))
    svc.deliver(substitutes_drawn(["s1", "s2"]))
    features = {m: {"features": {"sex": "female" if i < 6 else "male"}}
                for i, m in enumerate(PANEL)}
    features.update({"s1": {"features": {"sex": "male"}}, "s2": {"features": {"sex": "female"}}})
    quotas = [{"feature": "sex", "value": v, "min": 6, "max": 6} for v in ("female", "male")]
    assert svc.call("put", "/api/assemblies/a1/composition",
                    json={"members": features, "quotas": quotas}).status_code == 200
    svc.call("post", "/api/assemblies/a1/sessions", json=session_body("s1", 1))
    svc.call("put", "/api/sessions/s1/attendance", role="facilitator",
             json={"member_id": "p01", "present": True})
    r = svc.call("post", "/api/assemblies/a1/members/p00/withdraw", role="facilitator",
                 json={"before_session": 1})
    assert {x["member_id"]: x["status"] for x in r.json["members"]}["s2"] == "offered"
    groups = svc.call("post", "/api/agenda-items/s1-gw/groups", role="facilitator", json={})
    assert groups.status_code == 200 and groups.json["tables"] == [["p01"]]  # check-in began
    svc.ctx.close()

    again = make_sessions(postgres_database)
    again.deliver(panel_drawn(PANEL), event_id=drawn)
    again.deliver(assembly_created(), event_id=first)
    comp = again.call("get", "/api/assemblies/a1/composition").json
    assert comp["seated"] == 12 and comp["quotas_ok"] and len(comp["members"]) == 14
    att = again.call("get", "/api/sessions/s1/attendance").json["members"]
    assert [x["member_id"] for x in att if x["present"]] == ["p01"]
    assert audit.verify_chain(again.ctx.engine) is None
    again.ctx.close()


@pytest.mark.browser
def test_public_programme_page_in_chromium(sessions, page, live_server):
    sessions.deliver(assembly_created())
    sessions.deliver(panel_drawn(PANEL))
    sessions.call("put", "/api/assemblies/a1/composition",
                  json={"members": {"p00": {"features": {}, "name": "Karen Jensen",
                                            "name_consent": True},
                                    "p01": {"features": {}, "name": "Ole Hemmelig"}}})
    for sid, day in (("s1", 1), ("s2", 8), ("s3", 15)):
        sessions.call("post", "/api/assemblies/a1/sessions", json=session_body(sid, day))
    base = live_server(sessions.app)
    page.goto(f"{base}/public/assemblies/a1/programme")
    assert page.get_attribute("html", "lang") == "da"
    assert page.locator("section.session").count() == 3
    assert page.text_content("#planned-hours").strip() == "21.0"
    assert "Karen Jensen" in page.text_content("#named")
    assert "Ole Hemmelig" not in page.content()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the language link is reachable by keyboard
    page.wait_for_url("**lang=en")
    assert page.get_attribute("html", "lang") == "en"
    assert "Session 1: Møde 1" in page.text_content("h2")
