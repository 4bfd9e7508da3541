"""The outbox: committed changes always get their events, even across a broker outage."""
import time

import pytest
import sqlalchemy as sa

from services.common import events, outbox, storage
from services.common.bus import InProcessBus
from services.contracts.kleroterion.v1.platform_events_pb2 import BusProbe


class FlakyBus(InProcessBus):
    """A bus whose broker is away until ``up`` is set."""

    up = False

    def publish_raw(self, topic, value, key=None, headers=None, wait=False):
        if not self.up:
            raise ConnectionError("broker unreachable")
        return super().publish_raw(topic, value, key, headers, wait)


def probe(i):
    return events.new_event(BusProbe(sequence=i), assembly_id="a", region="r", producer="t")


@pytest.fixture
def engine(tmp_path):
    eng = storage.make_engine(f"sqlite:///{tmp_path}/o.sqlite3")
    yield eng
    eng.dispose()


def test_events_follow_commits_and_survive_an_outage(engine):
    bus = FlakyBus()
    box = outbox.Outbox(engine, bus)
    with engine.begin() as conn:
        outbox.enqueue(conn, probe(1))
        outbox.enqueue_many(conn, [probe(2), probe(3)])
    with pytest.raises(RuntimeError):
        with engine.begin() as conn:
            outbox.enqueue(conn, probe(99))
            raise RuntimeError("the change failed")  # its event must never be published
    assert box.try_publish() == 0  # broker away: the request does not fail
    assert box.pending() == 3
    bus.up = True
    assert box.publish_pending() == 3
    assert box.pending() == 0 and box.publish_pending() == 0
    topic = events.topic_for("bus_probe")
    sent = [events.decode(r.value).bus_probe.sequence for r in bus.read_topic(topic)]
    assert sent == [1, 2, 3]


def test_relay_publishes_when_the_broker_returns(engine):
    bus = FlakyBus()
    box = outbox.Outbox(engine, bus).start_relay(interval=0.05)
    try:
        with engine.begin() as conn:
            outbox.enqueue(conn, probe(7))
        time.sleep(0.3)
        assert box.pending() == 1
        bus.up = True
        deadline = time.monotonic() + 10
        while box.pending() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert box.pending() == 0
    finally:
        box.stop_relay()
    with engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(outbox.event_outbox)) == 1


def test_an_event_id_already_in_the_outbox_is_written_once(engine):
    bus = FlakyBus()
    box = outbox.Outbox(engine, bus)
    event = probe(7)
    with engine.begin() as conn:
        assert outbox.enqueue_once(conn, event) is True
    with engine.begin() as conn:  # a retried call, before and after the event was published
        assert outbox.enqueue_once(conn, event) is False
    bus.up = True
    assert box.publish_pending() == 1
    with engine.begin() as conn:
        assert outbox.enqueue_once(conn, event) is False
    assert box.pending() == 0
