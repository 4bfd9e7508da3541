import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def shared_instances() -> Path:
    path = Path(os.environ.get("KLERO_SHARED_INSTANCES", REPO.parent / "shared" / "instances"))
    if not path.is_dir():
        pytest.skip(f"shared instances not found at {path}")
    return path
