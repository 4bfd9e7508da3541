"""The registry publishes through the transactional outbox: a change and its event commit
together, so a broker that is away (or a crash after the commit) loses nothing."""
from __future__ import annotations

import sqlalchemy as sa
from registry_support import Api, Outbox, extract, person_rows

from services.common import events
from services.common.bus import InProcessBus
from services.common.outbox import event_outbox
from services.registry import handlers, models


class FlakyBus(InProcessBus):
    """An in-process bus whose broker can go away: publishing raises while ``down``."""

    def __init__(self):
        super().__init__()
        self.down = False

    def publish_raw(self, topic, value, key=None, headers=None, wait=False):
        if self.down:
            raise ConnectionError("broker unreachable")
        return super().publish_raw(topic, value, key, headers, wait)


def _published(bus, event_type):
    return [events.decode(r.value) for r in bus.read_topic(events.topic_for(event_type))]


def _setup(make_registry, bus, size=6):
    app, ctx = make_registry(Outbox(), bus=bus)
    api = Api(app, ctx)
    api.assembly()
    assert api.upload("a1", extract(person_rows(12))).status_code == 201
    tid = api.approved_template("a1")
    rid = api.post("/api/assemblies/a1/rollouts", {"scope": "Danmark", "size": size}).json["id"]
    return app, ctx, api, tid, rid


def _pending(ctx) -> int:
    return ctx.outbox.pending()


def test_a_sign_up_during_a_broker_outage_is_accepted_and_published_later(make_registry):
    bus = FlakyBus()
    app, ctx, api, tid, rid = _setup(make_registry, bus)
    with ctx.engine.connect() as conn:
        codes = conn.scalars(sa.select(models.invitations.c.code)).all()
    bus.down = True
    client = app.test_client()
    r = client.post("/api/public/signup", json={"code": codes[0], "available": True,
                                                "consent": True,
                                                "answers": {"education": "long"}})
    assert r.status_code == 201, r.json
    registrant = r.json["registrant_id"]
    assert _published(bus, "signup_received") == []
    assert _pending(ctx) == 1  # kept with the sign-up, not lost with the broker
    bus.down = False
    assert ctx.outbox.publish_pending() == 1  # what the relay does when the broker is back
    [event] = _published(bus, "signup_received")
    assert event.signup_received.registrant_id == registrant
    assert event.signup_received.features["education"] == "long"


def test_a_send_during_an_outage_keeps_every_request_with_its_invitation_key(make_registry):
    bus = FlakyBus()
    app, ctx, api, tid, rid = _setup(make_registry, bus)
    bus.down = True
    r = api.post(f"/api/rollouts/{rid}/send", {"template_id": tid})
    assert r.status_code == 202 and r.json["requested"] == 6
    assert _pending(ctx) == 6
    bus.down = False
    assert ctx.outbox.publish_pending() == 6
    requested = [r for r in bus.read_topic(events.topic_for("invitation_requested"))]
    ids = {events.decode(r.value).invitation_requested.invitation_id for r in requested}
    with ctx.engine.connect() as conn:
        assert ids == set(conn.scalars(sa.select(models.invitations.c.id)))
        keys = dict(conn.execute(sa.select(event_outbox.c.event_id,
                                           event_outbox.c.routing_key)).all())
    # One routing key per invitation: a person's later events keep their order.
    for record in requested:
        envelope = events.decode(record.value)
        assert record.key.decode() == envelope.invitation_requested.invitation_id
        assert keys[envelope.event_id] == envelope.invitation_requested.invitation_id


def test_delivery_outcomes_and_the_pool_export_go_through_the_outbox(make_registry):
    bus = FlakyBus()
    app, ctx, api, tid, rid = _setup(make_registry, bus, size=3)
    api.post(f"/api/rollouts/{rid}/send", {"template_id": tid})
    consumer = handlers.channels.consumer(ctx)
    bus.down = True  # the broker leaves after the requests were read
    while consumer.poll_once(0.1):
        pass
    with ctx.engine.connect() as conn:
        assert set(conn.scalars(sa.select(models.deliveries.c.state))) == {"sent"}
    r = api.post("/api/assemblies/a1/pool-exports")
    assert r.status_code == 200
    assert _published(bus, "invitation_delivered") == [] and _pending(ctx) == 5
    bus.down = False
    ctx.outbox.publish_pending()
    assert len(_published(bus, "invitation_delivered")) == 3
    [exported] = _published(bus, "pool_exported")
    assert exported.pool_exported.sha256 == r.headers["X-Pool-SHA256"]
    [counted] = _published(bus, "funnel_counted")
    assert counted.funnel_counted.pool_version == exported.pool_exported.pool_version


def test_publish_soon_wakes_the_relay_instead_of_waiting_for_the_broker(make_registry):
    bus = FlakyBus()
    app, ctx, api, tid, rid = _setup(make_registry, bus)
    ctx.outbox.start_relay(interval=30)
    try:
        api.post(f"/api/rollouts/{rid}/send", {"template_id": tid})
        import time
        deadline = time.monotonic() + 5
        while _pending(ctx) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _pending(ctx) == 0  # the relay published at once, not after its 30 s tick
    finally:
        ctx.outbox.stop_relay()
