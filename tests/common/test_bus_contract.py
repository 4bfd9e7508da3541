"""The bus contract, held against the in-process bus and the real Apache Kafka broker."""
from __future__ import annotations

import threading
import time
import uuid
from collections import Counter

import pytest

from services.common import events
from services.common.bus import InProcessBus, KafkaBus, KafkaConfig, MemoryAppliedEvents
from services.contracts.kleroterion.v1.platform_events_pb2 import BusProbe


class Crash(BaseException):
    """The consumer process dying in the middle of a batch."""


@pytest.fixture(params=["inprocess", pytest.param("kafka", marks=pytest.mark.kafka)])
def make_bus(request):
    prefix = f"test{uuid.uuid4().hex[:10]}"
    made = []

    def factory(partitions: int = 1):
        if request.param == "inprocess":
            bus = InProcessBus(prefix=prefix, partitions=partitions, max_attempts=3,
                               retry_backoff=0.001)
        else:
            bootstrap = request.getfixturevalue("kafka_bootstrap")
            bus = KafkaBus(KafkaConfig(bootstrap_servers=(bootstrap,)), prefix=prefix,
                           partitions=partitions, max_attempts=3, retry_backoff=0.001)
        made.append(bus)
        return bus

    yield factory
    for bus in made:
        bus.close()


def probe(sequence: int, assembly: str = "a1", note: str = "") -> events.Envelope:
    return events.new_event(BusProbe(sequence=sequence, note=note), assembly_id=assembly,
                            region="test", producer="contract-test")


def drain(consumers, expected: int, seen, timeout: float = 60.0, until=None) -> None:
    """Poll every consumer (concurrently, as separate processes would) until ``seen`` holds
    ``expected`` items (or ``until()`` is true) and one more round brings nothing new."""
    until = until or (lambda: len(seen) >= expected)
    deadline = time.monotonic() + timeout
    stop = threading.Event()
    errors: list[BaseException] = []

    def loop(c):
        try:
            while not stop.is_set() and time.monotonic() < deadline:
                c.poll_once(0.2)
        except BaseException as exc:  # noqa: BLE001 - surfaced to the test below
            errors.append(exc)

    threads = [threading.Thread(target=loop, args=(c,)) for c in consumers]
    for t in threads:
        t.start()
    while not until() and time.monotonic() < deadline and not errors:
        time.sleep(0.05)
    time.sleep(0.5)  # a late duplicate would show up here
    stop.set()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def test_each_event_is_consumed_once_per_group(make_bus):
    bus = make_bus(partitions=2)
    seen = {"billing": [], "audit": []}
    consumers = [bus.consumer(group, ["bus_probe"],
                              lambda e, g=group: seen[g].append(e.bus_probe.sequence))
                 for group in seen]
    for i in range(20):
        bus.publish(probe(i, assembly=f"a{i % 3}"))
    bus.flush()
    drain(consumers, 40, _Both(seen))
    for group, got in seen.items():
        assert sorted(got) == list(range(20)), group


class _Both(list):
    """len() over several lists, for drain()."""

    def __init__(self, lists):
        super().__init__()
        self.lists = lists

    def __len__(self):
        return sum(len(v) for v in self.lists.values())


def test_crash_before_commit_redelivers_and_applies_once(make_bus):
    bus = make_bus()
    applied = MemoryAppliedEvents()  # a real service keeps this in its database
    effects: list[int] = []
    crash_on = {3}

    def handler(envelope):
        seq = envelope.bus_probe.sequence
        if seq in crash_on:
            crash_on.clear()
            raise Crash()
        effects.append(seq)

    for i in range(6):
        bus.publish(probe(i))
    bus.flush()

    first = bus.consumer("tally", ["bus_probe"], handler, applied=applied)
    with pytest.raises(Crash):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            first.poll_once(0.5)
    first.close(commit=False)
    assert effects == [0, 1, 2]  # applied, but never committed

    second = bus.consumer("tally", ["bus_probe"], handler, applied=applied)
    drain([second], 6, effects)
    second.close()
    # 0-2 were redelivered (nothing was committed) and skipped by the applied-events guard.
    assert effects == [0, 1, 2, 3, 4, 5]


