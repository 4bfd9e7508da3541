"""Sessions publishes through the transactional outbox: a change committed while the
broker is away, or just before a crash, still gets its event, exactly once."""
from __future__ import annotations

import time
import uuid

from sessions_support import assembly_created, make_sessions, panel_drawn, substitutes_drawn

from services.common import events
from services.common.bus import InProcessBus
from services.sessions.handlers import handlers

PANEL = [f"p{i:02d}" for i in range(12)]
FEATURES = {**{m: {"sex": "female" if i < 6 else "male"} for i, m in enumerate(PANEL)},
            "s1": {"sex": "male"}}
QUOTAS = [{"feature": "sex", "value": v, "min": 6, "max": 6} for v in ("female", "male")]


class FlakyBus(InProcessBus):
    """A bus whose broker refuses publishing while ``up`` is False."""

    up = True

    def publish_raw(self, topic, value, key=None, headers=None, wait=False):
        if not self.up:
            raise ConnectionError("broker unreachable")
        return super().publish_raw(topic, value, key, headers, wait)


def _seated(svc):
    svc.deliver(assembly_created())
    svc.deliver(panel_drawn(PANEL, FEATURES, QUOTAS))
    svc.deliver(substitutes_drawn(["s1"], features=FEATURES))


def test_changes_made_while_the_broker_is_away_get_their_events_when_it_returns(tmp_path):
    bus = FlakyBus(prefix=f"t{uuid.uuid4().hex[:8]}")
    svc = make_sessions(f"sqlite:///{tmp_path}/flaky.sqlite3", bus=bus)
    try:
        _seated(svc)
        bus.up = False
        # A woman withdraws; the only substitute is a man: a top-up is requested.
        r = svc.call("post", "/api/assemblies/a1/members/p01/withdraw", role="facilitator",
                     json={"reason": "moved", "before_session": 1})
        assert r.status_code == 200  # the change is committed although nothing was sent
        # The handler's events wait in the outbox too: a top-up of a woman fills the seat.
        handlers.handle(svc.ctx, events.new_event(
            substitutes_drawn(["t1"], run_id="top", features={"t1": {"sex": "female"}}),
            assembly_id="a1", region="test", producer="sortition"))
        assert svc.sent("member_withdrew") == [] and svc.sent("seat_offered") == []
        # Each of the two changes with its process_summarised.
        assert svc.ctx.outbox.pending() == 5
        bus.up = True
        assert svc.ctx.outbox.publish_pending() == 5
        assert [w.member_id for w in svc.sent("member_withdrew")] == ["p01"]
        assert [a.vacated_by for a in svc.sent("replacement_requested")] == ["p01"]
        assert [(o.vacated_by, o.substitute_id)
                for o in svc.sent("seat_offered")] == [("p01", "t1")]
        assert svc.ctx.outbox.pending() == 0
    finally:
        svc.consumer.close()
        svc.ctx.close()


def test_the_relay_publishes_once_the_broker_is_back(tmp_path):
    bus = FlakyBus(prefix=f"t{uuid.uuid4().hex[:8]}")
    svc = make_sessions(f"sqlite:///{tmp_path}/relay.sqlite3", bus=bus)
    svc.ctx.outbox.start_relay(interval=0.05)
    try:
        _seated(svc)
        bus.up = False
        svc.call("post", "/api/assemblies/a1/members/p07/withdraw", role="facilitator",
                 json={"before_session": 1})
        # member_withdrew, seat_offered (s1 is a man), process_summarised
        assert svc.ctx.outbox.pending() == 3
        bus.up = True
        deadline = time.monotonic() + 10
        while svc.ctx.outbox.pending() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [o.substitute_id for o in svc.sent("seat_offered")] == ["s1"]
    finally:
        svc.consumer.close()
        svc.ctx.close()


def test_a_crash_between_commit_and_publish_is_made_good_at_start_up(tmp_path):
    url = f"sqlite:///{tmp_path}/crash.sqlite3"
    bus = InProcessBus(prefix=f"t{uuid.uuid4().hex[:8]}")
    first = make_sessions(url, bus=bus)
    _seated(first)
    first.ctx.outbox.try_publish = lambda: 0  # the process dies right after the commit
    first.call("post", "/api/assemblies/a1/members/p07/withdraw", role="facilitator",
               json={"before_session": 1})
    assert first.sent("member_withdrew") == []
    first.consumer.close()
    first.ctx.engine.dispose()
    second = make_sessions(url, bus=bus)
    try:
        assert second.ctx.outbox.publish_pending() == 3  # what `kleroterion serve` does first
        assert second.ctx.outbox.publish_pending() == 0
        assert [w.member_id for w in second.sent("member_withdrew")] == ["p07"]
    finally:
        second.consumer.close()
        second.ctx.close()
