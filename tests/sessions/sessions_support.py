"""A sessions service on a temporary database and the in-process bus, with a token per
role and helpers to feed it sortition's events."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from services.common import events
from services.common.bus import InProcessBus
from services.contracts.kleroterion.v1 import platform_events_pb2, sortition_events_pb2
from services.sessions import app as sessions_app
from services.sessions.roles import ROLES
from services.sessions.settings import Settings


@dataclass
class Service:
    ctx: object
    app: object
    client: object
    consumer: object
    tokens: dict = field(default_factory=dict)
    published: list = field(default_factory=list)

    def call(self, method: str, path: str, role: str = "platform_operator", **kwargs):
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        return getattr(self.client, method)(path, headers=headers, **kwargs)

    def deliver(self, payload, assembly_id: str = "a1", event_id: str | None = None) -> str:
        envelope = events.new_event(payload, assembly_id=assembly_id, region="test",
                                    producer="sortition", event_id=event_id)
        self.ctx.bus.publish(envelope)
        while self.consumer.poll_once(0.05):
            pass
        return envelope.event_id

    def sent(self, event_type: str) -> list:
        topic = events.topic_for(event_type, self.ctx.bus.prefix)
        return [events.payload_of(events.decode(r.value)) for r in self.ctx.bus.read_topic(topic)]


def make_sessions(database_url: str, bus=None) -> Service:
    settings = Settings.from_env({}, database_url=database_url, plugins=("formats",))
    ctx = sessions_app.build(settings, bus=bus or InProcessBus(prefix=f"t{uuid.uuid4().hex[:8]}"))
    app = sessions_app.create_app(context=ctx)
    svc = Service(ctx, app, app.test_client(), sessions_app.consumers(ctx)[0])
    for role in ROLES:
        svc.tokens[role] = ctx.tokens.issue(f"{role}-1", role)
    return svc


def _people(ids, features):
    features = features or {}
    return [sortition_events_pb2.PanelMember(member_id=i, features=features.get(i, {}))
            for i in ids if i in features]


def panel_drawn(ids, features=None, quotas=()) -> sortition_events_pb2.PanelDrawn:
    """``features``: member id -> {category: value}; ``quotas``: dicts of feature, value,
    min, max (what sortition's draw carries since features travel with it)."""
    return sortition_events_pb2.PanelDrawn(
        run_id="r1", seed="s", member_ids=list(ids), members=_people(ids, features),
        quotas=[sortition_events_pb2.QuotaRange(**q) for q in quotas])


def substitutes_drawn(ids, run_id="r1", features=None) -> sortition_events_pb2.SubstitutesDrawn:
    # A top-up (another run_id) names the published run it fills seats of.
    return sortition_events_pb2.SubstitutesDrawn(run_id=run_id, published_run_id="r1",
                                                 substitute_ids=list(ids),
                                                 substitutes=_people(ids, features))


def assembly_created(fmt="panel", seats=12) -> platform_events_pb2.AssemblyCreated:
    return platform_events_pb2.AssemblyCreated(name="Klimapanel", format=fmt, seats=seats,
                                               scope="region")


def session_body(sid: str, day: int, hours: int = 7, **extra) -> dict:
    return {"id": sid, "title": f"Møde {day}", "starts_at": f"2025-03-{day:02d}T09:00:00",
            "ends_at": f"2025-03-{day:02d}T{9 + hours:02d}:00:00",
            "place": "Regionshuset, Hillerød",
            "host": "Region Hovedstaden",
            "agenda": [{"kind": "expert_talk", "title": "Oplæg", "minutes": 60},
                       {"id": f"{sid}-gw", "kind": "group_work", "title": "Gruppearbejde",
                        "minutes": 120, "table_size": 4},
                       {"kind": "plenary", "title": "Plenum", "minutes": 60}],
            "guests": [{"kind": "expert", "name": "Prof. Ida Hansen", "organisation": "DTU"}],
            **extra}
