"""The event bus: one contract, two implementations.

``KafkaBus`` is what a deployment runs (kafka-python against Apache Kafka); ``InProcessBus``
is the embedded default for one process on one machine. Both keep the same promises, and the
same contract tests (tests/common/test_bus_contract.py) hold them to it:

- a published event is delivered once to every consumer group subscribed to its type;
- a consumer commits only after its handler has succeeded, so a crash before the commit
  means redelivery, and the applied-events guard turns redelivery into a no-op;
- a message that cannot be decoded, or whose handler keeps failing, goes to the group's
  dead-letter topic after ``max_attempts`` tries, and the partition moves on;
- consumers of one group share the partitions between them.

A handler signals a *failed* event by raising an ``Exception``. Anything that is not an
``Exception`` (SystemExit, KeyboardInterrupt) is a process dying: it propagates without a
commit, exactly like a crash.
"""
from __future__ import annotations

import abc
import logging
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from services.common import events
from services.common.settings import ServiceSettings
from services.contracts.kleroterion.v1.envelope_pb2 import Envelope

log = logging.getLogger(__name__)

Handler = Callable[[Envelope], None]
# Handles every new event of one polled batch at once (one transaction instead of one per
# event); if it fails, the consumer falls back to one event at a time to find the poison.
BatchHandler = Callable[[list[Envelope]], None]


class Receipt(Protocol):
    """What a publish returns when there is something to wait for (a Kafka send's future):
    ``get`` blocks until the broker has acknowledged, and raises what it refused."""

    def get(self, timeout: float | None = None) -> object: ...


class AppliedEvents(Protocol):
    """Remembers which event ids a consumer group has applied (idempotent handling)."""

    def seen(self, group: str, event_id: str) -> bool: ...

    def record(self, group: str, event_id: str) -> None: ...

    def seen_many(self, group: str, event_ids: Sequence[str]) -> set[str]: ...

    def record_many(self, group: str, event_ids: Sequence[str]) -> None: ...


class MemoryAppliedEvents:
    """Applied-event memory for tests and short-lived processes."""

    def __init__(self) -> None:
        self._ids: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def seen(self, group: str, event_id: str) -> bool:
        with self._lock:
            return (group, event_id) in self._ids

    def record(self, group: str, event_id: str) -> None:
        with self._lock:
            self._ids.add((group, event_id))

    def seen_many(self, group: str, event_ids: Sequence[str]) -> set[str]:
        with self._lock:
            return {i for i in event_ids if (group, i) in self._ids}

    def record_many(self, group: str, event_ids: Sequence[str]) -> None:
        with self._lock:
            self._ids.update((group, i) for i in event_ids)


@dataclass(frozen=True)
class DeadLetter:
    """A message that a consumer group gave up on, with why and where it came from."""

    group: str
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    error: str
    attempts: int


@dataclass
class _Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]] = field(default_factory=list)


