"""Anonymous evaluation questionnaires: once per respondent, nothing linking an answer to a
member, results only from enough answers, clear refusals that write nothing."""
import sqlalchemy as sa
from recommendations_support import ASSEMBLY, MEMBERS, codes

from services.contracts.kleroterion.v1.sessions_events_pb2 import MemberWithdrew
from services.recommendations import models as m


def _questionnaire(recommendations, **body):
    r = recommendations.call("post", f"/assemblies/{ASSEMBLY}/questionnaires", **body)
    assert r.status_code == 201, r.json
    return r.json


def _answer(recommendations, qid, **body):
    return recommendations.client.post(f"/public/questionnaires/{qid}/responses", json=body)


def test_default_member_questionnaire_covers_the_oecd_criteria(recommendations):
    q = _questionnaire(recommendations, audience="member", stage="final")
    ids = [x["id"] for x in q["questions"]]
    for wanted in ("understanding", "heard", "information_balance", "facilitation", "time",
                   "trust_process", "comment"):
        assert wanted in ids
    assert all(set(x["text"]) == {"da", "en"} for x in q["questions"])
    after = _questionnaire(recommendations, audience="member", stage="session", session_id="s1")
    assert "trust_process" not in [x["id"] for x in after["questions"]]
    assert after["title"]["en"] == "Evaluation of session s1"
    # one open questionnaire per audience and stage (and session)
    r = recommendations.call("post", f"/assemblies/{ASSEMBLY}/questionnaires", audience="member",
                             stage="final")
    assert r.status_code == 409 and r.json["field"] == "audience"


def test_each_member_answers_once_and_answers_are_counted_not_linked(recommendations):
    q = _questionnaire(recommendations, audience="member", stage="final")
    member_codes = codes(recommendations)
    r = _answer(recommendations, q["questionnaire_id"], member_code=member_codes["m01"],
                answers={"heard": "5", "time": "2", "comment": "Godt forløb"})
    assert r.status_code == 201, r.json
    again = _answer(recommendations, q["questionnaire_id"], member_code=member_codes["m01"],
                    answers={"heard": "1"})
    assert again.status_code == 409 and again.json["field"] == "member_code"
    with recommendations.ctx.engine.connect() as conn:
        tallies = {(t.question_id, t.option): t.count for t in conn.execute(
            sa.select(m.answer_tallies))}
        respondents = conn.execute(sa.select(m.questionnaire_respondents)).fetchall()
        comments = conn.execute(sa.select(m.answer_comments)).fetchall()
    assert tallies == {("heard", "5"): 1, ("time", "2"): 1}
    # who answered is an HMAC, never the member id; the free text has no time and no member
    assert len(respondents) == 1 and "m01" not in respondents[0].respondent_key
    assert [c.text for c in comments] == ["Godt forløb"]
    assert set(m.answer_comments.c.keys()) == {"id", "questionnaire_id", "question_id", "text"}
    assert not any(isinstance(c.type, sa.DateTime) for t in (m.answer_tallies,
                   m.questionnaire_respondents, m.answer_comments) for c in t.columns)
    # closing drops the key and the list of who answered
    r = recommendations.call("post", f"/questionnaires/{q['questionnaire_id']}/close")
    assert r.status_code == 200 and r.json["responses"] == 1
    with recommendations.ctx.engine.connect() as conn:
        assert conn.execute(sa.select(m.questionnaire_respondents)).fetchall() == []
        assert conn.scalar(sa.select(m.questionnaires.c.hmac_key)) is None
    late = _answer(recommendations, q["questionnaire_id"], member_code=member_codes["m02"],
                   answers={"heard": "4"})
    assert late.status_code == 409 and late.json["field"] == "questionnaire_id"


def test_refusals_name_the_field_and_write_nothing(recommendations):
    q = _questionnaire(recommendations, audience="member", stage="session", session_id="s1")
    qid = q["questionnaire_id"]
    member_codes = codes(recommendations, MEMBERS[:2])
    cases = [
        ({"answers": {"heard": "5"}}, 401, "member_code"),
        ({"member_code": "ZZZZ-ZZZZ-ZZZZ-ZZZZ", "answers": {"heard": "5"}}, 401, "member_code"),
        ({"member_code": member_codes["m01"], "answers": {"heard": "9"}}, 422, "answers.heard"),
        ({"member_code": member_codes["m01"], "answers": {"mood": "5"}}, 422, "answers.mood"),
        ({"member_code": member_codes["m01"], "answers": {"comment": "x" * 2001}}, 400,
         "answers.comment"),
        ({"member_code": member_codes["m01"], "answers": {}}, 400, "answers"),
        ({"member_code": member_codes["m01"], "answers": ["5"]}, 400, "answers"),
    ]
    for body, status, field in cases:
        r = _answer(recommendations, qid, **body)
        assert (r.status_code, r.json["field"]) == (status, field), (body, r.json)
    with recommendations.ctx.engine.connect() as conn:
        for table in (m.answer_tallies, m.answer_comments, m.questionnaire_respondents):
            assert conn.execute(sa.select(table)).fetchall() == []
        assert conn.scalar(sa.select(m.questionnaires.c.responses)) == 0
    # the refused member can still answer: a bad answer did not use up the turn
    assert _answer(recommendations, qid, member_code=member_codes["m01"],
                   answers={"heard": "4"}).status_code == 201
    # a member who left the panel loses the code with the seat
    recommendations.publish(MemberWithdrew(member_id="m02", before_session=2, reason="moved"))
    r = _answer(recommendations, qid, member_code=member_codes["m02"], answers={"heard": "4"})
    assert r.status_code == 401 and r.json["field"] == "member_code"
    assert _answer(recommendations, "nope", member_code="x", answers={}).status_code == 404


