"""Events through the shared outbox: a committed change always gets its event, across a
broker outage, a restart, and the move from the service's own rec_outbox (migration 2)."""
import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from recommendations_support import ASSEMBLY, MEMBERS, PanelDrawn, Settings, adopt

from services.common import events, outbox, storage
from services.common.bus import InProcessBus
from services.contracts.kleroterion.v1.recommendations_events_pb2 import AnswerRecorded
from services.recommendations.migrations import MIGRATIONS


class FlakyBus(InProcessBus):
    """A bus whose broker can be taken away (``up = False``)."""

    up = True

    def publish_raw(self, topic, value, key=None, headers=None, wait=False):
        if not self.up:
            raise ConnectionError("broker unreachable")
        return super().publish_raw(topic, value, key, headers, wait)


def _published(bus, event_type):
    return [events.decode(r.value) for r in bus.read_topic(events.topic_for(event_type))]


def test_adoption_during_an_outage_is_published_after_a_restart(make_recommendations):
    bus = FlakyBus()
    recommendations = make_recommendations(bus=bus)
    recommendations.publish(PanelDrawn(run_id="r1", member_ids=MEMBERS))
    bus.up = False
    rec_id, result = adopt(recommendations)  # the request succeeds: the change is committed
    assert result["result"]["threshold_met"]
    assert recommendations.ctx.outbox.pending() == 1
    assert _published(bus, "recommendation_adopted") == []
    recommendations.stop()  # the process goes before the relay could publish
    bus.up = True
    again = make_recommendations(bus=bus)  # start-up publishes what was left
    assert again.ctx.outbox.pending() == 0
    adopted = _published(bus, "recommendation_adopted")
    assert [e.recommendation_adopted.recommendation_id for e in adopted] == [rec_id]
    assert again.ctx.outbox.publish_pending() == 0  # nothing goes out twice


def test_a_failed_change_leaves_no_event(recommendations):
    rec_id, _ = adopt(recommendations)
    recommendations.call("put", f"/assemblies/{ASSEMBLY}/handover", role="administration",
                         receiving_body="Regionsrådet", body_kind="regional_council",
                         handed_over_on="2025-03-01")
    with recommendations.ctx.engine.connect() as conn:
        before = conn.scalar(sa.select(sa.func.count()).select_from(outbox.event_outbox))
    r = recommendations.call("post", f"/recommendations/{rec_id}/answers", role="administration",
                             answer="accepted", reasons="Ja", answered_on="2025-03-01",
                             answered_by="x" * 201)
    assert r.status_code == 400 and r.json["field"] == "answered_by"
    with recommendations.ctx.engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(outbox.event_outbox)) == before


def _envelope(n):
    return events.new_event(AnswerRecorded(recommendation_id=f"r{n}", answer="accepted",
                                           answered_by="Regionsrådet",
                                           answered_on="2025-03-01"),
                            assembly_id=ASSEMBLY, region="test", producer="recommendations")


def test_migration_2_moves_unpublished_events_to_the_shared_outbox(tmp_path, make_recommendations):
    """A database of version 1 with a backlog in rec_outbox: after the upgrade the backlog is
    in event_outbox in its order, the published rows are not sent again, and start-up
    publishes the rest."""
    _check_migration_2(tmp_path, make_recommendations, "")


@pytest.mark.postgres
def test_migration_2_on_postgres(tmp_path, make_recommendations, postgres_url):
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    name = f"t_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        _check_migration_2(tmp_path, make_recommendations, postgres_url.rsplit("/",
                                                                               1)[0] + f"/{name}")
    finally:
        for recommendations in make_recommendations.started:
            recommendations.ctx.engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def _check_migration_2(tmp_path, make_recommendations, database_url):
    settings = Settings.from_env({}, data_dir=str(tmp_path), database_url=database_url)
    engine = storage.make_engine(settings.database())
    assert storage.migrate(engine, "recommendations", MIGRATIONS[:1]) == [1]
    envelopes = [_envelope(n) for n in range(1, 6)]
    rec_outbox = sa.table("rec_outbox", sa.column("id"), sa.column("event_id"),
                          sa.column("envelope"), sa.column("created_at"),
                          sa.column("published_at"))
    t0 = datetime(2025, 3, 1, tzinfo=UTC)
    with engine.begin() as conn:
        # Ids out of insertion order: the order to keep is the id order.
        for rid, env, published in [(5, envelopes[3], None), (1, envelopes[0], t0),
                                    (2, envelopes[1], None), (9, envelopes[4], None),
                                    (3, envelopes[2], t0)]:
            conn.execute(rec_outbox.insert().values(
                id=rid, event_id=env.event_id, envelope=events.encode(env), created_at=t0,
                published_at=published))
    engine.dispose()

    bus = FlakyBus()
    bus.up = False  # look at the migrated rows before start-up publishes them
    recommendations = make_recommendations(bus=bus, database_url=database_url)
    with recommendations.ctx.engine.connect() as conn:
        assert storage.schema_version(recommendations.ctx.engine,
                                      "recommendations") == len(MIGRATIONS)
        assert "rec_outbox" not in sa.inspect(conn).get_table_names()
        rows = conn.execute(sa.select(outbox.event_outbox).order_by(outbox.event_outbox.c.id)
                            ).fetchall()
    unpublished = [envelopes[1], envelopes[3], envelopes[4]]  # ids 2, 5, 9
    assert [r.event_id for r in rows] == [e.event_id for e in unpublished]
    assert all(r.published_at is None and r.routing_key is None for r in rows)
    assert [events.decode(r.envelope) for r in rows] == unpublished
    bus.up = True
    assert recommendations.ctx.outbox.publish_pending() == 3
    sent = _published(bus, "answer_recorded")
    assert [e.event_id for e in sent] == [e.event_id for e in unpublished]