class Consumer(abc.ABC):
    """A member of a consumer group. Handling logic is shared; fetching and committing is
    each implementation's own."""

    def __init__(self, bus: Bus, group: str, event_types: Sequence[str], handler: Handler | None,
                 applied: AppliedEvents | None, max_attempts: int, retry_backoff: float,
                 batch_handler: BatchHandler | None = None) -> None:
        single: Handler
        if handler is not None:
            single = handler
        elif batch_handler is not None:
            only_batch = batch_handler

            def single(envelope: Envelope) -> None:
                only_batch([envelope])
        else:
            raise ValueError("handler: give a handler, a batch_handler or both")
        for event_type in event_types:
            events.topic_for(event_type)  # unknown types fail here, not at the first poll
        self.bus = bus
        self.group = group
        self.event_types = tuple(event_types)
        self.topics = tuple(events.topic_for(t, bus.prefix) for t in event_types)
        self.handler = single
        self.batch_handler = batch_handler
        self.applied = applied if applied is not None else MemoryAppliedEvents()
        self.max_attempts = max_attempts
        self.retry_backoff = retry_backoff
        self.handled = 0
        self.dead_lettered = 0

    @abc.abstractmethod
    def poll_once(self, timeout: float = 1.0) -> int:
        """Handle what is available within ``timeout`` seconds, commit, and return how many
        records were consumed (handled, skipped as duplicates or dead-lettered)."""

    @abc.abstractmethod
    def assignment(self) -> set[tuple[str, int]]:
        """The (topic, partition) pairs this member currently owns."""

    @abc.abstractmethod
    def close(self, commit: bool = True) -> None:
        """Leave the group. ``commit=False`` simulates a crash: uncommitted work is redone."""

    def run(self, stop: threading.Event, timeout: float = 0.5) -> None:
        """Poll until ``stop`` is set (the loop of a consumer worker thread)."""
        while not stop.is_set():
            self.poll_once(timeout)

    def _process(self, records: list[_Record]) -> None:
        """Handle a polled batch: decode, skip what was applied, then apply the rest."""
        decoded: list[tuple[_Record, Envelope]] = []
        for record in records:
            try:
                decoded.append((record, events.decode(record.value)))
            except events.EventError as exc:
                self._dead_letter(record, f"undecodable: {exc}", attempts=0)
        if not decoded:
            return
        seen = self.applied.seen_many(self.group, [e.event_id for _, e in decoded])
        fresh: dict[str, tuple[_Record, Envelope]] = {}
        for record, envelope in decoded:
            if envelope.event_id not in seen:
                fresh.setdefault(envelope.event_id, (record, envelope))
        if not fresh:
            return
        if self.batch_handler is not None and len(fresh) > 1:
            try:
                self.batch_handler([e for _, e in fresh.values()])
            except Exception as exc:  # noqa: BLE001 - retried one by one below
                log.warning("batch handler failed; handling one at a time",
                            extra={"group": self.group, "events": len(fresh),
                                   "error": f"{type(exc).__name__}: {exc}"})
            else:
                self.applied.record_many(self.group, list(fresh))
                self.handled += len(fresh)
                return
        for record, envelope in fresh.values():
            self._apply(record, envelope)

    def _apply(self, record: _Record, envelope: Envelope) -> None:
        last_error = ""
        for attempt in range(1, self.max_attempts + 1):
            try:
                self.handler(envelope)
            except Exception as exc:  # noqa: BLE001 - a failing handler is data, not a crash
                last_error = f"{type(exc).__name__}: {exc}"
                log.warning("handler failed", extra={"group": self.group, "topic": record.topic,
                                                     "event_id": envelope.event_id,
                                                     "attempt": attempt, "error": last_error})
                if attempt < self.max_attempts:
                    time.sleep(self.retry_backoff * 2 ** (attempt - 1))
                continue
            self.applied.record(self.group, envelope.event_id)
            self.handled += 1
            return
        self._dead_letter(record, last_error, attempts=self.max_attempts)

    def _dead_letter(self, record: _Record, error: str, attempts: int) -> None:
        self.dead_lettered += 1
        headers = [
            ("dlt.group", self.group.encode()),
            ("dlt.topic", record.topic.encode()),
            ("dlt.partition", str(record.partition).encode()),
            ("dlt.offset", str(record.offset).encode()),
            ("dlt.error", error.encode()[:2000]),
            ("dlt.attempts", str(attempts).encode()),
        ]
        self.bus._send_dead_letter(events.dead_letter_topic(self.group, self.bus.prefix),
                                   record.key, record.value, headers)


def parse_dead_letter(topic_record: _Record) -> DeadLetter:
    headers = {k: v.decode() for k, v in topic_record.headers}
    return DeadLetter(group=headers["dlt.group"], topic=headers["dlt.topic"],
                      partition=int(headers["dlt.partition"]), offset=int(headers["dlt.offset"]),
                      key=topic_record.key, value=topic_record.value, error=headers["dlt.error"],
                      attempts=int(headers["dlt.attempts"]))


