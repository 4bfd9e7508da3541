"""Fixtures of the recommendations tests (helpers are in rec_helpers.py)."""
from __future__ import annotations

import pytest
from rec_helpers import MEMBERS, Clock, InProcessBus, PanelDrawn, Service, Settings


@pytest.fixture
def make_service(tmp_path):
    started = []

    def make(bus=None, clock=None, database_url=""):
        settings = Settings.from_env({}, data_dir=str(tmp_path), database_url=database_url)
        svc = Service(settings, bus or InProcessBus(), clock or Clock()).start()
        started.append(svc)
        return svc

    make.started = started
    yield make
    for svc in started:
        svc.stop()


@pytest.fixture
def svc(make_service):
    s = make_service()
    s.publish(PanelDrawn(run_id="r1", member_ids=MEMBERS))
    return s

