"""Handover, answers kept apart from implementation, overdue answers, open data, restart."""
import csv
import io
import json
from datetime import date

from recommendations_support import ASSEMBLY, adopt, codes, draft, vote, voting_round

from services.contracts.kleroterion.v1.sessions_events_pb2 import SessionHeld


def _handover(recommendations, **extra):
    r = recommendations.call("put", f"/assemblies/{ASSEMBLY}/handover", role="administration",
                             receiving_body="Regionsrådet", body_kind="regional_council",
                             handed_over_on="2025-03-01", answer_deadline="2025-06-01", **extra)
    assert r.status_code == 200, r.json
    return r.json


def test_answer_and_implementation_are_kept_apart(recommendations):
    rec_id, _ = adopt(recommendations)
    _handover(recommendations)
    recommendations.clock.today = date(2025, 4, 1)
    r = recommendations.call("post", f"/recommendations/{rec_id}/answers", role="administration",
                             answer="rejected", reasons="For dyrt", answered_on="2025-03-20")
    assert r.status_code == 201 and r.json["answer"]["answered_by"] == "Regionsrådet"
    assert r.json["implementation"] is None  # an answer says nothing about implementation
    r = recommendations.call("post", f"/recommendations/{rec_id}/implementation",
                             role="administration",
                             status="pilot", percent=20, responsible_committee="Trafikudvalget")
    assert r.status_code == 201
    got = r.json
    assert got["answer"]["answer"] == "rejected"  # the pilot did not change the answer
    assert got["implementation"] == {"status": "pilot", "percent": 20,
                                     "responsible_committee": "Trafikudvalget", "note": "",
                                     "updated_on": "2025-04-01"}
    r = recommendations.call("post", f"/recommendations/{rec_id}/implementation",
                             role="administration",
                             status="in_progress", percent=60)
    assert r.json["implementation"]["responsible_committee"] == "Trafikudvalget"
    r = recommendations.call("post", f"/recommendations/{rec_id}/milestones", role="administration",
                             title="Første strækning", due="2025-09-01")
    assert r.status_code == 201
    recommendations.call("post", f"/milestones/{r.json['id']}/done", role="administration")
    r = recommendations.call("post", f"/recommendations/{rec_id}/answers", role="administration",
                             answer="partly_accepted", reasons="Efter forsøget",
                             answered_on="2025-04-01")
    got = r.json
    assert [a["answer"] for a in got["answers"]] == ["rejected", "partly_accepted"]
    assert [u["status"] for u in got["implementation_history"]] == ["pilot", "in_progress"]
    assert [e["event"] for e in got["timeline"]][:2] == ["adopted", "handed_over"]
    assert {"milestone", "answer", "implementation"} <= {e["event"] for e in got["timeline"]}


def test_bad_answers_name_the_field_and_change_nothing(recommendations):
    rec_id, _ = adopt(recommendations)
    draft_id = draft(recommendations, "Kladde")["id"]
    cases = [
        ("/recommendations/unknown/answers", {"answer": "accepted", "reasons": "x",
                                              "answered_on": "2025-03-01"},
         404, "recommendation_id"),
        (f"/recommendations/{draft_id}/answers", {"answer": "accepted", "reasons": "x",
                                                  "answered_on": "2025-03-01"},
         409, "recommendation_id"),
        (f"/recommendations/{rec_id}/answers", {"answer": "maybe", "reasons": "x",
                                                "answered_on": "2025-03-01"}, 422, "answer"),
        (f"/recommendations/{rec_id}/answers", {"answer": "accepted", "reasons": "x",
                                                "answered_on": "2026-01-01"}, 400, "answered_on"),
        (f"/recommendations/{rec_id}/answers", {"answer": "accepted", "reasons": "x",
                                                "answered_on": "2025-03-01"}, 400, "answered_by"),
        (f"/recommendations/{rec_id}/implementation", {"status": "done", "percent": 50}, 400,
         "percent"),
        (f"/recommendations/{rec_id}/implementation", {"status": "finished"}, 422, "status"),
        ("/recommendations/unknown/implementation", {"status": "done"}, 404, "recommendation_id"),
    ]
    for path, body, status, field in cases:
        r = recommendations.call("post", path, role="administration", **body)
        assert (r.status_code, r.json["field"]) == (status, field), (path, body, r.json)
    r = recommendations.call("post", f"/recommendations/{rec_id}/answers", role="facilitator",
                             answer="accepted", reasons="x", answered_on="2025-03-01")
    assert r.status_code == 403
    item = recommendations.call("get",
                                f"/assemblies/{ASSEMBLY}/tracking").json["recommendations"][0]
    assert item["answers"] == [] and item["implementation_history"] == []


