import io
import json
import logging

from flask import Flask

from services.common import logs, web


def test_logs_never_carry_personal_data():
    stream = io.StringIO()
    logs.configure("registry", fmt="json", stream=stream)
    log = logging.getLogger("kleroterion.test")
    log.info("sign-up from 010190-1234 at jens@example.dk, +45 12 34 56 78",
             extra={"cpr": "0101901234", "full_name": "Jens Hansen", "invitation_id": "inv-7"})
    entry = json.loads(stream.getvalue())
    text = stream.getvalue()
    assert "010190-1234" not in text and "jens@example.dk" not in text and "12 34 56 78" not in text
    assert "Jens" not in text and "0101901234" not in text
    assert entry["invitation_id"] == "inv-7" and entry["service"] == "registry"
    assert "[cpr]" in entry["message"] and "[email]" in entry["message"]


def test_health_ready_metrics_and_json_errors():
    app = Flask("t")
    state = {"db": True}

    def database():
        if not state["db"]:
            raise ConnectionError("database unreachable")

    web.install(app, "registry", readiness={"database": database})

    @app.get("/boom")
    def boom():
        raise web.ApiError("seats", "must be positive", 422)

    @app.get("/huge")
    def huge():
        raise OverflowError("Python int too large to convert to SQLite INTEGER")

    client = app.test_client()
    assert client.get("/healthz").json == {"status": "ok", "service": "registry"}
    assert client.get("/readyz").status_code == 200
    state["db"] = False
    r = client.get("/readyz")
    assert r.status_code == 503 and "database unreachable" in r.json["failing"]["database"]
    r = client.get("/boom")
    assert r.status_code == 422 and r.json == {"error": "must be positive", "field": "seats"}
    assert client.get("/nowhere").status_code == 404
    r = client.get("/huge")
    assert r.status_code == 422 and r.json["field"] == "body" and "too large" in r.json["error"]
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'http_requests_total{endpoint="/healthz",method="GET",status="200"} 1.0' in metrics


def test_json_body_names_the_body_and_reads_a_missing_optional_one_as_empty():
    app = Flask("t")
    web.install(app, "sessions")

    @app.post("/required")
    def required():
        return {"got": web.json_body()}

    @app.post("/optional")
    def optional():
        return {"got": web.json_body(optional=True)}

    client = app.test_client()
    assert client.post("/required", json={"a": 1}).json == {"got": {"a": 1}}
    for bad in ({"json": [1, 2]}, {"data": "not json", "content_type": "application/json"}, {}):
        r = client.post("/required", **bad)
        assert r.status_code == 400
        assert r.json == {"error": "must be a JSON object", "field": "body"}
    assert client.post("/optional").json == {"got": {}}
    r = client.post("/optional", json=[1])
    assert r.status_code == 400 and r.json["field"] == "body"
