"""Helpers: a recommendations service on SQLite and the in-process bus, with a clock tests can set,
operator tokens for each role, and a panel seated through the sortition event."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from services.common import events
from services.common.bus import InProcessBus
from services.common.plugins import PluginHost
from services.contracts.kleroterion.v1.sortition_events_pb2 import PanelDrawn
from services.recommendations import app as service
from services.recommendations import models
from services.recommendations.settings import Settings

# Re-exported for the test modules, which import what they need from here.
__all__ = ["ASSEMBLY", "MEMBERS", "Clock", "InProcessBus", "PanelDrawn", "Service", "Settings"]

ASSEMBLY = "a-klima"
MEMBERS = [f"m{i:02d}" for i in range(1, 9)]


@dataclass
class Clock:
    today: date = date(2025, 3, 1)

    def __call__(self) -> date:
        return self.today


@dataclass
class Service:
    settings: Settings
    bus: InProcessBus
    clock: Clock
    ctx: object = None
    app: object = None
    client: object = None
    tokens: dict = field(default_factory=dict)
    consumer: object = None

    def start(self):
        self.ctx = service.build(self.settings, bus=self.bus,
                                 plugins=PluginHost(enabled=["formats", "reports"]))
        self.app = service.create_app(context=self.ctx, clock=self.clock)
        self.client = self.app.test_client()
        self.consumer = service.consumers(self.ctx)[0]
        return self

    def stop(self):
        self.consumer.close()
        self.ctx.engine.dispose()

    def token(self, role: str) -> str:
        if role not in self.tokens:
            self.tokens[role] = self.ctx.tokens.issue(f"{role}-1", role)
        return self.tokens[role]

    def call(self, method: str, path: str, role: str | None = "facilitator", **json):
        headers = {"Authorization": f"Bearer {self.token(role)}"} if role else {}
        kwargs = {"json": json} if method != "get" else {}
        return getattr(self.client, method)(path, headers=headers, **kwargs)

    def publish(self, payload, assembly: str = ASSEMBLY):
        self.bus.publish(events.new_event(payload, assembly_id=assembly, region="test",
                                          producer="test"))
        while self.consumer.poll_once(0.01):
            pass


def draft(recommendations, title="Flere cykelstier", **extra):
    body = {"title": title, "text": f"{title}: tekst", "rationale": "Fordi",
            "theme": "Transport", "values": ["sundhed"], **extra}
    r = recommendations.call("post", f"/assemblies/{ASSEMBLY}/recommendations", **body)
    assert r.status_code == 201, r.json
    return r.json


def voting_round(recommendations, rec_id, present=MEMBERS, **extra):
    r = recommendations.call("post", f"/recommendations/{rec_id}/rounds", **extra)
    assert r.status_code == 201, r.json
    round_id = r.json["id"]
    r = recommendations.call("put", f"/rounds/{round_id}/roll-call", present=list(present))
    assert r.status_code == 200, r.json
    return round_id


def codes(recommendations, members=MEMBERS):
    out = {}
    for m in members:
        r = recommendations.call("post", f"/assemblies/{ASSEMBLY}/members/{m}/code")
        assert r.status_code == 201, r.json
        out[m] = r.json["member_code"]
    return out


def vote(recommendations, round_id, code, level):
    return recommendations.client.post(f"/rounds/{round_id}/ballots", json={"member_code": code,
                                                                            "level": level})


def adopt(recommendations, title="Flere cykelstier",
          levels=("full_support",) * 6 + ("opposition",) * 2):
    rec = draft(recommendations, title)
    round_id = voting_round(recommendations, rec["id"])
    member_codes = codes(recommendations)
    for member, level in zip(MEMBERS, levels, strict=False):
        assert vote(recommendations, round_id, member_codes[member], level).status_code == 201
    r = recommendations.call("post", f"/rounds/{round_id}/close")
    assert r.status_code == 200, r.json
    return rec["id"], r.json


def cast_levels(recommendations, round_id=None):
    """The ballots as the levels they hold (sorted): the service keeps only counts."""
    t = models.round_tallies
    query = sa.select(t.c.level, t.c.count)
    if round_id is not None:
        query = query.where(t.c.round_id == round_id)
    with recommendations.ctx.engine.connect() as conn:
        return sorted(level for level, count in conn.execute(query) for _ in range(count))
