"""What a Flask service is made of, assembled once: settings, database, bus, plugins, tokens.

``create_app(config)`` in each service builds a ``ServiceContext`` and hands it to its
blueprints; tests pass their own settings, bus or plugin host to the same factory.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from flask import Flask, current_app
from flask.json.provider import DefaultJSONProvider
from sqlalchemy.engine import Engine

from services.common import audit, auth, logs, storage, web
from services.common.bus import Bus, bus_from_settings
from services.common.outbox import Outbox
from services.common.plugins import PluginHost
from services.common.settings import ServiceSettings


@dataclass
class ServiceContext:
    settings: ServiceSettings
    engine: Engine
    bus: Bus
    plugins: PluginHost
    tokens: auth.TokenStore
    applied: storage.SqlAppliedEvents
    outbox: Outbox

    def close(self) -> None:
        self.outbox.stop_relay()
        self.bus.close()
        self.engine.dispose()


def build_context(settings: ServiceSettings, *, roles: Iterable[str],
                  migrations: Sequence[storage.Migration], bus: Bus | None = None,
                  plugins: PluginHost | None = None) -> ServiceContext:
    engine = storage.make_engine(settings.database())
    storage.migrate(engine, settings.service, migrations)
    audit.create_tables(engine)
    bus = bus or bus_from_settings(settings)
    return ServiceContext(
        settings=settings,
        engine=engine,
        bus=bus,
        plugins=plugins or PluginHost.from_settings(settings),
        tokens=auth.TokenStore(engine, roles),
        applied=storage.SqlAppliedEvents(engine),
        outbox=Outbox(engine, bus),
    )


def create_flask_app(ctx: ServiceContext, import_name: str) -> Flask:
    """A Flask app with health, readiness (database and bus), metrics, JSON errors, the
    security headers and input limits, and operator tokens installed; the service adds its
    blueprints."""
    logs.configure(ctx.settings.service, ctx.settings.log_level, ctx.settings.log_format)
    app = Flask(import_name)
    if isinstance(app.json, DefaultJSONProvider):  # what Flask() makes; sort_keys is its own
        app.json.sort_keys = False

    def database() -> None:
        with ctx.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))

    web.install(app, ctx.settings.service, readiness={"database": database},
                max_request_bytes=ctx.settings.max_request_bytes,
                trusted_proxy=ctx.settings.trusted_proxy)
    auth.install(app, ctx.tokens)
    app.extensions[CONTEXT_KEY] = ctx
    return app


CONTEXT_KEY = "kleroterion.context"


def context_of(app: Flask) -> ServiceContext:
    """The service context ``create_flask_app`` installed on ``app``."""
    ctx: ServiceContext = app.extensions[CONTEXT_KEY]
    return ctx


def current_context() -> ServiceContext:
    """The context of the application handling the current request (for blueprints)."""
    return context_of(current_app)
