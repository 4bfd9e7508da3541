"""The recommendations service: drafting, support votes, handover, answers, public tracking.

Operators (facilitators, the administration) call the JSON API with bearer tokens; panel
members vote with a personal member code; the public reads the transparency page and the
open data without logging in. The service learns who is seated from the sortition and
sessions events on the bus (handlers.py) and publishes ``recommendation_adopted``,
``answer_recorded`` and ``implementation_updated`` through an outbox (outgoing.py), so an
event is never lost between the commit and the bus.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date

from flask import Flask, jsonify

from services.common.bus import Bus, Consumer
from services.common.plugins import PluginHost
from services.common.service import ServiceContext, build_context, create_flask_app
from services.recommendations import handlers, openapi, outgoing
from services.recommendations.migrations import MIGRATIONS
from services.recommendations.roles import ROLES
from services.recommendations.settings import Settings, settings_of
from services.recommendations.views import BLUEPRINTS
from services.recommendations.views.shared import CLOCK_KEY


def build(settings: Settings, *, bus: Bus | None = None, plugins: PluginHost | None = None
          ) -> ServiceContext:
    return build_context(settings, roles=ROLES, migrations=MIGRATIONS, bus=bus, plugins=plugins)


def consumers(ctx: ServiceContext) -> list[Consumer]:
    """One consumer per group of handlers; the group's name is a setting."""
    group = settings_of(ctx).consumer_group
    return [events_in.consumer(ctx, group=group) for events_in in handlers.GROUPS]


def create_app(config: Settings | None = None, *, context: ServiceContext | None = None,
               clock: Callable[[], date] | None = None) -> Flask:
    """The Flask app. ``clock`` gives today's date (tests inject one to test deadlines)."""
    ctx = context or build(config or Settings.from_env())
    app = create_flask_app(ctx, __name__)
    app.extensions[CLOCK_KEY] = clock or date.today
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    app.add_url_rule("/openapi.json", "openapi", lambda: jsonify(openapi.document()))
    ctx.bus.ensure_event_topics(outgoing.PUBLISHED)
    outgoing.publish(ctx)  # what a crash or a broker outage left in the outbox
    return app