def test_overdue_answers_are_flagged_by_the_clock(recommendations):
    rec_id, _ = adopt(recommendations)
    other_id, _ = adopt(recommendations, "Grønne tage")
    recommendations.clock.today = date(2025, 7, 1)
    tracking = recommendations.call("get", f"/assemblies/{ASSEMBLY}/tracking").json
    assert tracking["overdue"] == []  # no handover, no deadline
    _handover(recommendations)
    recommendations.clock.today = date(2025, 6, 1)  # the deadline day itself is in time
    assert recommendations.call("get", f"/assemblies/{ASSEMBLY}/tracking").json["overdue"] == []
    recommendations.clock.today = date(2025, 6, 2)
    recommendations.call("post", f"/recommendations/{other_id}/answers", role="administration",
                         answer="under_consideration", reasons="Vi venter på budgettet",
                         answered_on="2025-05-01")
    tracking = recommendations.call("get", f"/assemblies/{ASSEMBLY}/tracking").json
    assert sorted(tracking["overdue"]) == sorted([rec_id, other_id])
    assert tracking["recommendations"][0]["days_overdue"] == 1
    recommendations.call("post", f"/recommendations/{rec_id}/answers", role="administration",
                         answer="accepted", reasons="Godt forslag", answered_on="2025-06-02")
    assert recommendations.call("get",
                                f"/assemblies/{ASSEMBLY}/tracking").json["overdue"] == [other_id]


def test_answer_is_published(recommendations):
    seen = []
    consumer = recommendations.bus.consumer("t", ["answer_recorded", "implementation_updated"],
                                            seen.append)
    rec_id, _ = adopt(recommendations)
    _handover(recommendations)
    recommendations.call("post", f"/recommendations/{rec_id}/answers", role="administration",
                         answer="accepted", reasons="Ja", answered_on="2025-03-01")
    recommendations.call("post", f"/recommendations/{rec_id}/implementation", role="administration",
                         status="not_started")
    while consumer.poll_once(0.01):
        pass
    kinds = sorted(e.event_type for e in seen)
    assert kinds == ["answer_recorded", "implementation_updated"]
    answer = next(e for e in seen if e.event_type == "answer_recorded").answer_recorded
    assert (answer.recommendation_id, answer.answer, answer.answered_by, answer.answered_on) == (
        rec_id, "accepted", "Regionsrådet", "2025-03-01")


def test_open_data_json_and_csv(recommendations):
    rec_id, _ = adopt(recommendations)
    adopt(recommendations, "Mindre kød", levels=("opposition",) * 8)
    draft(recommendations, "Ikke stemt om endnu")
    _handover(recommendations)
    recommendations.call("post", f"/recommendations/{rec_id}/answers", role="administration",
                         answer="accepted", reasons="Ja", answered_on="2025-03-01")
    r = recommendations.client.get(f"/public/assemblies/{ASSEMBLY}/open-data.json")
    assert r.status_code == 200 and r.mimetype == "application/json"
    data = json.loads(r.data)
    assert [x["title"] for x in data["recommendations"]] == ["Flere cykelstier", "Mindre kød"]
    assert data["recommendations"][0]["answer"]["answer"] == "accepted"
    assert data["recommendations"][1]["status"] == "draft"
    r = recommendations.client.get(f"/public/assemblies/{ASSEMBLY}/open-data.csv")
    assert r.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(r.data.decode())))
    assert [row["title"] for row in rows] == ["Flere cykelstier", "Mindre kød"]
    assert rows[0]["support_share"] == "0.75" and rows[0]["votes_full_support"] == "6"
    assert rows[0]["answer"] == "accepted" and rows[1]["votes_opposition"] == "8"
    assert rows[1]["threshold_met"] == "False"
    assert "m01" not in r.data.decode()  # nothing about single members


