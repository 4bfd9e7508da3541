import pytest
from sessions_support import make_service


@pytest.fixture
def service(tmp_path):
    svc = make_service(f"sqlite:///{tmp_path}/sessions.sqlite3")
    yield svc
    svc.consumer.close()
    svc.ctx.close()
