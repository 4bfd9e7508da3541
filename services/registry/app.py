"""The registry service: population extracts, invitation rollouts, sign-up and the pool."""
from __future__ import annotations

from flask import Flask

from services.common.bus import Bus, Consumer
from services.common.plugins import PluginHost
from services.common.service import build_context, create_flask_app
from services.registry import handlers
from services.registry.context import RegistryContext
from services.registry.crypto import Sealer, load_key
from services.registry.dispatch import Dispatcher
from services.registry.migrations import MIGRATIONS
from services.registry.roles import ROLES
from services.registry.settings import Settings
from services.registry.views import BLUEPRINTS


def build(settings: Settings, *, bus: Bus | None = None,
          plugins: PluginHost | None = None) -> RegistryContext:
    sealer = Sealer(load_key(settings))  # a missing key stops the service before anything else
    base = build_context(settings, roles=ROLES, migrations=MIGRATIONS, bus=bus, plugins=plugins)
    dispatcher = Dispatcher(base, sealer, attempts=settings.send_attempts,
                            backoff=settings.send_backoff_ms / 1000,
                            signup_url=settings.signup_url)
    return RegistryContext(**{**vars(base), "settings": settings}, sealer=sealer,
                           dispatcher=dispatcher)


def consumers(ctx: RegistryContext) -> list[Consumer]:
    """The registry's consumer group members (``kleroterion serve registry`` runs them)."""
    return [group.consumer(ctx) for group in handlers.GROUPS]


def create_app(config: Settings | None = None, *,
               context: RegistryContext | None = None) -> Flask:
    ctx = context or build(config or Settings.from_env())
    app = create_flask_app(ctx, __name__)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    return app
