"""The import and the sending path on PostgreSQL, and redelivery on a real Kafka broker."""
from __future__ import annotations

import uuid
from collections import Counter

import pytest
import sqlalchemy as sa
from registry_support import Api, Outbox, extract, person_rows

from services.common.bus import KafkaBus, KafkaConfig
from services.registry import handlers, models

KEY = "q3W2l9rsN8oYB2m0TlPZ9QeQJg2YbZ9r3u5X5f8Hk0o="


@pytest.mark.postgres
def test_import_and_send_on_postgresql(make_registry, postgres_database):
    outbox = Outbox()
    app, ctx = make_registry(outbox, database_url=postgres_database, encryption_key=KEY)
    api = Api(app, ctx)
    api.assembly()
    rows = person_rows(40)
    bad = api.upload("a1", extract(rows + [rows[2]]))
    assert bad.status_code == 422 and bad.json["errors"][0]["row"] == 42
    assert api.upload("a1", extract(rows)).status_code == 201
    tid = api.approved_template("a1")
    rid = api.post("/api/assemblies/a1/rollouts", {"scope": "Hovedstaden", "size": 12}).json["id"]
    consumer = handlers.channels.consumer(ctx)
    api.post(f"/api/rollouts/{rid}/send", {"template_id": tid})
    api.post(f"/api/rollouts/{rid}/send", {"template_id": tid})
    while consumer.poll_once(0.2):
        pass
    assert api.get(f"/api/rollouts/{rid}").json["invitations"] == {"sent": 12}
    sent = Counter(i.recipient.invitation_id for i in outbox.sent)
    assert len(sent) == 13 and max(sent.values()) == 1  # 12 + the test send


@pytest.mark.kafka
def test_redelivery_after_a_consumer_crash_does_not_send_twice(make_registry, kafka_bootstrap):
    outbox = Outbox()
    bus = KafkaBus(KafkaConfig((kafka_bootstrap,)), prefix=f"t{uuid.uuid4().hex[:8]}",
                   partitions=2, retry_backoff=0.01)
    app, ctx = make_registry(outbox, bus=bus)
    api = Api(app, ctx)
    api.assembly()
    assert api.upload("a1", extract(person_rows(30))).status_code == 201
    tid = api.approved_template("a1")
    rid = api.post("/api/assemblies/a1/rollouts", {"scope": "Danmark", "size": 10}).json["id"]
    with ctx.engine.connect() as conn:
        ids = conn.scalars(sa.select(models.invitations.c.id)).all()
    outbox.crash_after_send.add(ids[4])
    consumer = handlers.channels.consumer(ctx)
    api.post(f"/api/rollouts/{rid}/send", {"template_id": tid})
    with pytest.raises(SystemExit):
        for _ in range(60):
            consumer.poll_once(1.0)
    consumer.close(commit=False)  # the crash: nothing of that batch was committed
    again = handlers.channels.consumer(ctx)
    for _ in range(60):
        again.poll_once(1.0)
        states = api.get(f"/api/rollouts/{rid}").json["invitations"]
        if states == {"sent": 10}:
            break
    again.close()
    assert states == {"sent": 10}
    sent = Counter(i.recipient.invitation_id for i in outbox.sent)
    assert all(sent[i] == 1 for i in ids)
    bus.close()