class Bus(abc.ABC):
    def __init__(self, prefix: str = "kleroterion", partitions: int = 6, max_attempts: int = 3,
                 retry_backoff: float = 0.05) -> None:
        self.prefix = prefix
        self.partitions = partitions
        self.max_attempts = max_attempts
        self.retry_backoff = retry_backoff

    def publish(self, envelope: Envelope, key: str | None = None,
                wait: bool = False) -> Receipt | None:
        """Publish an event on its type's topic. Events with the same key (default: the
        assembly) keep their order. ``wait`` blocks until the broker has acknowledged;
        otherwise the returned receipt's ``get(timeout)`` does (None when there is nothing
        to wait for)."""
        topic = events.topic_for(envelope.event_type, self.prefix)
        routing = (key or envelope.assembly_id).encode()
        return self.publish_raw(topic, events.encode(envelope), routing,
                                [("event_type", envelope.event_type.encode())], wait=wait)

    @abc.abstractmethod
    def publish_raw(self, topic: str, value: bytes, key: bytes | None = None,
                    headers: list[tuple[str, bytes]] | None = None,
                    wait: bool = False) -> Receipt | None:
        """Publish bytes as they are (tooling, replays from the dead-letter topic, tests)."""

    @abc.abstractmethod
    def flush(self, timeout: float | None = None) -> None:
        """Block until every published message is acknowledged."""

    @abc.abstractmethod
    def ensure_topics(self, topics: Iterable[str], partitions: int | None = None) -> None:
        """Create topics that do not exist yet."""

    def ensure_event_topics(self, event_types: Iterable[str],
                            partitions: int | None = None) -> None:
        self.ensure_topics([events.topic_for(t, self.prefix) for t in event_types], partitions)

    @abc.abstractmethod
    def consumer(self, group: str, event_types: Sequence[str], handler: Handler | None = None, *,
                 applied: AppliedEvents | None = None,
                 batch_handler: BatchHandler | None = None) -> Consumer:
        """Join ``group`` and consume the given event types, with ``handler`` (one event at a
        time), ``batch_handler`` (every new event of a polled batch at once) or both (the
        handler then takes the events of a failed batch one at a time)."""

    @abc.abstractmethod
    def read_topic(self, topic: str, timeout: float = 5.0) -> list[_Record]:
        """Every record on a topic from the beginning (operators' view of a dead-letter
        topic; not a consumer group)."""

    def dead_letters(self, group: str, timeout: float = 5.0) -> list[DeadLetter]:
        return [parse_dead_letter(r)
                for r in self.read_topic(events.dead_letter_topic(group, self.prefix), timeout)]

    def _send_dead_letter(self, topic: str, key: bytes | None, value: bytes,
                          headers: list[tuple[str, bytes]]) -> None:
        # The dead letter must be durable before the offset is committed past the poison.
        self.publish_raw(topic, value, key, headers, wait=True)

    def close(self) -> None:  # noqa: B027 - optional: only a bus with connections has to close
        pass


# --- embedded ---------------------------------------------------------------------------


