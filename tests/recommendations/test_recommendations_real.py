"""Against the real components: PostgreSQL for storage, Apache Kafka for the events."""
import uuid

import pytest
from recommendations_support import ASSEMBLY, MEMBERS, adopt, codes, draft, vote, voting_round

from services.common import audit, events
from services.common.bus import KafkaBus, KafkaConfig
from services.contracts.kleroterion.v1.sortition_events_pb2 import PanelDrawn


@pytest.mark.postgres
def test_drafting_voting_and_answers_on_postgres(make_recommendations, postgres_database):
    recommendations = make_recommendations(database_url=postgres_database)
    assert recommendations.ctx.engine.dialect.name == "postgresql"
    recommendations.publish(PanelDrawn(run_id="r1", member_ids=MEMBERS))
    rec = draft(recommendations)
    a = recommendations.call("post", f"/recommendations/{rec['id']}/amendments",
                             changes={"text": "Sikre stier"}).json
    assert recommendations.call("post", f"/amendments/{a['id']}/accept").json["version"] == 2
    round_id = voting_round(recommendations, rec["id"])
    c = codes(recommendations)
    for member in MEMBERS:
        assert vote(recommendations, round_id, c[member], "support").status_code == 201
    r = vote(recommendations, round_id, c["m01"], "support")
    assert r.status_code == 409 and r.json["field"] == "member_code"
    result = recommendations.call("post", f"/rounds/{round_id}/close").json["result"]
    assert result["support_share"] == 1.0 and result["threshold_met"]
    recommendations.call("put", f"/assemblies/{ASSEMBLY}/handover", role="administration",
                         receiving_body="Regionsrådet", body_kind="regional_council",
                         handed_over_on="2025-03-01")
    r = recommendations.call("post", f"/recommendations/{rec['id']}/answers", role="administration",
                             answer="accepted", reasons="Ja", answered_on="2025-03-01")
    assert r.status_code == 201 and r.json["answer_deadline"] == "2025-05-30"
    assert audit.verify_chain(recommendations.ctx.engine) is None


@pytest.mark.kafka
def test_recommendation_adopted_goes_through_kafka(make_recommendations, kafka_bootstrap):
    prefix = f"test{uuid.uuid4().hex[:10]}"
    bus = KafkaBus(KafkaConfig(bootstrap_servers=(kafka_bootstrap,)), prefix=prefix,
                   partitions=1, retry_backoff=0.01)
    try:
        bus.ensure_event_topics(["panel_drawn", "assembly_created", "seat_filled",
                                 "member_withdrew", "session_held"])
        recommendations = make_recommendations(bus=bus)
        recommendations.bus.publish(events.new_event(PanelDrawn(run_id="r1", member_ids=MEMBERS),
                                                     assembly_id=ASSEMBLY, region="test",
                                                     producer="sortition"), wait=True)
        for _ in range(30):  # the service's own consumer seats the panel from Kafka
            recommendations.consumer.poll_once(1.0)
            if recommendations.call("get",
                                    f"/assemblies/{ASSEMBLY}").json.get("seated_members") == 8:
                break
        rec_id, _ = adopt(recommendations)
        records = bus.read_topic(events.topic_for("recommendation_adopted", prefix), timeout=15)
        adopted = [events.decode(r.value) for r in records]
        assert len(adopted) == 1
        assert adopted[0].recommendation_adopted.recommendation_id == rec_id
        assert adopted[0].recommendation_adopted.support_share == 0.75
        assert adopted[0].producer == "recommendations" and adopted[0].assembly_id == ASSEMBLY
    finally:
        bus.close()
