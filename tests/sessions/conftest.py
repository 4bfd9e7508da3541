import pytest
from sessions_support import make_sessions


@pytest.fixture
def sessions(tmp_path):
    svc = make_sessions(f"sqlite:///{tmp_path}/sessions.sqlite3")
    yield svc
    svc.consumer.close()
    svc.ctx.close()