def test_state_survives_a_restart(make_recommendations, tmp_path):
    from recommendations_support import MEMBERS

    from services.contracts.kleroterion.v1.sortition_events_pb2 import PanelDrawn
    recommendations = make_recommendations()
    recommendations.publish(PanelDrawn(run_id="r1", member_ids=MEMBERS))
    recommendations.publish(SessionHeld(session_id="s1", hours=6, present=8, seated=8))
    rec = draft(recommendations)
    round_id = voting_round(recommendations, rec["id"])
    c = codes(recommendations)
    assert vote(recommendations, round_id, c["m01"], "support").status_code == 201
    recommendations.stop()
    again = make_recommendations(bus=recommendations.bus)
    again.tokens = {}
    # The vote, the roll call and the member codes are still there.
    assert vote(again, round_id, c["m01"], "support").json["field"] == "member_code"
    assert vote(again, round_id, c["m02"], "support").status_code == 201
    r = again.call("post", f"/rounds/{round_id}/close")
    assert r.json["result"]["ballots"] == 2
    # An event seen before the restart is not applied twice.
    assert again.consumer.poll_once(0.01) == 0


def test_a_recommendation_can_have_its_own_answer_deadline(recommendations):
    from services.common import audit
    rec_id, _ = adopt(recommendations)
    other_id, _ = adopt(recommendations, "Grønne tage")
    draft_id = draft(recommendations, "Kladde")["id"]
    _handover(recommendations)  # the assembly's deadline: 2025-06-01
    path = f"/recommendations/{rec_id}/answer-deadline"
    cases = [
        ({"answer_deadline": "2025-13-01"}, 400, "answer_deadline"),
        ({"answer_deadline": "20250901"}, 400, "answer_deadline"),
        ({"answer_deadline": 20250901}, 400, "answer_deadline"),
        ({"answer_deadline": "2025-02-01"}, 400, "answer_deadline"),  # before the handover
        ({}, 400, "answer_deadline"),
    ]
    for body, status, field in cases:
        r = recommendations.call("put", path, role="administration", **body)
        assert (r.status_code, r.json["field"]) == (status, field), (body, r.json)
    r = recommendations.call("put", f"/recommendations/{draft_id}/answer-deadline",
                             role="administration",
                             answer_deadline="2025-09-01")
    assert r.status_code == 409 and r.json["field"] == "recommendation_id"
    assert recommendations.call("put", "/recommendations/nope/answer-deadline",
                                role="administration",
                                answer_deadline="2025-09-01").status_code == 404
    assert recommendations.call("put", path, role="facilitator",
                                answer_deadline="2025-09-01").status_code == 403

    r = recommendations.call("put", path, role="administration", answer_deadline="2025-09-01")
    assert r.status_code == 200 and r.json["answer_deadline"] == "2025-09-01"
    recommendations.clock.today = date(2025, 6, 2)  # past the assembly's deadline, not this one's
    tracking = recommendations.call("get", f"/assemblies/{ASSEMBLY}/tracking").json
    assert tracking["overdue"] == [other_id]
    recommendations.clock.today = date(2025, 9, 3)
    tracking = recommendations.call("get", f"/assemblies/{ASSEMBLY}/tracking").json
    assert sorted(tracking["overdue"]) == sorted([rec_id, other_id])
    mine = next(i for i in tracking["recommendations"] if i["id"] == rec_id)
    assert mine["days_overdue"] == 2
    public = json.loads(
        recommendations.client.get(f"/public/assemblies/{ASSEMBLY}/open-data.json").data)
    assert [x["answer_deadline"] for x in public["recommendations"]] == ["2025-09-01", "2025-06-01"]
    # Back to the assembly's deadline.
    r = recommendations.call("put", path, role="administration", answer_deadline=None)
    assert r.json["answer_deadline"] == "2025-06-01" and r.json["days_overdue"] == 94
    entries = [e for e in audit.entries(recommendations.ctx.engine)
               if e.action == "recommendation.answer_deadline"]
    assert [e.detail["answer_deadline"] for e in entries] == ["2025-09-01", None]
    assert all(e.role == "administration" and e.target == f"recommendation:{rec_id}"
               for e in entries)
