"""Brute force on the recommendations service's code endpoints (the ballot, the voting
page, questionnaire answers by JSON and by page): 429 with Retry-After after 10 wrong codes
from one client, other clients keep voting, two replicas on one database share the count."""
from __future__ import annotations

import pytest
from recommendations_support import ASSEMBLY, MEMBERS, PanelDrawn, codes, draft, voting_round


def _env(address):
    return {"REMOTE_ADDR": address}


def _setup(svc):
    rec = draft(svc)
    round_id = voting_round(svc, rec["id"])
    q = svc.call("post", f"/assemblies/{ASSEMBLY}/questionnaires", audience="member",
                 stage="final").json["questionnaire_id"]
    obs = svc.call("post", f"/assemblies/{ASSEMBLY}/questionnaires", audience="observer",
                   stage="final").json["questionnaire_id"]
    return rec["id"], round_id, q, obs


def _endpoints(rec_id, round_id, q, obs):
    return {
        "ballot": lambda c, code, env: c.post(f"/rounds/{round_id}/ballots", json={
            "member_code": code, "level": "support"}, environ_base=env),
        "voting page": lambda c, code, env: c.post(
            f"/public/recommendations/{rec_id}/vote?lang=en",
            data={"member_code": code, "level": "support"}, environ_base=env),
        "questionnaire": lambda c, code, env: c.post(f"/public/questionnaires/{q}/responses",
                                                     json={"member_code": code,
                                                           "answers": {"comment": "Fint"}},
                                                     environ_base=env),
        "questionnaire slip": lambda c, code, env: c.post(
            f"/public/questionnaires/{obs}/responses",
            json={"respondent_code": code, "answers": {"comment": "Fint"}}, environ_base=env),
        "questionnaire page": lambda c, code, env: c.post(
            f"/public/questionnaires/{q}/form?lang=en",
            data={"member_code": code, "q-heard": "5"}, environ_base=env),
    }


NAMES = ["ballot", "voting page", "questionnaire", "questionnaire slip", "questionnaire page"]


@pytest.mark.parametrize("endpoint", NAMES)
def test_300_wrong_codes_hit_the_lockout(recommendations, endpoint):
    rec_id, round_id, q, obs = _setup(recommendations)
    call = _endpoints(rec_id, round_id, q, obs)[endpoint]
    client, attacker = recommendations.client, _env("198.51.100.20")
    answers = [call(client, f"WRONG-{n:04d}-CODE", attacker) for n in range(300)]
    assert all(r.status_code < 500 for r in answers)
    assert all(r.status_code in (401, 403) for r in answers[:10])
    assert {r.status_code for r in answers[10:]} == {429}
    last = answers[-1]
    assert 1 <= int(last.headers["Retry-After"]) <= 900
    if last.is_json:
        assert last.json["field"] in ("member_code", "respondent_code")
        assert "too many failed tries" in last.json["error"]
    else:
        assert "Too many failed tries" in last.data.decode()
    # A member at another address still votes / answers with the right code.
    member_codes = codes(recommendations, ["m01"])
    if endpoint != "questionnaire slip":
        r = call(client, member_codes["m01"], _env("203.0.113.30"))
        assert r.status_code in (201, 303), r.data


def test_two_replicas_on_one_database_share_the_count(make_recommendations):
    first = make_recommendations()
    first.publish(PanelDrawn(run_id="r1", member_ids=MEMBERS))
    second = make_recommendations()  # the same database file: a second replica
    rec_id, round_id, _, _ = _setup(first)
    env = _env("198.51.100.21")
    for n in range(10):
        svc = (first, second)[n % 2]
        r = svc.client.post(f"/rounds/{round_id}/ballots", json={
            "member_code": f"WRONG-{n}", "level": "support"}, environ_base=env)
        assert r.status_code == 401
    for svc in (first, second):
        r = svc.client.post(f"/rounds/{round_id}/ballots", json={
            "member_code": "WRONG-X", "level": "support"}, environ_base=env)
        assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0


def test_voting_twice_is_a_failure_of_that_code(recommendations):
    _, round_id, _, _ = _setup(recommendations)
    code = codes(recommendations, ["m02"])["m02"]
    body = {"member_code": code, "level": "neutral"}
    assert recommendations.client.post(f"/rounds/{round_id}/ballots",
                                       json=body).status_code == 201
    for n in range(5):
        r = recommendations.client.post(f"/rounds/{round_id}/ballots", json=body,
                                        environ_base=_env(f"192.0.2.{n}"))
        assert r.status_code == 409
    r = recommendations.client.post(f"/rounds/{round_id}/ballots", json=body,
                                    environ_base=_env("192.0.2.99"))
    assert r.status_code == 429 and r.json["field"] == "member_code"
    # A wrong level is not a failure of the code.
    other = codes(recommendations, ["m03"])["m03"]
    for _ in range(12):
        r = recommendations.client.post(f"/rounds/{round_id}/ballots", json={
            "member_code": other, "level": "enthusiastic"})
        assert r.status_code == 422
    assert recommendations.client.post(f"/rounds/{round_id}/ballots", json={
        "member_code": other, "level": "support"}).status_code == 201