class InProcessBus(Bus):
    """Kafka's model in memory: partitioned topic logs, group offsets, and rebalancing by
    round-robin over the group's members. Nothing survives the process, which is fine for
    the embedded default: every service's state is in its database, not on the bus."""

    def __init__(self, *, prefix: str = "kleroterion", partitions: int = 6,
                 max_attempts: int = 3, retry_backoff: float = 0.05) -> None:
        super().__init__(prefix=prefix, partitions=partitions, max_attempts=max_attempts,
                         retry_backoff=retry_backoff)
        self._lock = threading.RLock()
        self._arrived = threading.Condition(self._lock)
        self._logs: dict[str, list[list[_Record]]] = {}
        self._committed: dict[tuple[str, str, int], int] = {}
        self._members: dict[str, list[InProcessConsumer]] = {}

    def ensure_topics(self, topics: Iterable[str], partitions: int | None = None) -> None:
        with self._lock:
            for topic in topics:
                if topic not in self._logs:
                    self._logs[topic] = [[] for _ in range(partitions or self.partitions)]
                    self._rebalance_all()

    def publish_raw(self, topic: str, value: bytes, key: bytes | None = None,
                    headers: list[tuple[str, bytes]] | None = None,
                    wait: bool = False) -> Receipt | None:
        with self._lock:
            self.ensure_topics([topic])
            log_ = self._logs[topic]
            partition = (zlib.crc32(key) if key else self._round_robin(topic)) % len(log_)
            records = log_[partition]
            records.append(_Record(topic, partition, len(records), key, value, list(headers or [])))
            self._arrived.notify_all()
        return None

    def _round_robin(self, topic: str) -> int:
        return sum(len(p) for p in self._logs[topic])

    def flush(self, timeout: float | None = None) -> None:
        pass

    def consumer(self, group: str, event_types: Sequence[str], handler: Handler | None = None, *,
                 applied: AppliedEvents | None = None,
                 batch_handler: BatchHandler | None = None) -> InProcessConsumer:
        member = InProcessConsumer(self, group, event_types, handler, applied,
                                   self.max_attempts, self.retry_backoff, batch_handler)
        with self._lock:
            self.ensure_topics(member.topics)
            self._members.setdefault(group, []).append(member)
            self._rebalance(group)
        return member

    def read_topic(self, topic: str, timeout: float = 5.0) -> list[_Record]:
        with self._lock:
            return [r for partition in self._logs.get(topic, []) for r in partition]

    def committed(self, group: str, topic: str, partition: int) -> int:
        with self._lock:
            return self._committed.get((group, topic, partition), 0)

    def _leave(self, member: InProcessConsumer) -> None:
        with self._lock:
            members = self._members.get(member.group, [])
            if member in members:
                members.remove(member)
                self._rebalance(member.group)

    def _rebalance_all(self) -> None:
        for group in self._members:
            self._rebalance(group)

    def _rebalance(self, group: str) -> None:
        # Like a Kafka rebalance: every member restarts from the committed offsets, so work
        # that was handled but not committed is delivered again (to whoever owns it now).
        members = self._members.get(group, [])
        topics = sorted({t for m in members for t in m.topics})
        pairs = [(t, p) for t in topics for p in range(len(self._logs.get(t, [])))]
        for m in members:
            m._positions = {}
        if not members:
            return
        index = 0
        for pair in pairs:
            for _ in range(len(members)):
                member = members[index % len(members)]
                index += 1
                if pair[0] in member.topics:
                    member._positions[pair] = self._committed.get((group, *pair), 0)
                    break


class InProcessConsumer(Consumer):
    bus: InProcessBus
    _positions: dict[tuple[str, int], int]

    def __init__(self, bus: InProcessBus, group: str, event_types: Sequence[str],
                 handler: Handler | None, applied: AppliedEvents | None, max_attempts: int,
                 retry_backoff: float, batch_handler: BatchHandler | None = None) -> None:
        super().__init__(bus, group, event_types, handler, applied, max_attempts, retry_backoff,
                         batch_handler)
        self._positions = {}
        self._closed = False

    def assignment(self) -> set[tuple[str, int]]:
        with self.bus._lock:
            return set(self._positions)

    def _fetch(self, limit: int = 500) -> list[_Record]:
        bus = self.bus
        batch: list[_Record] = []
        for (topic, partition), position in sorted(self._positions.items()):
            records = bus._logs[topic][partition]
            batch.extend(records[position:position + limit - len(batch)])
            if len(batch) >= limit:
                break
        return batch

    def poll_once(self, timeout: float = 1.0) -> int:
        if self._closed:
            raise RuntimeError(f"consumer of group {self.group!r} is closed")
        bus = self.bus
        deadline = time.monotonic() + timeout
        with bus._lock:
            batch = self._fetch()
            while not batch and time.monotonic() < deadline:
                bus._arrived.wait(max(0.0, deadline - time.monotonic()))
                batch = self._fetch()
            owned = dict(self._positions)
        self._process(batch)
        for record in batch:
            owned[(record.topic, record.partition)] = record.offset + 1
        with bus._lock:
            for pair, offset in owned.items():
                # Commit only partitions still ours: a rebalance in the meantime moved them.
                if pair in self._positions:
                    bus._committed[(self.group, *pair)] = offset
                    self._positions[pair] = offset
        return len(batch)

    def close(self, commit: bool = True) -> None:
        if not self._closed:
            self._closed = True
            self.bus._leave(self)


