import pytest
import sqlalchemy as sa
from flask import Flask, jsonify

from services.common import audit, auth, storage, web


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request, tmp_path):
    if request.param == "sqlite":
        eng = storage.make_engine(f"sqlite:///{tmp_path}/a.sqlite3")
    else:
        eng = storage.make_engine(request.getfixturevalue("postgres_url"))
        with eng.begin() as conn:
            conn.execute(sa.text("DROP TABLE IF EXISTS audit_log, api_tokens"))
    yield eng
    eng.dispose()


def test_roles_guard_endpoints(engine):
    app = Flask("t")
    web.install(app, "registry")
    store = auth.TokenStore(engine, roles={"platform_operator", "observer"})
    auth.install(app, store)

    @app.post("/rollouts")
    @auth.require("platform_operator")
    def create():
        return jsonify(by=auth.current_principal().subject)

    operator = store.issue("anne", "platform_operator")
    observer = store.issue("olaf", "observer")
    client = app.test_client()
    r = client.post("/rollouts")
    assert r.status_code == 401 and r.json["field"] == "Authorization"
    assert client.post("/rollouts", headers={"Authorization": "Bearer nope"}).status_code == 401
    r = client.post("/rollouts", headers={"Authorization": f"Bearer {observer}"})
    assert r.status_code == 403 and "observer" in r.json["error"]
    r = client.post("/rollouts", headers={"Authorization": f"Bearer {operator}"})
    assert r.status_code == 200 and r.json == {"by": "anne"}
    assert store.revoke(operator)
    assert client.post("/rollouts",
                       headers={"Authorization": f"Bearer {operator}"}).status_code == 401
    with pytest.raises(web.ApiError, match="unknown role"):
        store.issue("x", "king")
    with engine.connect() as conn:  # only the hash is stored
        assert operator not in str(conn.execute(sa.select(auth.api_tokens)).fetchall())


def test_audit_entries_are_chained_and_transactional(engine):
    audit.create_tables(engine)
    with engine.begin() as conn:
        audit.record(conn, actor="anne", role="platform_operator", action="rollout.create",
                     target="rollout:r1", detail={"size": 5000})
    with pytest.raises(RuntimeError):
        with engine.begin() as conn:
            audit.record(conn, actor="anne", role="platform_operator", action="rollout.send",
                         target="rollout:r1")
            raise RuntimeError("the change failed")
    with engine.begin() as conn:
        audit.record(conn, actor="olaf", role="observer", action="export", target="pool")
    got = audit.entries(engine)
    assert [e.action for e in got] == ["rollout.create", "export"]
    assert got[0].detail == {"size": 5000}
    assert audit.entries(engine, target="pool")[0].actor == "olaf"
    assert audit.verify_chain(engine) is None
    with engine.begin() as conn:
        conn.execute(audit.audit_log.update().where(audit.audit_log.c.id == got[0].id)
                     .values(actor="mallory"))
    assert audit.verify_chain(engine) == got[0].id