def test_poison_messages_go_to_dead_letter_without_blocking(make_bus):
    bus = make_bus()
    handled: list[int] = []

    def handler(envelope):
        if envelope.bus_probe.note == "bad":
            raise ValueError("cannot apply this event")
        handled.append(envelope.bus_probe.sequence)

    topic = events.topic_for("bus_probe", bus.prefix)
    bus.publish(probe(0))
    bus.publish_raw(topic, b"\xff\x00 not protobuf", key=b"a1")  # same partition as a1
    bus.publish(probe(1, note="bad"))
    bus.publish(probe(2))
    bus.flush()

    consumer = bus.consumer("tally", ["bus_probe"], handler)
    drain([consumer], 2, handled)
    consumer.close()
    assert handled == [0, 2]

    letters = bus.dead_letters("tally", timeout=15)
    assert len(letters) == 2
    undecodable, failing = sorted(letters, key=lambda d: d.offset)
    assert undecodable.value == b"\xff\x00 not protobuf"
    assert "undecodable" in undecodable.error and undecodable.attempts == 0
    assert failing.attempts == 3 and "cannot apply this event" in failing.error
    assert events.decode(failing.value).bus_probe.sequence == 1
    assert failing.topic == topic

    # The committed position is past the poison: a new member of the group sees nothing.
    again: list[int] = []
    replay = bus.consumer("tally", ["bus_probe"], lambda e: again.append(1))
    for _ in range(5):
        replay.poll_once(0.5)
    replay.close()
    assert again == []


def test_consumers_of_one_group_share_partitions(make_bus):
    bus = make_bus(partitions=4)
    got: list[tuple[str, int]] = []
    lock = threading.Lock()

    def handler_for(name):
        def handler(envelope):
            with lock:
                got.append((name, envelope.bus_probe.sequence))
        return handler

    left = bus.consumer("share", ["bus_probe"], handler_for("left"))
    right = bus.consumer("share", ["bus_probe"], handler_for("right"))
    # Let both members join before anything is published, so the split is visible.
    drain([left, right], 0, [], timeout=60,
          until=lambda: bool(left.assignment()) and bool(right.assignment()))
    for i in range(40):
        bus.publish(probe(i, assembly=f"assembly-{i}"))
    bus.flush()
    drain([left, right], 40, got)
    owned_left, owned_right = left.assignment(), right.assignment()
    left.close()
    right.close()

    assert sorted(seq for _, seq in got) == list(range(40))
    assert owned_left and owned_right and not owned_left & owned_right
    assert len(owned_left | owned_right) == 4
    by_member = Counter(name for name, _ in got)
    assert by_member["left"] > 0 and by_member["right"] > 0


def test_unknown_event_type_is_refused(make_bus):
    bus = make_bus()
    with pytest.raises(events.EventError, match="event_type"):
        bus.consumer("g", ["no_such_event"], lambda e: None)


def test_batch_handler_gets_a_batch_and_falls_back_to_single_events(make_bus):
    bus = make_bus()
    batches: list[list[int]] = []

    def handle(envelopes):
        seqs = [e.bus_probe.sequence for e in envelopes]
        if 3 in seqs and len(seqs) == 1:
            raise ValueError("event 3 cannot be applied")
        if 3 in seqs:
            raise ValueError("a poisoned batch")
        batches.append(seqs)

    for i in range(6):
        bus.publish(probe(i))
    bus.flush()
    applied = MemoryAppliedEvents()
    consumer = bus.consumer("batch", ["bus_probe"], batch_handler=handle, applied=applied)
    drain([consumer], 5, _Flat(batches))
    consumer.close()
    # The poisoned batch was retried one event at a time: 3 went to the dead-letter topic.
    assert sorted(s for b in batches for s in b) == [0, 1, 2, 4, 5]
    assert [d.error for d in bus.dead_letters("batch", timeout=15)] == [
        "ValueError: event 3 cannot be applied"]
    published = {events.decode(r.value).bus_probe.sequence: events.decode(r.value).event_id
                 for r in bus.read_topic(events.topic_for("bus_probe", bus.prefix))}
    assert applied.seen_many("batch", list(published.values())) == {
        published[i] for i in (0, 1, 2, 4, 5)}


class _Flat(list):
    def __init__(self, lists):
        super().__init__()
        self.lists = lists

    def __len__(self):
        return sum(len(v) for v in self.lists)


def test_exactly_one_kind_of_handler(make_bus):
    bus = make_bus()
    with pytest.raises(ValueError, match="handler"):
        bus.consumer("g", ["bus_probe"])
