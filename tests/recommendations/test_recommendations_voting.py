"""Support votes: who may vote, once, secretly, on the scale; the tally and threshold."""
import sqlalchemy as sa
from recommendations_support import (
    ASSEMBLY,
    MEMBERS,
    adopt,
    cast_levels,
    codes,
    draft,
    vote,
    voting_round,
)

from services.common import audit
from services.contracts.kleroterion.v1.sessions_events_pb2 import MemberWithdrew, SeatFilled
from services.recommendations import models
from services.recommendations.scale import DEFAULT_SCALE, tally


def _state(recommendations, round_id):
    with recommendations.ctx.engine.connect() as conn:
        voters = conn.execute(sa.select(models.round_voters)
                              .where(models.round_voters.c.round_id == round_id)).fetchall()
    return cast_levels(recommendations, round_id), len(voters)


def test_every_bad_ballot_names_the_field_and_changes_nothing(recommendations):
    rec = draft(recommendations)
    present = MEMBERS[:6]
    round_id = voting_round(recommendations, rec["id"], present=present)
    c = codes(recommendations)
    assert vote(recommendations, round_id, c["m01"], "support").status_code == 201
    before = _state(recommendations, round_id)
    cases = [
        (c["m02"], "enthusiastic", 422, "level"),           # outside the scale
        (c["m02"], None, 422, "level"),
        (c["m01"], "opposition", 409, "member_code"),       # a second vote
        ("FFFF-FFFF-FFFF-FFFF", "support", 401, "member_code"),  # not a member at all
        ("", "support", 401, "member_code"),
        (c["m07"], "support", 403, "member_code"),          # seated but not present
    ]
    for code, level, status, field in cases:
        r = vote(recommendations, round_id, code, level)
        assert (r.status_code, r.json["field"]) == (status, field), (code, level, r.json)
        assert r.json["error"]
        assert _state(recommendations, round_id) == before
    r = recommendations.client.post("/rounds/nope/ballots", json={"member_code": c["m02"],
                                                                  "level": "support"})
    assert r.status_code == 404 and r.json["field"] == "round_id"
    # A member who withdrew loses the seat and the code.
    recommendations.publish(MemberWithdrew(member_id="m03", before_session=3))
    r = vote(recommendations, round_id, c["m03"], "support")
    assert r.status_code == 401 and r.json["field"] == "member_code"
    # A member of another assembly cannot vote here.
    assert _state(recommendations, round_id) == before
    # Roll call only for seated members.
    r = recommendations.call("put", f"/rounds/{round_id}/roll-call", present=["m01", "stranger"])
    assert r.status_code == 422 and r.json["field"] == "present[1]"
    # Closed rounds take no votes.
    recommendations.call("post", f"/rounds/{round_id}/close")
    r = vote(recommendations, round_id, c["m02"], "support")
    assert r.status_code == 409 and r.json["field"] == "round_id"


def test_substitute_who_fills_a_seat_may_vote(recommendations):
    recommendations.publish(SeatFilled(vacated_by="m08", substitute_id="s01"))
    rec = draft(recommendations)
    r = recommendations.call("post", f"/recommendations/{rec['id']}/rounds")
    round_id = r.json["id"]
    assert recommendations.call("put", f"/rounds/{round_id}/roll-call",
                                present=["m08"]).json["field"] == "present[0]"
    recommendations.call("put", f"/rounds/{round_id}/roll-call", present=["s01"])
    code = codes(recommendations, ["s01"])["s01"]
    assert vote(recommendations, round_id, code, "support").status_code == 201
    r = recommendations.call("post", f"/assemblies/{ASSEMBLY}/members/m08/code")
    assert r.status_code == 404 and r.json["field"] == "member_id"


def test_ballots_are_secret(recommendations):
    rec = draft(recommendations)
    round_id = voting_round(recommendations, rec["id"])
    c = codes(recommendations)
    vote(recommendations, round_id, c["m01"], "opposition")
    vote(recommendations, round_id, c["m02"], "full_support")
    with recommendations.ctx.engine.connect() as conn:
        rows = conn.execute(sa.select(models.round_tallies)).fetchall()
        stored = str(rows) + str(conn.execute(sa.select(models.members)).fetchall())
    # Only counts: no row names a member, and every level of the scale has its row.
    assert {level: count for _, level, count in rows} == {
        "full_support": 1, "support": 0, "neutral": 0, "reservations": 0, "opposition": 1,
        "abstain": 0}
    assert "m01" not in str(rows) and "m02" not in str(rows)
    for code in c.values():  # codes are kept only as hashes
        assert code not in stored
    # Operators see how many voted, not who voted what; the audit log has no levels.
    got = recommendations.call("get", f"/rounds/{round_id}").json
    assert got["voted"] == 2 and got["result"] is None and "ballots" not in got
    assert all("level" not in e.detail for e in audit.entries(recommendations.ctx.engine))
    assert all(e.actor == "member" for e in audit.entries(recommendations.ctx.engine)
               if e.action == "round.vote")
    recommendations.call("post", f"/rounds/{round_id}/close")
    # No key exists that could link a ballot to a member.
    assert "hmac_key" not in models.rounds.c


