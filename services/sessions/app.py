"""The sessions service: the programme, the panel's seats, attendance, rotating groups and
dropouts, after sortition has drawn the panel (Flask).

Operators call the JSON API under ``/api`` with a bearer token; the public (and observers)
read the programme under ``/public`` without one (views/, one blueprint per feature).
Events come in from sortition and the platform (handlers.py) and go out, through the
transactional outbox (outgoing.py), for every change of a seat, a session held, a flag and
a seating summary, each with a snapshot of the process for the evaluation (summary.py).
"""
from __future__ import annotations

from flask import Flask, Response, jsonify

from services.common.bus import Bus, Consumer
from services.common.plugins import PluginHost
from services.common.service import ServiceContext, build_context, create_flask_app
from services.sessions import handlers, openapi
from services.sessions.migrations import MIGRATIONS
from services.sessions.roles import ROLES
from services.sessions.settings import Settings
from services.sessions.views import BLUEPRINTS


def build(settings: Settings | None = None, *, bus: Bus | None = None,
          plugins: PluginHost | None = None) -> ServiceContext:
    return build_context(settings or Settings.from_env(), roles=ROLES, migrations=MIGRATIONS,
                         bus=bus, plugins=plugins)


def consumers(ctx: ServiceContext) -> list[Consumer]:
    """One member of each consumer group (``kleroterion serve sessions`` runs them)."""
    return [group.consumer(ctx) for group in handlers.GROUPS]


def create_app(config: Settings | None = None, *, context: ServiceContext | None = None) -> Flask:
    ctx = context or build(config)
    app = create_flask_app(ctx, __name__)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)

    def openapi_document() -> Response:
        return jsonify(openapi.document())

    app.add_url_rule("/openapi.json", "openapi", openapi_document)
    return app
