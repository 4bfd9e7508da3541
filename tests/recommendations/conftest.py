"""Fixtures of the recommendations tests (helpers are in recommendations_support.py)."""
from __future__ import annotations

import pytest
from recommendations_support import MEMBERS, Clock, InProcessBus, PanelDrawn, Service, Settings


@pytest.fixture
def make_recommendations(tmp_path):
    started = []

    def make(bus=None, clock=None, database_url=""):
        settings = Settings.from_env({}, data_dir=str(tmp_path), database_url=database_url)
        service = Service(settings, bus or InProcessBus(), clock or Clock()).start()
        started.append(service)
        return service

    make.started = started
    yield make
    for service in started:
        service.stop()


@pytest.fixture
def recommendations(make_recommendations):
    s = make_recommendations()
    s.publish(PanelDrawn(run_id="r1", member_ids=MEMBERS))
    return s
