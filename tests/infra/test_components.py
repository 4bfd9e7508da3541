"""The real components that tools/ starts answer as the services expect them to.

These fail first and plainest when a component is broken, before the service tests that
use it fail for reasons that look like bugs of their own.
"""
from __future__ import annotations

import uuid

import pytest


@pytest.mark.kafka
def test_kafka_round_trip_with_idempotent_producer(kafka_bootstrap):
    from kafka import KafkaConsumer, KafkaProducer

    topic = f"klero-infra-{uuid.uuid4().hex[:12]}"
    payload = uuid.uuid4().hex.encode()
    # The services produce with acks=all and idempotence on; a broker that cannot serve
    # that (an old protocol, a missing transaction-state topic) must fail here.
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all",
                             enable_idempotence=True, request_timeout_ms=15000)
    try:
        # Auto-creation of the topic happens on this first send.
        meta = producer.send(topic, key=b"probe", value=payload).get(timeout=30)
        producer.flush(timeout=30)
    finally:
        producer.close(timeout=10)
    assert meta.topic == topic and meta.offset == 0

    consumer = KafkaConsumer(topic, bootstrap_servers=kafka_bootstrap,
                             group_id=f"klero-infra-{uuid.uuid4().hex[:8]}",
                             auto_offset_reset="earliest", enable_auto_commit=False,
                             consumer_timeout_ms=30000)
    try:
        received = next(iter(consumer))
        consumer.commit()
    finally:
        consumer.close()
    assert (received.key, received.value) == (b"probe", payload)


@pytest.mark.postgres
def test_postgres_answers_through_sqlalchemy(postgres_url):
    import sqlalchemy as sa

    assert postgres_url.startswith("postgresql+psycopg://"), postgres_url
    engine = sa.create_engine(postgres_url)
    try:
        with engine.begin() as conn:
            version = conn.execute(sa.text("SHOW server_version_num")).scalar_one()
            conn.execute(sa.text("CREATE TEMPORARY TABLE probe (n integer)"))
            conn.execute(sa.text("INSERT INTO probe VALUES (1), (2), (3)"))
            total = conn.execute(sa.text("SELECT sum(n) FROM probe")).scalar_one()
    finally:
        engine.dispose()
    # SQLAlchemy 2 supports PostgreSQL 12 and later; Debian 12 ships 15.
    assert int(version) >= 120000
    assert total == 6
