"""The sessions service: the programme, the panel's seats, attendance, rotating groups and
dropouts, after sortition has drawn the panel (Flask).

Operators call the JSON API under ``/api`` with a bearer token (api.py); the public (and
observers) read the programme under ``/public`` without one (public.py). Events come in
from sortition and the platform (handlers.py) and go out, through the transactional outbox
(outgoing.py), for every change of a seat, a session held, a flag and a seating summary,
each with a snapshot of the process for the evaluation (summary.py).
"""
from __future__ import annotations

from flask import Flask, jsonify

from services.common.service import ServiceContext, build_context, create_flask_app
from services.sessions import openapi
from services.sessions.api import FACILITATORS, PLANNERS, READERS, ROLES, api_blueprint
from services.sessions.handlers import CONSUMED, CONSUMER_GROUP, handle_event
from services.sessions.migrations import MIGRATIONS
from services.sessions.public import public_blueprint
from services.sessions.settings import Settings

__all__ = ["ROLES", "READERS", "PLANNERS", "FACILITATORS", "CONSUMER_GROUP", "CONSUMED",
           "build", "create_app", "consumers", "handle_event"]


def build(settings: Settings | None = None, *, bus=None, plugins=None) -> ServiceContext:
    return build_context(settings or Settings.from_env(), roles=ROLES, migrations=MIGRATIONS,
                         bus=bus, plugins=plugins)


def consumers(ctx: ServiceContext):
    return [ctx.bus.consumer(CONSUMER_GROUP, list(CONSUMED),
                             lambda envelope: handle_event(ctx, envelope), applied=ctx.applied)]


def create_app(config: Settings | None = None, *, context: ServiceContext | None = None) -> Flask:
    ctx = context or build(config)
    app = create_flask_app(ctx, __name__)
    app.register_blueprint(api_blueprint())
    app.register_blueprint(public_blueprint())
    app.add_url_rule("/openapi.json", "openapi", lambda: jsonify(openapi.document()))
    return app
