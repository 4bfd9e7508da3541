"""Fixtures of the registry tests: a registry on SQLite (or PostgreSQL), built again on the
same database to simulate a restart."""
from __future__ import annotations

import pytest
from registry_support import ChannelPlugin, Outbox

from services.common.bus import InProcessBus
from services.common.plugins import PluginHost
from services.registry import app as registry_app
from services.registry.settings import Settings


@pytest.fixture
def make_registry(tmp_path):
    """Build a registry (and build it again on the same database: a restart)."""
    made = []

    def make(*channels, database_url="", bus=None, **overrides):
        channels = channels or (Outbox(),)
        settings = Settings.from_env({}, data_dir=str(tmp_path / "data"), database_url=database_url,
                                     send_backoff_ms=0, **overrides)
        host = PluginHost(enabled=["formats", "test-channels"],
                          extra_plugins=[("test-channels", ChannelPlugin(*channels))])
        ctx = registry_app.build(settings, bus=bus or InProcessBus(), plugins=host)
        app = registry_app.create_app(context=ctx)
        app.testing = True
        made.append(ctx)
        return app, ctx

    yield make
    for ctx in made:
        ctx.engine.dispose()


@pytest.fixture
def registry(make_registry):
    """One registry on SQLite with the in-test outbox channel: (app, context)."""
    return make_registry()
