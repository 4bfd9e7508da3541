"""Fuzz every operation of the recommendations service's OpenAPI document (fuzz_support.py)."""
from __future__ import annotations

import pytest
from fuzz_support import UNLIMITED_CODE_TRIES, fuzz_operation, load, operation_ids
from recommendations_support import (
    ASSEMBLY,
    MEMBERS,
    Clock,
    InProcessBus,
    PanelDrawn,
    Service,
    Settings,
    draft,
)

from services.recommendations.openapi import document


@pytest.fixture(scope="module")
def recommendations(tmp_path_factory):
    settings = Settings.from_env({}, data_dir=str(tmp_path_factory.mktemp("recommendations")),
                                 **UNLIMITED_CODE_TRIES)
    svc = Service(settings, InProcessBus(), Clock()).start()
    svc.publish(PanelDrawn(run_id="r1", member_ids=MEMBERS))
    first, second = draft(svc)["id"], draft(svc, "Mere natur")["id"]
    amendment = svc.call("post", f"/recommendations/{second}/amendments",
                         changes={"title": "Meget mere natur"}).json["id"]
    voting = svc.call("post", f"/recommendations/{first}/rounds")
    assert voting.status_code == 201, voting.json
    known = {"assembly_id": ASSEMBLY, "member_id": MEMBERS[0], "rec_id": first,
             "round_id": voting.json["id"], "amendment_id": amendment, "version": 1,
             "lang": "da"}
    yield load(svc.app), svc, known
    svc.stop()


@pytest.mark.parametrize("operation", operation_ids(document()))
def test_fuzz_recommendations(recommendations, operation):
    schema, svc, known = recommendations
    fuzz_operation(schema, operation, svc.ctx.engine, svc.token, known)