def test_bad_questionnaires_are_refused_with_the_field(recommendations):
    cases = [
        ({"audience": "public"}, "audience"),
        ({"stage": "daily"}, "stage"),
        ({"stage": "session"}, "session_id"),
        ({"audience": "observer", "stage": "session", "session_id": "s1"}, "stage"),
        ({"questions": []}, "questions"),
        ({"questions": [{"id": "q1", "kind": "slider", "text": {"da": "a", "en": "b"}}]},
         "questions[0].kind"),
        ({"questions": [{"id": "q1", "kind": "agree", "text": {"da": "a"}}]},
         "questions[0].text"),
        ({"questions": [{"id": "q1", "kind": "choice", "text": {"da": "a", "en": "b"},
                         "options": [{"key": "x", "label": {"da": "x", "en": "x"}}]}]},
         "questions[0].options"),
        ({"questions": [{"id": "q 1", "kind": "text", "text": {"da": "a", "en": "b"}}]},
         "questions[0].id"),
    ]
    for body, field in cases:
        r = recommendations.call("post", f"/assemblies/{ASSEMBLY}/questionnaires", **body)
        assert r.status_code in (400, 422) and r.json["field"] == field, (body, r.json)
    r = recommendations.call("post", f"/assemblies/{ASSEMBLY}/questionnaires",
                             role="administration")
    assert r.status_code == 403
    with recommendations.ctx.engine.connect() as conn:
        assert conn.execute(sa.select(m.questionnaires)).fetchall() == []


def test_observers_answer_with_one_time_codes_and_results_need_enough_answers(recommendations):
    q = _questionnaire(recommendations, audience="observer", stage="final", questions=[
        {"id": "neutral", "kind": "agree", "text": {"da": "Neutral?", "en": "Neutral?"}},
        {"id": "role", "kind": "choice", "text": {"da": "Rolle", "en": "Role"},
         "options": [{"key": "press", "label": {"da": "Presse", "en": "Press"}},
                     {"key": "research", "label": {"da": "Forsker", "en": "Researcher"}}]},
        {"id": "remarks", "kind": "text", "text": {"da": "Bemærkninger", "en": "Remarks"}}])
    qid = q["questionnaire_id"]
    r = recommendations.call("post", f"/questionnaires/{qid}/codes", count=6)
    assert r.status_code == 201 and len(set(r.json["codes"])) == 6
    slips = r.json["codes"]
    for n, code in enumerate(slips[:4]):
        r = _answer(recommendations, qid, respondent_code=code.lower(),
                    answers={"neutral": "4" if n else "2", "role": "press", "remarks": f"r{n}"})
        assert r.status_code == 201, r.json
    assert _answer(recommendations, qid, respondent_code=slips[0],
                   answers={"neutral": "5"}).status_code == 409
    results = recommendations.call("get", f"/questionnaires/{qid}/results").json
    assert results["suppressed"] and results["questions"] == [] and results["responses"] == 4
    assert _answer(recommendations, qid, respondent_code=slips[4],
                   answers={"neutral": "5"}).status_code == 201
    results = recommendations.call("get", f"/questionnaires/{qid}/results").json
    assert not results["suppressed"]
    neutral, role, remarks = results["questions"]
    assert neutral["answered"] == 5 and neutral["mean"] == (2 + 4 * 3 + 5) / 5
    assert neutral["agree_share"] == 0.8
    assert {o["key"]: o["count"] for o in role["options"]} == {"press": 4, "research": 0}
    assert sorted(remarks["comments"]) == ["r0", "r1", "r2", "r3"]
    # members answer with their member code, not with slips
    mq = _questionnaire(recommendations, audience="member", stage="final")
    r = recommendations.call("post", f"/questionnaires/{mq['questionnaire_id']}/codes", count=2)
    assert r.status_code == 409
    assert recommendations.call("post", f"/questionnaires/{qid}/codes",
                                count=0).json["field"] == "count"
    assert recommendations.call("post", f"/questionnaires/{qid}/codes",
                                count=501).status_code == 400


def test_questionnaire_page_in_both_languages(recommendations):
    q = _questionnaire(recommendations, audience="member", stage="final")
    qid = q["questionnaire_id"]
    member_codes = codes(recommendations, MEMBERS[:1])
    page = recommendations.client.get(f"/public/questionnaires/{qid}/form")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'lang="da"' in html and "Medlemskode" in html
    assert "Jeg forstod, hvad opgaven var i dag." in html
    en = recommendations.client.get(f"/public/questionnaires/{qid}/form?lang=en").get_data(
        as_text=True)
    assert "I understood what today&#39;s task was." in en and "Member code" in en
    bad = recommendations.client.post(f"/public/questionnaires/{qid}/form",
                                      data={"member_code": "nope", "q-heard": "5"})
    assert bad.status_code == 401 and "Koden er ukendt" in bad.get_data(as_text=True)
    ok = recommendations.client.post(f"/public/questionnaires/{qid}/form",
                                     data={"member_code": member_codes["m01"], "q-heard": "5",
                                           "q-comment": "Tak", "lang": "en"})
    assert ok.status_code == 303 and "recorded=1" in ok.headers["Location"]
    done = recommendations.client.get(ok.headers["Location"]).get_data(as_text=True)
    assert "Thank you for your answers" in done
    twice = recommendations.client.post(f"/public/questionnaires/{qid}/form",
                                        data={"member_code": member_codes["m01"], "q-heard": "1"})
    assert twice.status_code == 409 and "allerede" in twice.get_data(as_text=True)
    assert recommendations.client.get("/public/questionnaires/nope/form").status_code == 404
    assert recommendations.client.get(
        f"/public/questionnaires/{qid}/form?lang=fr").status_code == 400
