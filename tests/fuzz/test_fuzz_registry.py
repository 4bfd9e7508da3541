"""Fuzz every operation of the registry's OpenAPI document (see fuzz_support.py)."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from fuzz_support import UNLIMITED_CODE_TRIES, fuzz_operation, load, operation_ids
from registry_support import Api, ChannelPlugin, Outbox, extract, person_rows

from services.common.bus import InProcessBus
from services.common.plugins import PluginHost
from services.registry import app as registry_app
from services.registry import models
from services.registry.openapi import document
from services.registry.settings import Settings


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    settings = Settings.from_env({}, data_dir=str(tmp_path_factory.mktemp("registry")),
                                 send_backoff_ms=0, **UNLIMITED_CODE_TRIES)
    host = PluginHost(enabled=["formats", "test-channels"],
                      extra_plugins=[("test-channels", ChannelPlugin(Outbox()))])
    ctx = registry_app.build(settings, bus=InProcessBus(), plugins=host)
    app = registry_app.create_app(context=ctx)
    api = Api(app, ctx)
    api.assembly("a1")
    assert api.upload("a1", extract(person_rows(60))).status_code == 201
    template_id = api.approved_template("a1")
    rollout = api.post("/api/assemblies/a1/rollouts", {"scope": "hovedstaden", "size": 20,
                                                      "seed": "ff00"})
    assert rollout.status_code == 201, rollout.json
    with ctx.engine.connect() as conn:
        codes = conn.scalars(sa.select(models.invitations.c.code)).all()
    r = api.client.post("/api/public/signup", json={
        "code": codes[0], "answers": {"education": "long"}, "available": True, "consent": True})
    assert r.status_code == 201, r.json
    tokens = {}

    def token_for(role):
        if role not in tokens:
            tokens[role] = ctx.tokens.issue("fuzzer", role)
        return tokens[role]

    known = {"assembly_id": "a1", "template_id": template_id,
             "rollout_id": rollout.json["id"], "registrant_id": r.json["registrant_id"],
             "code": codes[1]}
    yield load(app), ctx, token_for, known
    ctx.engine.dispose()


@pytest.mark.parametrize("operation", operation_ids(document()))
def test_fuzz_registry(registry, operation):
    schema, ctx, token_for, known = registry
    fuzz_operation(schema, operation, ctx.engine, token_for, known)
