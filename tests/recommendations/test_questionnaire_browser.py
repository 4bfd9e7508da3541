"""The members' questionnaire page and the public evaluation report in headless Chromium."""
import pytest
import sqlalchemy as sa
from recommendations_support import ASSEMBLY, codes

from services.recommendations import models as m


@pytest.mark.browser
def test_member_answers_the_questionnaire_by_keyboard_and_mouse(recommendations, page, live_server):
    q = recommendations.call("post", f"/assemblies/{ASSEMBLY}/questionnaires", audience="member",
                             stage="session", session_id="s1").json
    code = codes(recommendations, ["m01"])["m01"]
    base = live_server(recommendations.app)
    page.goto(f"{base}/public/questionnaires/{q['questionnaire_id']}/form")
    assert page.get_attribute("html", "lang") == "da"
    assert page.text_content("h1").strip() == "Evaluering af samlingen s1"
    # every closed question is a fieldset with a legend; radios are labelled
    legends = page.locator("fieldset legend").all_text_contents()
    assert "Jeg forstod, hvad opgaven var i dag." in legends and len(legends) == 5
    page.get_by_label("Helt enig").first.check()
    page.click("button[type=submit]")
    # no code: the error summary takes the focus and links to the field
    assert page.evaluate("document.activeElement.id") == "error-summary"
    assert page.locator("#member_code").get_attribute("aria-invalid") == "true"
    page.fill("#member_code", code)
    page.get_by_label("Helt enig").first.check()
    page.locator("fieldset").nth(1).get_by_label("Enig", exact=True).check()
    page.fill("textarea", "Godt med pauser")
    page.click("button[type=submit]")
    assert "Tak for dine svar" in page.text_content("main")
    with recommendations.ctx.engine.connect() as conn:
        tallies = {(t.question_id, t.option): t.count
                   for t in conn.execute(sa.select(m.answer_tallies))}
    assert tallies == {("understanding", "5"): 1, ("heard", "4"): 1}
    # a second try with the same code is refused, in English on the English page
    page.goto(f"{base}/public/questionnaires/{q['questionnaire_id']}/form?lang=en")
    page.fill("#member_code", code)
    page.get_by_label("Strongly agree").first.check()
    page.click("button[type=submit]")
    assert "This code has been used already" in page.text_content("#error-summary")


@pytest.mark.browser
def test_public_evaluation_report_is_reachable_from_the_transparency_page(recommendations, page,
                                                                           live_server):
    base = live_server(recommendations.app)
    page.goto(f"{base}/public/assemblies/{ASSEMBLY}?lang=en")
    page.click("#evaluation a")
    assert page.locator("h1").text_content() == "Evaluation"
    page.click(f"text={ASSEMBLY}-evaluation-public-en.html")
    assert page.get_attribute("html", "lang") == "en"
    headings = page.locator("section h2").all_text_contents()
    assert headings[0] == "Representativeness" and "Impact a year on" in headings
    assert "Free-text answers" not in page.text_content("body")
