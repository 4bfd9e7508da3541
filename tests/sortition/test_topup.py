"""Top-ups through the bus, end to end on the in-process bus: sessions asks for a
replacement no substitute can give, sortition draws one keeping the seated members, and
sessions offers the seat to the newcomer, who keeps the quotas."""
from __future__ import annotations

import uuid

from sortition_support import pool_message, publish, start_server

from services.common import events
from services.common.bus import InProcessBus
from services.contracts.kleroterion.v1 import platform_events_pb2
from services.contracts.kleroterion.v1 import sortition_pb2 as pb
from services.sessions import app as sessions_app
from services.sessions.settings import Settings as SessionsSettings
from services.sortition import draw as drawing
from services.sortition.engine import Instance, Person, Quota


def tight_instance() -> Instance:
    """Gender quotas exact (3 + 3 of 6 seats): a substitute can only replace their own sex."""
    ages = ("young", "middle", "old")
    people = [Person(f"c{i:02d}", {"gender": "f" if i % 2 else "m", "age": ages[i % 3]})
              for i in range(30)]
    quotas = [Quota("gender", "f", 3, 3), Quota("gender", "m", 3, 3),
              *(Quota("age", a, 1, 3) for a in ages)]
    return Instance(people, quotas, 6)


def _drain(*consumers) -> None:
    while sum(c.poll_once(0.05) for c in consumers):
        pass


def _sent(bus, event_type):
    return [events.decode(r.value)
            for r in bus.read_topic(events.topic_for(event_type, bus.prefix))]


def test_a_replacement_request_is_answered_with_a_top_up_that_keeps_the_quotas(tmp_path):
    bus = InProcessBus(prefix=f"t{uuid.uuid4().hex[:8]}")
    sortition = start_server(tmp_path / "sortition", bus)
    settings = SessionsSettings.from_env({}, database_url=f"sqlite:///{tmp_path}/sessions.sqlite3",
                                         plugins=("formats",))
    ctx = sessions_app.build(settings, bus=bus)
    client = sessions_app.create_app(context=ctx).test_client()
    token = {"Authorization": f"Bearer {ctx.tokens.issue('f-1', 'facilitator')}"}
    sessions = sessions_app.consumers(ctx)[0]
    top_ups = sortition.server.consumers()[0]
    try:
        bus.publish(events.new_event(platform_events_pb2.AssemblyCreated(
            name="Panel", format="panel", seats=6), assembly_id="asm-1", region="test",
            producer="platform"))
        inst = tight_instance()
        result = list(sortition.stub.ComputeDistribution(pb.ComputeDistributionRequest(
            assembly_id="asm-1", pool=pool_message(inst)), timeout=60))[-1].result
        publish(sortition.stub, result.run_id)
        drawn = sortition.stub.DrawPanel(pb.DrawPanelRequest(
            entered_by="Notary", run_id=result.run_id, seed="1 2 3"), timeout=10)
        subs = sortition.stub.DrawSubstitutes(pb.DrawSubstitutesRequest(run_id=result.run_id,
                                                                        count=1), timeout=10)
        _drain(sessions)
        sex = {p.id: p.features["gender"] for p in inst.people}
        (sub,) = subs.substitute_ids
        # Someone of the other sex than the only substitute leaves: no one on the list fits.
        leaving = next(m for m in drawn.panel_ids if sex[m] != sex[sub])
        r = client.post(f"/api/assemblies/asm-1/members/{leaving}/withdraw", headers=token,
                        json={"reason": "moved", "before_session": 1})
        assert r.status_code == 200 and r.json["seated"] == 5
        (asked,) = _sent(bus, "replacement_requested")
        assert asked.replacement_requested.vacated_by == leaving

        _drain(top_ups)   # sortition draws the top-up ...
        _drain(sessions)  # ... and sessions offers the seat
        answers = [e for e in _sent(bus, "substitutes_drawn")
                   if e.substitutes_drawn.run_id != result.run_id]
        (answer,) = answers
        newcomers = list(answer.substitutes_drawn.substitute_ids)
        assert len(newcomers) == 1 and newcomers[0] not in drawn.panel_ids
        assert dict(answer.substitutes_drawn.substitutes[0].features)["gender"] == sex[leaving]
        assert answer.correlation_id == asked.event_id
        offered = [e.seat_offered for e in _sent(bus, "seat_offered")]
        assert [(o.vacated_by, o.substitute_id) for o in offered] == [(leaving, newcomers[0])]
        comp = client.get("/api/assemblies/asm-1/composition", headers=token).json
        assert comp["seated"] == 6 and comp["quotas_ok"]
        status = {x["member_id"]: x["status"] for x in comp["members"]}
        assert status[newcomers[0]] == "offered" and status[sub] == "substitute"

        # The top-up is a published, checkable draw: its lottery with the request's id as
        # the seed gives the stored panel, the seated members and the newcomer.
        run = sortition.server.store.latest_drawn("asm-1")
        assert run.seed == asked.event_id
        check = drawing.verify(run.lottery_json.encode(), run.seed, run.lottery_sha256)
        seated_now = set(drawn.panel_ids) - {leaving}
        assert set(check.panel) == seated_now | {newcomers[0]}
        # A redelivered request is answered once.
        bus.publish(asked)
        _drain(top_ups)
        assert len(_sent(bus, "substitutes_drawn")) == 2
    finally:
        sessions.close()
        top_ups.close()
        ctx.close()
        sortition.close()
