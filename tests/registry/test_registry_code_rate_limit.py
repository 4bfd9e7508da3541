"""Brute force on the registry's code endpoints (sign-up and seat answer, page and JSON):
refused with 429 and Retry-After after 10 wrong codes from one client; other clients keep
their codes; two replicas on one database share the count; a code tried 5 times is locked."""
from __future__ import annotations

import base64

import pytest
import sqlalchemy as sa
from registry_support import Api, extract, person_rows

from services.registry import models

ENDPOINTS = {
    "signup page": lambda c, code, env: c.get(f"/signup?code={code}", environ_base=env),
    "signup form": lambda c, code, env: c.post("/signup", data={"code": code, "lang": "en"},
                                               environ_base=env),
    "seat form": lambda c, code, env: c.post("/signup/seat", data={
        "code": code, "answer": "confirmed", "lang": "en"}, environ_base=env),
    "code lookup": lambda c, code, env: c.get(f"/api/public/signup/{code}", environ_base=env),
    "signup json": lambda c, code, env: c.post("/api/public/signup", json={
        "code": code, "answers": {"education": "long"}, "available": True, "consent": True},
        environ_base=env),
    "seat json": lambda c, code, env: c.post("/api/public/seat", json={
        "code": code, "answer": "confirmed"}, environ_base=env),
}


def _client_env(address):
    return {"REMOTE_ADDR": address}


def _open(make_registry, **overrides):
    app, ctx = make_registry(**overrides)
    api = Api(app, ctx)
    api.assembly()
    assert api.upload("a1", extract(person_rows(30))).status_code == 201
    assert api.post("/api/assemblies/a1/rollouts",
                    {"scope": "Danmark", "size": 10}).status_code == 201
    with ctx.engine.connect() as conn:
        codes = conn.scalars(sa.select(models.invitations.c.code)
                             .order_by(models.invitations.c.id)).all()
    return app, ctx, codes


def _wrong(n):
    return f"ZZZZ-{n:04d}-QQQQ"


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
def test_300_wrong_codes_hit_the_lockout(make_registry, endpoint):
    app, _, codes = _open(make_registry)
    client, call = app.test_client(), ENDPOINTS[endpoint]
    attacker = _client_env("198.51.100.7")
    statuses = [call(client, _wrong(n), attacker) for n in range(300)]
    assert all(r.status_code != 429 for r in statuses[:10])
    assert all(r.status_code < 500 for r in statuses)
    locked = statuses[10:]
    assert {r.status_code for r in locked} == {429}
    for r in (locked[0], locked[-1]):
        assert 1 <= int(r.headers["Retry-After"]) <= 900
    if r.is_json:
        assert r.json["field"] == "code" and "too many failed tries" in r.json["error"]
    else:
        page = r.data.decode()
        assert "Too many failed tries" in page or "For mange forkerte forsøg" in page
    # Locked: even a right code from the attacker's address waits ...
    assert call(client, codes[0], attacker).status_code == 429
    # ... while a citizen at another address uses theirs.
    r = client.post("/api/public/signup", json={"code": codes[0], "answers": {
        "education": "long"}, "available": True, "consent": True},
        environ_base=_client_env("203.0.113.5"))
    assert r.status_code == 201, r.json


def test_a_success_is_not_a_failure(make_registry):
    app, _, codes = _open(make_registry)
    client, env = app.test_client(), _client_env("203.0.113.9")
    for code in codes[:10]:  # ten citizens behind one address (a library, a school)
        assert client.get(f"/api/public/signup/{code}", environ_base=env).status_code == 200
    for n in range(9):
        assert client.get(f"/api/public/signup/{_wrong(n)}", environ_base=env).status_code == 404
    assert client.get(f"/api/public/signup/{codes[0]}", environ_base=env).status_code == 200


def test_two_replicas_on_one_database_share_the_count(make_registry):
    first, _, codes = _open(make_registry)
    second, _ = make_registry()  # the same database: a second replica
    clients = [first.test_client(), second.test_client()]
    env = _client_env("198.51.100.8")
    for n in range(10):
        r = clients[n % 2].get(f"/api/public/signup/{_wrong(n)}", environ_base=env)
        assert r.status_code == 404
    for client in clients:
        r = client.get(f"/api/public/signup/{_wrong(99)}", environ_base=env)
        assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0


@pytest.mark.postgres
def test_replicas_share_the_count_on_postgresql(make_registry, postgres_database):
    key = base64.urlsafe_b64encode(bytes(32)).decode()
    first, _, _ = _open(make_registry, database_url=postgres_database, encryption_key=key)
    second, _ = make_registry(database_url=postgres_database, encryption_key=key)
    env = _client_env("198.51.100.9")
    for n in range(10):
        client = (first if n % 2 else second).test_client()
        assert client.get(f"/api/public/signup/{_wrong(n)}", environ_base=env).status_code == 404
    r = second.test_client().get(f"/api/public/signup/{_wrong(99)}", environ_base=env)
    assert r.status_code == 429 and r.json["field"] == "code"


def test_one_code_tried_five_times_is_locked_for_every_client(make_registry):
    app, _, codes = _open(make_registry)
    client = app.test_client()
    body = {"code": codes[0], "answers": {"education": "long"}, "available": True,
            "consent": True}
    assert client.post("/api/public/signup", json=body).status_code == 201
    for n in range(5):  # the used code again, from five addresses: 409 each time
        r = client.post("/api/public/signup", json=body,
                        environ_base=_client_env(f"192.0.2.{n}"))
        assert r.status_code == 409
    r = client.post("/api/public/signup", json=body, environ_base=_client_env("192.0.2.50"))
    assert r.status_code == 429 and r.json["field"] == "code"
    # Missing answers are not failures of the code: another code goes on.
    other = {**body, "code": codes[1], "answers": {}}
    for _ in range(12):
        assert client.post("/api/public/signup", json=other).status_code == 422
    assert client.post("/api/public/signup", json={**other, "answers": {
        "education": "long"}}).status_code == 201


def test_forwarded_for_counts_only_behind_a_trusted_proxy(make_registry):
    app, _, _ = _open(make_registry)  # no proxy: X-Forwarded-For is the attacker's to forge
    client = app.test_client()
    for n in range(10):
        client.get(f"/api/public/signup/{_wrong(n)}",
                   headers={"X-Forwarded-For": f"10.1.1.{n}"})
    r = client.get(f"/api/public/signup/{_wrong(50)}", headers={"X-Forwarded-For": "10.1.1.77"})
    assert r.status_code == 429

    behind, _ = make_registry(trusted_proxy=True)  # the ingress sets it: each one counts
    client = behind.test_client()
    for n in range(10):
        client.get(f"/api/public/signup/{_wrong(100 + n)}",
                   headers={"X-Forwarded-For": "10.2.2.2"})
    r = client.get(f"/api/public/signup/{_wrong(200)}", headers={"X-Forwarded-For": "10.2.2.2"})
    assert r.status_code == 429
    r = client.get(f"/api/public/signup/{_wrong(201)}", headers={"X-Forwarded-For": "10.2.2.3"})
    assert r.status_code == 404
