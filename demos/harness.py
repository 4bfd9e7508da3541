"""The four services in one process: their real apps and servers on one in-process bus,
each with its own SQLite database under the output folder, driven through test clients
with operator tokens from each service's own token store."""
from __future__ import annotations

import pathlib
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, overload

import grpc
from flask import Flask
from werkzeug.datastructures import Headers
from werkzeug.test import TestResponse

from services.common import storage
from services.common.bus import Consumer, InProcessBus
from services.common.plugins import PluginHost
from services.common.service import ServiceContext
from services.contracts.kleroterion.v1 import sortition_pb2_grpc as pb_grpc
from services.recommendations import app as recommendations_app
from services.recommendations.settings import Settings as RecommendationsSettings
from services.registry import app as registry_app
from services.registry.context import RegistryContext
from services.registry.settings import Settings as RegistrySettings
from services.sessions import app as sessions_app
from services.sessions.settings import Settings as SessionsSettings
from services.sortition.models import RunStore
from services.sortition.server import SortitionServer
from services.sortition.settings import Settings as SortitionSettings

REGION_FILE = """\
# Written by `kleroterion demo`: Region Hovedstaden's channels, with outboxes in this folder.
region = "hovedstaden"
enabled_plugins = ["formats", "reports", "digital_post", "letter"]
channel_order = ["digital_post", "letter"]

[plugins.digital_post]
sender_cvr = "29190623"
sender_label = "Region Hovedstaden"
outbox = "{out}/channels/digital_post/outbox"
state_dir = "{out}/channels/digital_post/state"
document_format = "text"

[plugins.letter]
output_dir = "{out}/channels/letter"
state_dir = "{out}/channels/letter/state"
sender_name = "Region Hovedstaden"
sender_address = ["Kongens Vænge 2", "3400 Hillerød"]
return_address = "Region Hovedstaden, Kongens Vænge 2, 3400 Hillerød"
batch_size = 1000
"""


class Answer(Protocol):
    """What the demo reads from a service's answer. ``json`` is Any: every endpoint answers
    a JSON shape of its own, and the demo reads the fields it needs."""

    @property
    def json(self) -> Any: ...

    @property
    def data(self) -> bytes: ...

    @property
    def headers(self) -> Headers: ...

    @overload
    def get_data(self, as_text: Literal[False] = False) -> bytes: ...

    @overload
    def get_data(self, as_text: Literal[True]) -> str: ...


class Client:
    """A Flask test client that carries one operator token."""

    def __init__(self, app: Flask, token: str | None) -> None:
        app.testing = True  # a failing request raises with its traceback
        self.client = app.test_client()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def _check(self, r: TestResponse, expect: Collection[int]) -> TestResponse:
        if r.status_code not in expect:
            raise RuntimeError(f"{r.request.method} {r.request.path}: HTTP {r.status_code} "
                               f"{r.get_data(as_text=True)[:500]}")
        return r

    def get(self, url: str, expect: Collection[int] = (200,), **kw: Any) -> Answer:
        return self._check(self.client.get(url, headers=self.headers, **kw), expect)

    def post(self, url: str, body: object = None, expect: Collection[int] = (200, 201, 202),
             **kw: Any) -> Answer:
        if body is not None:
            kw["json"] = body
        return self._check(self.client.post(url, headers=self.headers, **kw), expect)

    def put(self, url: str, body: object = None, expect: Collection[int] = (200, 201),
            **kw: Any) -> Answer:
        return self._check(self.client.put(url, headers=self.headers, json=body, **kw), expect)


@dataclass
class Services:
    out: pathlib.Path
    bus: InProcessBus
    plugins: PluginHost
    registry: RegistryContext
    registry_app: Flask
    sessions: ServiceContext
    sessions_app: Flask
    recommendations: ServiceContext
    recommendations_app: Flask
    sortition: SortitionServer
    stub: Any  # the generated SortitionServiceStub (protobuf code is Any to the checker)
    _channel: grpc.Channel
    consumers: list[Consumer] = field(default_factory=list)

    @classmethod
    def start(cls, out: pathlib.Path) -> Services:
        data = out / "data"
        data.mkdir(parents=True, exist_ok=True)
        region_file = out / "region.toml"
        region_file.write_text(REGION_FILE.format(out=out.resolve().as_posix()), encoding="utf-8")
        common = dict(data_dir=str(data), region="hovedstaden", region_config=str(region_file),
                      log_level="WARNING", log_format="text")
        bus = InProcessBus(prefix="kleroterion")
        plugins = PluginHost.from_settings(RegistrySettings.from_env({}, **common))
        registry = registry_app.build(RegistrySettings.from_env({}, **common), bus=bus,
                                      plugins=plugins)
        registry_flask = registry_app.create_app(context=registry)
        sessions = sessions_app.build(SessionsSettings.from_env({}, **common), bus=bus,
                                      plugins=plugins)
        sessions_flask = sessions_app.create_app(context=sessions)
        recommendations = recommendations_app.build(
            RecommendationsSettings.from_env({}, **common), bus=bus, plugins=plugins)
        recommendations_flask = recommendations_app.create_app(context=recommendations)
        sortition_settings = SortitionSettings.from_env({}, **common, host="127.0.0.1", port=0,
                                                        rounding_seconds=3)
        store = RunStore(storage.make_engine(sortition_settings.database()))
        sortition = SortitionServer(sortition_settings, bus=bus, store=store).start()
        channel = grpc.insecure_channel(f"127.0.0.1:{sortition.port}")
        grpc.channel_ready_future(channel).result(timeout=10)
        return cls(
            out, bus, plugins, registry, registry_flask, sessions, sessions_flask,
            recommendations, recommendations_flask, sortition,
            pb_grpc.SortitionServiceStub(channel), channel,
            [*registry_app.consumers(registry), *sessions_app.consumers(sessions),
             *recommendations_app.consumers(recommendations), *sortition.consumers()])

    def client(self, service: str, role: str | None) -> Client:
        ctx: ServiceContext = getattr(self, service)
        app: Flask = getattr(self, f"{service}_app")
        return Client(app, ctx.tokens.issue(f"demo-{role}", role) if role else None)

    def pump(self, progress: Callable[[int], object] | None = None) -> int:
        """Deliver every pending event to every consumer until all are idle; returns how
        many records were consumed. ``progress(n)`` is told after each poll."""
        total = 0
        while True:
            moved = 0
            for ctx in (self.registry, self.sessions, self.recommendations):
                ctx.outbox.publish_pending()
            self.sortition.outbox.publish_pending()
            for consumer in self.consumers:
                n = consumer.poll_once(0)
                moved += n
                if progress and n:
                    progress(n)
            total += moved
            if not moved:
                return total

    def dead_letters(self) -> int:
        return sum(c.dead_lettered for c in self.consumers)

    def close(self) -> None:
        for consumer in self.consumers:
            consumer.close()
        if self._channel is not None:
            self._channel.close()
        if self.sortition is not None:
            self.sortition.stop(0).wait()
            self.sortition.store.engine.dispose()
        for ctx in (self.registry, self.sessions, self.recommendations):
            if ctx is not None:
                ctx.close()
        time.sleep(0)
