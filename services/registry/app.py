"""The registry service: population extracts, invitation rollouts, sign-up and the pool."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Flask

from services.common.bus import Bus
from services.common.plugins import PluginHost
from services.common.service import ServiceContext, build_context, create_flask_app
from services.registry.crypto import Sealer, load_key
from services.registry.dispatch import Dispatcher
from services.registry.migrations import MIGRATIONS
from services.registry.pool import Selection
from services.registry.settings import Settings

ROLES = ("platform_operator", "region_admin", "observer")


@dataclass
class RegistryContext(ServiceContext):
    """The common service context plus the registry's own long-lived parts."""

    sealer: Sealer | None = None
    dispatcher: Dispatcher | None = None
    selection: Selection | None = None


def build(settings: Settings, *, bus: Bus | None = None,
          plugins: PluginHost | None = None) -> RegistryContext:
    sealer = Sealer(load_key(settings))  # a missing key stops the service before anything else
    base = build_context(settings, roles=ROLES, migrations=MIGRATIONS, bus=bus, plugins=plugins)
    ctx = RegistryContext(**vars(base), sealer=sealer)
    ctx.dispatcher = Dispatcher(ctx, sealer, attempts=settings.send_attempts,
                                backoff=settings.send_backoff_ms / 1000,
                                signup_url=settings.signup_url)
    ctx.selection = Selection(ctx)
    return ctx


def consumers(ctx: RegistryContext) -> list:
    """The registry's consumer group members (``kleroterion serve registry`` runs them)."""
    return [ctx.dispatcher.consumer(), ctx.selection.consumer()]


def create_app(config: Settings | None = None, *,
               context: RegistryContext | None = None) -> Flask:
    ctx = context or build(config or Settings.from_env())
    app = create_flask_app(ctx, __name__)
    from services.registry import api, signup

    app.register_blueprint(api.blueprint)
    app.register_blueprint(signup.blueprint)
    return app


def context_of(app: Flask) -> ServiceContext:
    return app.extensions["kleroterion.context"]