# --- Kafka ------------------------------------------------------------------------------


@dataclass(frozen=True)
class KafkaConfig:
    bootstrap_servers: tuple[str, ...]
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str = ""
    sasl_username: str = ""
    sasl_password: str = ""
    ssl_cafile: str = ""
    client_id: str = "kleroterion"

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments every kafka-python client takes (producer, consumer, admin)."""
        kwargs: dict[str, Any] = {"bootstrap_servers": list(self.bootstrap_servers),
                        "security_protocol": self.security_protocol,
                        "client_id": self.client_id}
        if self.sasl_mechanism:
            kwargs.update(sasl_mechanism=self.sasl_mechanism,
                          sasl_plain_username=self.sasl_username,
                          sasl_plain_password=self.sasl_password)
        if self.ssl_cafile:
            kwargs["ssl_cafile"] = self.ssl_cafile
        return kwargs


class KafkaBus(Bus):
    """The bus on Apache Kafka. The producer is idempotent with ``acks='all'``: a retried
    send is never duplicated, and an acknowledged event survives a broker restart."""

    def __init__(self, config: KafkaConfig, *, prefix: str = "kleroterion", partitions: int = 6,
                 max_attempts: int = 3, retry_backoff: float = 0.05) -> None:
        super().__init__(prefix=prefix, partitions=partitions, max_attempts=max_attempts,
                         retry_backoff=retry_backoff)
        from kafka import KafkaProducer  # imported late: the embedded default never needs it

        self.config = config
        self._producer = KafkaProducer(
            acks="all",
            enable_idempotence=True,
            linger_ms=5,
            retries=2**31 - 1,
            delivery_timeout_ms=120_000,
            **config.client_kwargs(),
        )
        self._admin: Any = None  # kafka-python's KafkaAdminClient, made on first use
        self._known_topics: set[str] = set()
        self._consumers: list[KafkaGroupConsumer] = []

    def publish_raw(self, topic: str, value: bytes, key: bytes | None = None,
                    headers: list[tuple[str, bytes]] | None = None,
                    wait: bool = False) -> Receipt | None:
        future: Receipt = self._producer.send(topic, value=value, key=key,
                                              headers=list(headers or []))
        if wait:
            future.get(timeout=60)
        return future

    def flush(self, timeout: float | None = None) -> None:
        self._producer.flush(timeout=timeout)

    def _admin_client(self) -> Any:
        if self._admin is None:
            from kafka.admin import KafkaAdminClient

            self._admin = KafkaAdminClient(**self.config.client_kwargs())
        return self._admin

    def ensure_topics(self, topics: Iterable[str], partitions: int | None = None) -> None:
        from kafka.errors import TopicAlreadyExistsError

        wanted = [t for t in topics if t not in self._known_topics]
        if not wanted:
            return
        admin = self._admin_client()
        existing = set(admin.list_topics())
        missing = [t for t in wanted if t not in existing]
        if missing:
            spec = {t: {"num_partitions": partitions or self.partitions, "replication_factor": -1}
                    for t in missing}
            try:
                admin.create_topics(spec, wait_for_metadata=True)
            except TopicAlreadyExistsError:
                pass  # another service created it between our list and create
        self._known_topics.update(wanted)

    def consumer(self, group: str, event_types: Sequence[str], handler: Handler | None = None, *,
                 applied: AppliedEvents | None = None,
                 batch_handler: BatchHandler | None = None) -> KafkaGroupConsumer:
        member = KafkaGroupConsumer(self, group, event_types, handler, applied,
                                    self.max_attempts, self.retry_backoff, batch_handler)
        self._consumers.append(member)
        return member

    def read_topic(self, topic: str, timeout: float = 5.0) -> list[_Record]:
        from kafka import KafkaConsumer, TopicPartition

        reader = KafkaConsumer(enable_auto_commit=False, group_id=None,
                               **self.config.client_kwargs())
        try:
            partitions = reader.partitions_for_topic(topic) or set()
            tps = [TopicPartition(topic, p) for p in sorted(partitions)]
            if not tps:
                return []
            reader.assign(tps)
            reader.seek_to_beginning(*tps)
            ends = reader.end_offsets(tps)
            out: list[_Record] = []
            deadline = time.monotonic() + timeout
            while any(reader.position(tp) < ends[tp] for tp in tps) and time.monotonic() < deadline:
                for messages in reader.poll(timeout_ms=200).values():
                    out.extend(_Record(m.topic, m.partition, m.offset, m.key, m.value,
                                       list(m.headers or [])) for m in messages)
            return out
        finally:
            reader.close()

    def close(self) -> None:
        for member in self._consumers:
            member.close()
        self._producer.flush()
        self._producer.close()
        if self._admin is not None:
            self._admin.close()


class KafkaGroupConsumer(Consumer):
    bus: KafkaBus

    def __init__(self, bus: KafkaBus, group: str, event_types: Sequence[str],
                 handler: Handler | None, applied: AppliedEvents | None, max_attempts: int,
                 retry_backoff: float, batch_handler: BatchHandler | None = None) -> None:
        super().__init__(bus, group, event_types, handler, applied, max_attempts, retry_backoff,
                         batch_handler)
        from kafka import KafkaConsumer

        bus.ensure_topics(self.topics)
        self._consumer = KafkaConsumer(
            *self.topics,
            group_id=self.group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=500,
            **bus.config.client_kwargs(),
        )
        self._closed = False

    def assignment(self) -> set[tuple[str, int]]:
        return {(tp.topic, tp.partition) for tp in self._consumer.assignment()}

    def poll_once(self, timeout: float = 1.0) -> int:
        from kafka.structs import OffsetAndMetadata

        batches = self._consumer.poll(timeout_ms=int(timeout * 1000))
        records = [_Record(m.topic, m.partition, m.offset, m.key, m.value, list(m.headers or []))
                   for messages in batches.values() for m in messages]
        self._process(records)
        offsets = {tp: OffsetAndMetadata(messages[-1].offset + 1, "", -1)
                   for tp, messages in batches.items() if messages}
        if offsets:
            self._consumer.commit(offsets)
        return len(records)

    def close(self, commit: bool = True) -> None:
        if not self._closed:
            self._closed = True
            # Offsets are committed explicitly after handling; autocommit on close would
            # commit the position of records that were fetched but not handled.
            self._consumer.close(autocommit=False)


def bus_from_settings(settings: ServiceSettings) -> Bus:
    """The bus a service's settings ask for."""
    if settings.bus == "kafka":
        return KafkaBus(KafkaConfig(
            bootstrap_servers=settings.kafka_bootstrap,
            security_protocol=settings.kafka_security_protocol,
            sasl_mechanism=settings.kafka_sasl_mechanism,
            sasl_username=settings.kafka_sasl_username,
            sasl_password=settings.kafka_sasl_password,
            ssl_cafile=settings.kafka_ssl_cafile,
            client_id=f"kleroterion-{settings.service}",
        ), prefix=settings.topic_prefix, partitions=settings.topic_partitions,
            max_attempts=settings.max_delivery_attempts)
    return InProcessBus(prefix=settings.topic_prefix, partitions=settings.topic_partitions,
                        max_attempts=settings.max_delivery_attempts)


class ConsumerWorker:
    """Runs consumers on a background thread until stopped (one per service process)."""

    def __init__(self, consumers: Sequence[Consumer]) -> None:
        self.consumers = list(consumers)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> ConsumerWorker:
        for c in self.consumers:
            t = threading.Thread(target=c.run, args=(self._stop,), daemon=True,
                                 name=f"consumer-{c.group}")
            t.start()
            self._threads.append(t)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout)
        for c in self.consumers:
            c.close()