def test_threshold_is_met_at_exactly_three_quarters(recommendations):
    rec_id, result = adopt(recommendations, levels=("full_support",) * 4 + ("support",) * 2
                           + ("opposition",) * 2)
    res = result["result"]
    assert res["support_share"] == 0.75 and res["threshold_met"] is True
    assert {d["level"]: d["count"] for d in res["distribution"]}["support"] == 2
    assert recommendations.call("get", f"/recommendations/{rec_id}").json["status"] == "adopted"
    rec_id, result = adopt(recommendations, "Mindre kød", levels=("support",) * 5 + ("neutral",) * 2
                           + ("reservations",))
    assert result["result"]["support_share"] == 0.625
    assert result["result"]["threshold_met"] is False
    rec = recommendations.call("get", f"/recommendations/{rec_id}").json
    assert rec["status"] == "draft"  # can be amended and voted on in a new round
    assert recommendations.call("post", f"/recommendations/{rec_id}/rounds").json["number"] == 2


def test_tally_leaves_abstentions_out_of_the_share():
    r = tally(DEFAULT_SCALE, ["support"] * 3 + ["opposition"] + ["abstain"] * 4, 0.75)
    assert (r["votes"], r["abstentions"], r["support_share"], r["threshold_met"]) == (4, 4, 0.75,
                                                                                      True)
    r = tally(DEFAULT_SCALE, ["abstain"], 0.75)
    assert r["support_share"] == 0 and r["threshold_met"] is False
    assert tally(DEFAULT_SCALE, ["full_support"] * 2 + ["neutral"], 2 / 3)["threshold_met"]


def test_assembly_sets_its_own_scale_and_threshold(recommendations):
    scale = [{"key": "ja", "label": {"da": "Ja", "en": "Yes"}, "support": True},
             {"key": "nej", "label": {"da": "Nej", "en": "No"}}]
    r = recommendations.call("put", f"/assemblies/{ASSEMBLY}", scale=scale, threshold=60)
    assert r.status_code == 200 and r.json["threshold"] == 0.6
    bad = recommendations.call("put", f"/assemblies/{ASSEMBLY}", scale=[scale[0], scale[0]])
    assert bad.status_code == 400 and bad.json["field"] == "scale[1].key"
    bad = recommendations.call("put", f"/assemblies/{ASSEMBLY}", threshold=150)
    assert bad.status_code == 400 and bad.json["field"] == "threshold"
    assert recommendations.call("get", f"/assemblies/{ASSEMBLY}").json["threshold"] == 0.6
    rec_id, result = adopt(recommendations, levels=("ja",) * 5 + ("nej",) * 3)
    assert result["result"]["support_share"] == 0.625 and result["result"]["threshold_met"]
    assert [lv["key"] for lv in result["scale"]] == ["ja", "nej"]


def test_minority_statements_attach_to_a_recommendation(recommendations):
    rec_id, result = adopt(recommendations)
    r = recommendations.call("post", f"/recommendations/{rec_id}/minority-statements",
                             text="Vi mener, at bilisterne glemmes.", supporters=2,
                             round_id=result["id"])
    assert r.status_code == 201
    r = recommendations.call("post", f"/recommendations/{rec_id}/minority-statements", text="",
                             supporters=2)
    assert r.status_code == 400 and r.json["field"] == "text"
    got = recommendations.call("get", f"/recommendations/{rec_id}").json
    assert [s["supporters"] for s in got["minority_statements"]] == [2]


def test_adoption_is_published_on_the_bus(recommendations):
    seen = []
    consumer = recommendations.bus.consumer("t", ["recommendation_adopted"], seen.append)
    rec_id, result = adopt(recommendations)
    consumer.poll_once(0.01)
    assert len(seen) == 1
    event = seen[0].recommendation_adopted
    assert (event.recommendation_id, event.title, event.support_share, event.votes) == (
        rec_id, "Flere cykelstier", 0.75, 8)
    assert seen[0].assembly_id == ASSEMBLY
    assert recommendations.ctx.outbox.pending() == 0
