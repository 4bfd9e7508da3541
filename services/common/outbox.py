"""The transactional outbox: an event is written in the same transaction as the change it
announces, and published from there.

Publishing straight to the bus after a commit loses the event if the process dies in
between, or if the broker is away; publishing before the commit announces changes that may
roll back. With the outbox, a committed change always gets its event: ``publish_pending``
runs after each commit (low latency), at start-up (what a crash left behind) and in a relay
thread (what the broker refused while it was away). Publishing twice is harmless because
consumers skip event ids they have applied.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from services.common import events
from services.common.bus import Bus, Receipt
from services.contracts.kleroterion.v1.envelope_pb2 import Envelope

log = logging.getLogger(__name__)

_meta = sa.MetaData()
event_outbox = sa.Table(
    "event_outbox", _meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.String(64), nullable=False, unique=True),
    sa.Column("routing_key", sa.String(200), nullable=True),
    sa.Column("envelope", sa.LargeBinary, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
)
sa.Index("ix_event_outbox_pending", event_outbox.c.published_at, event_outbox.c.id)


def create_tables(engine: Engine) -> None:
    _meta.create_all(engine)


def enqueue(conn: Connection, envelope: Envelope, key: str | None = None) -> None:
    """Write ``envelope`` to the outbox inside the caller's transaction."""
    conn.execute(event_outbox.insert().values(
        event_id=envelope.event_id, routing_key=key, envelope=events.encode(envelope),
        created_at=datetime.now(UTC)))


def enqueue_once(conn: Connection, envelope: Envelope, key: str | None = None) -> bool:
    """``enqueue`` unless an event with this id is already in the outbox (a retried call
    whose event id is derived from its result); True when written now."""
    if conn.scalar(sa.select(sa.func.count()).select_from(event_outbox)
                   .where(event_outbox.c.event_id == envelope.event_id)):
        return False
    enqueue(conn, envelope, key)
    return True


def enqueue_many(conn: Connection, envelopes: Iterable[Envelope], key: str | None = None,
                 *, keys: Sequence[str | None] | None = None) -> int:
    """Write many envelopes in one statement; ``keys`` gives each its own routing key (e.g.
    one per invitation, so a person's events keep their order), else ``key`` for all."""
    envelopes = list(envelopes)
    if keys is not None and len(keys) != len(envelopes):
        raise ValueError(f"keys: {len(keys)} keys for {len(envelopes)} envelopes")
    now = datetime.now(UTC)
    rows = [{"event_id": e.event_id, "routing_key": keys[n] if keys is not None else key,
             "envelope": events.encode(e), "created_at": now} for n, e in enumerate(envelopes)]
    if rows:
        conn.execute(event_outbox.insert(), rows)
    return len(rows)


class Outbox:
    def __init__(self, engine: Engine, bus: Bus, batch: int = 1000) -> None:
        self.engine = engine
        self.bus = bus
        self.batch = batch
        self._lock = threading.Lock()  # one publisher at a time keeps the order
        # Set by a caller that found the lock taken: the holder goes round once more, so
        # rows committed while it was publishing are not left for the relay's next tick.
        self._again = threading.Event()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        create_tables(engine)

    def pending(self) -> int:
        with self.engine.connect() as conn:
            return conn.scalar(sa.select(sa.func.count()).select_from(event_outbox)
                               .where(event_outbox.c.published_at.is_(None))) or 0

    def publish_pending(self) -> int:
        """Publish everything not yet published, oldest first; return how many. Raises if
        the bus refuses (what was not acknowledged stays pending)."""
        self._lock.acquire()
        return self._publish_holding_lock()

    def _publish_holding_lock(self) -> int:
        published = 0
        while True:
            try:
                self._again.clear()
                published += self._publish_batches()
            finally:
                self._lock.release()
            # Someone committed rows while we held the lock and did not wait for it.
            if not self._again.is_set() or not self._lock.acquire(blocking=False):
                return published

    def _publish_batches(self) -> int:
        # Pipelined: batch k is confirmed (acknowledged, then marked published) while batch
        # k+1 is on its way, so the producer never idles on a flush between batches. What
        # was sent but not confirmed when something fails stays pending and goes again
        # (consumers skip event ids they have applied).
        published, last_id = 0, 0
        inflight: tuple[list[int], list[Receipt | None]] | None = None
        while True:
            with self.engine.connect() as conn:
                rows = conn.execute(
                    sa.select(event_outbox.c.id, event_outbox.c.routing_key,
                              event_outbox.c.envelope)
                    .where(event_outbox.c.published_at.is_(None), event_outbox.c.id > last_id)
                    .order_by(event_outbox.c.id).limit(self.batch)).fetchall()
            if rows:
                receipts = [self.bus.publish(events.decode(row.envelope), key=row.routing_key)
                            for row in rows]
                last_id = rows[-1].id
            else:
                self.bus.flush(timeout=60)
            if inflight is not None:
                published += self._confirm(*inflight)
            if not rows:
                return published
            inflight = ([r.id for r in rows], receipts)

    def _confirm(self, ids: list[int], receipts: list[Receipt | None]) -> int:
        for receipt in receipts:
            if receipt is not None:
                receipt.get(timeout=60)  # raises what the broker refused
        with self.engine.begin() as conn:
            conn.execute(event_outbox.update().where(event_outbox.c.id.in_(ids))
                         .values(published_at=datetime.now(UTC)))
        return len(ids)

    def publish_soon(self) -> int:
        """After a commit, without making the caller wait for the broker: with the relay
        running, wake it (a request's answer never waits on a broker outage); without it,
        publish now unless another thread is publishing, which then also takes these rows.
        Never raises: what the bus refuses stays pending for the relay."""
        if self._thread is not None and self._thread.is_alive() and not self._stop.is_set():
            self._wake.set()
            return 0
        self._again.set()
        if not self._lock.acquire(blocking=False):
            return 0
        try:
            return self._publish_holding_lock()
        except Exception as exc:  # noqa: BLE001 - the relay (or the next call) retries
            log.warning("outbox publish deferred", extra={"error": f"{type(exc).__name__}: {exc}"})
            self._wake.set()
            return 0

    def try_publish(self) -> int:
        """``publish_pending`` for request handlers: a broker outage must not fail the
        request whose change is already committed; the relay publishes later."""
        try:
            return self.publish_pending()
        except Exception as exc:  # noqa: BLE001 - the relay retries
            log.warning("outbox publish deferred", extra={"error": f"{type(exc).__name__}: {exc}"})
            self._wake.set()
            return 0

    # --- relay ------------------------------------------------------------------------

    def start_relay(self, interval: float = 1.0) -> Outbox:
        def loop() -> None:
            while not self._stop.is_set():
                self._wake.wait(interval)
                self._wake.clear()
                if self._stop.is_set():
                    break
                try:
                    self.publish_pending()
                except Exception as exc:  # noqa: BLE001 - the broker may be away; retry
                    log.warning("outbox relay retrying",
                                extra={"error": f"{type(exc).__name__}: {exc}"})

        self._thread = threading.Thread(target=loop, name="outbox-relay", daemon=True)
        self._thread.start()
        return self

    def stop_relay(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
