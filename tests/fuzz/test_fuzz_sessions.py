"""Fuzz every operation of the sessions service's OpenAPI document (see fuzz_support.py)."""
from __future__ import annotations

import pytest
from fuzz_support import fuzz_operation, load, operation_ids
from sessions_support import (
    assembly_created,
    make_sessions,
    panel_drawn,
    session_body,
    substitutes_drawn,
)

from services.sessions.openapi import document

PANEL = [f"m{i:02d}" for i in range(1, 13)]


@pytest.fixture(scope="module")
def sessions(tmp_path_factory):
    path = tmp_path_factory.mktemp("sessions") / "sessions.sqlite3"
    svc = make_sessions(f"sqlite:///{path}")
    features = {m: {"sex": "MF"[i % 2], "age": "young" if i < 6 else "old"}
                for i, m in enumerate(PANEL + ["s1", "s2"])}
    svc.deliver(assembly_created())
    svc.deliver(panel_drawn(PANEL, features))
    svc.deliver(substitutes_drawn(["s1", "s2"], features=features))
    for sid, day in (("s1", 3), ("s2", 10)):
        r = svc.call("post", "/api/assemblies/a1/sessions", json=session_body(sid, day))
        assert r.status_code == 201, r.json
    known = {"assembly_id": "a1", "session_id": "s1", "member_id": "m01", "item_id": "s1-gw"}
    yield load(svc.app), svc, known
    svc.consumer.close()
    svc.ctx.close()


@pytest.mark.parametrize("operation", operation_ids(document()))
def test_fuzz_sessions(sessions, operation):
    schema, svc, known = sessions
    fuzz_operation(schema, operation, svc.ctx.engine, svc.tokens.__getitem__, known)
