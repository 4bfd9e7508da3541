"""The server's events on a real Apache Kafka broker."""
from __future__ import annotations

import uuid

import pytest
from sortition_support import pool_message, publish, small_instance, start_server

from services.common import events
from services.common.bus import KafkaBus, KafkaConfig
from services.contracts.kleroterion.v1 import sortition_pb2 as pb


@pytest.mark.kafka
def test_panel_drawn_reaches_kafka(kafka_bootstrap, tmp_path):
    prefix = f"t{uuid.uuid4().hex[:10]}"   # topics of this test only
    bus = KafkaBus(KafkaConfig(bootstrap_servers=(kafka_bootstrap,)), prefix=prefix, partitions=1)
    sortition = start_server(tmp_path, bus)
    try:
        updates = list(sortition.stub.ComputeDistribution(pb.ComputeDistributionRequest(
            assembly_id="asm-kafka", pool=pool_message(small_instance())), timeout=60))
        run_id = updates[-1].result.run_id
        publish(sortition.stub, run_id)
        drawn = sortition.stub.DrawPanel(pb.DrawPanelRequest(entered_by="Notary", run_id=run_id,
                                                             seed="9 9 9"), timeout=60)
        records = bus.read_topic(events.topic_for("panel_drawn", prefix), timeout=20)
        (envelope,) = [events.decode(r.value) for r in records]
        assert envelope.assembly_id == "asm-kafka" and envelope.producer == "sortition"
        assert envelope.panel_drawn.run_id == run_id
        assert list(envelope.panel_drawn.member_ids) == list(drawn.panel_ids)
        assert envelope.panel_drawn.panel_index == drawn.panel_index
        assert [m.member_id for m in envelope.panel_drawn.members] == list(drawn.panel_ids)
        assert all(set(m.features) == {"gender", "age"} for m in envelope.panel_drawn.members)
        assert len(envelope.panel_drawn.quotas) == 5
    finally:
        sortition.close()
        bus.close()
