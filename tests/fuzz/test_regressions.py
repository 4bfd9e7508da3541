"""What the fuzzer found, pinned: bad input gets a 4xx naming the field, never a 500."""
from __future__ import annotations

import pytest
from test_fuzz_registry import registry  # noqa: F401 - the module's fixture


@pytest.mark.parametrize("payload", ["true", "1", "\"da\"", "[1]"])
def test_registry_preview_refuses_a_body_that_is_not_an_object(registry, payload):  # noqa: F811
    schema, ctx, token_for, known = registry
    r = schema.app.test_client().post(
        f"/api/templates/{known['template_id']}/preview", data=payload,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token_for('platform_operator')}"})
    assert r.status_code == 400 and r.json["field"] == "body", r.json


@pytest.mark.parametrize("language", [[], {}, 1, None])
def test_registry_signup_with_a_language_that_is_not_text(registry, language):  # noqa: F811
    schema, ctx, token_for, known = registry
    r = schema.app.test_client().post("/api/public/signup",
                                      json={"code": "NOPE234567", "language": language})
    assert r.status_code == 404 and r.json["field"] == "code", r.json


def test_sessions_composition_refuses_a_member_that_is_not_an_object():
    import tempfile

    from sessions_support import assembly_created, make_sessions, panel_drawn

    from services.common.web import ApiError  # noqa: F401 - the refusal the API answers with
    svc = make_sessions(f"sqlite:///{tempfile.mkdtemp()}/s.sqlite3")
    svc.deliver(assembly_created())
    svc.deliver(panel_drawn(["m01", "m02"]))
    for bad in (5, "x", [1]):
        r = svc.call("put", "/api/assemblies/a1/composition", json={"members": {"m01": bad}})
        assert r.status_code == 422 and r.json["field"] == "members.m01", r.json
    svc.consumer.close()
    svc.ctx.close()


def test_recommendations_milestone_done_refuses_a_body_that_is_not_an_object(tmp_path):
    from recommendations_support import Clock, InProcessBus, Service, Settings
    svc = Service(Settings.from_env({}, data_dir=str(tmp_path)), InProcessBus(), Clock()).start()
    for payload in ("true", "[1]", "3"):
        r = svc.client.post("/milestones/x/done", data=payload, content_type="application/json",
                            headers={"Authorization": f"Bearer {svc.token('administration')}"})
        assert r.status_code == 400 and r.json["field"] == "body", r.json
    svc.stop()


def test_a_huge_number_of_supporters_is_refused_not_a_crash(tmp_path):
    from recommendations_support import Clock, InProcessBus, Service, Settings, draft
    svc = Service(Settings.from_env({}, data_dir=str(tmp_path)), InProcessBus(), Clock()).start()
    rec_id = draft(svc)["id"]
    r = svc.call("post", f"/recommendations/{rec_id}/minority-statements",
                 text="Vi er uenige.", supporters=2**63)
    assert r.status_code == 400 and r.json["field"] == "supporters", r.json
    svc.stop()
