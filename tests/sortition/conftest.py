"""Fixtures of the sortition service's tests."""
from __future__ import annotations

import pytest
from sortition_support import start_server

from services.common.bus import InProcessBus


@pytest.fixture
def bus():
    return InProcessBus()


@pytest.fixture
def sortition(tmp_path, bus):
    r = start_server(tmp_path, bus)
    yield r
    r.close()
