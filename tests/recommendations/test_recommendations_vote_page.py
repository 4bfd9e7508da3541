"""The members' voting page: an accessible form with the API's rules (once per round, only
present seated members, secret), in Danish and English."""
import re

import pytest
from recommendations_support import MEMBERS, cast_levels, codes, draft, voting_round

from services.common import audit


def _open(recommendations, present=MEMBERS):
    rec = draft(recommendations)
    round_id = voting_round(recommendations, rec["id"], present=present)
    return rec["id"], round_id


@pytest.mark.browser
def test_member_votes_on_the_page_once_and_unknown_codes_are_refused(recommendations, page,
                                                                     live_server):
    rec_id, round_id = _open(recommendations)
    c = codes(recommendations, ["m01"])
    vote_url = recommendations.call("get", f"/rounds/{round_id}").json["vote_url"]
    assert vote_url == f"/public/recommendations/{rec_id}/vote"
    base = live_server(recommendations.app)
    page.goto(base + vote_url)
    assert page.get_attribute("html", "lang") == "da"
    assert page.locator("h1").text_content() == "Stem om en anbefaling"
    legend = page.locator("fieldset legend")
    assert legend.text_content() == "Din opbakning til anbefalingen"
    radios = page.locator("fieldset input[type=radio]")
    assert radios.count() == 6
    for i in range(radios.count()):  # every choice has its own label
        radio_id = radios.nth(i).get_attribute("id")
        assert page.locator(f"label[for='{radio_id}']").count() == 1

    # Keyboard only: skip link, language link, the code, the scale, the button.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('href')") == "#main"
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "member_code"
    page.keyboard.type(c["m01"].lower())  # the code is not case-sensitive
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "level-full_support"
    page.keyboard.press("ArrowDown")  # moves to and chooses "Opbakning"
    assert page.get_by_role("radio", name="Opbakning", exact=True).is_checked()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.tagName") == "BUTTON"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Tak – din stemme er registreret" in page.text_content("main")
    assert recommendations.call("get", f"/rounds/{round_id}").json["voted"] == 1
    assert cast_levels(recommendations) == ["support"]

    # A second vote with the same code is refused, clearly, and changes nothing.
    page.goto(base + vote_url)
    page.get_by_label("Medlemskode").fill(c["m01"])
    page.get_by_role("radio", name="Modstand").check()
    page.get_by_role("button", name="Afgiv stemme").click()
    summary = page.locator("#error-summary")
    assert summary.get_attribute("role") == "alert"
    assert page.evaluate("document.activeElement.id") == "error-summary"
    assert "Du har allerede stemt i denne runde" in summary.text_content()
    assert summary.locator("a").get_attribute("href") == "#member_code"
    assert page.get_attribute("#member_code", "aria-invalid") == "true"
    assert page.input_value("#member_code") == ""  # the code is not echoed back
    assert recommendations.call("get", f"/rounds/{round_id}").json["voted"] == 1

    # In English, an unknown code is refused.
    page.click("text=English")
    assert page.get_attribute("html", "lang") == "en"
    page.get_by_label("Member code").fill("FFFF-FFFF-FFFF-FFFF")
    page.get_by_role("radio", name="Full support").check()
    page.get_by_role("button", name="Cast vote").click()
    assert "We do not know that member code" in page.text_content("#error-summary")
    assert page.title().startswith("Your vote was not recorded")
    assert cast_levels(recommendations) == ["support"]


def _post(recommendations, rec_id, **form):
    return recommendations.client.post(f"/public/recommendations/{rec_id}/vote", data=form)


def _errors(response):
    summary = response.data.decode().split('id="error-summary"')[1].split("</div>")[0]
    return [re.sub(r"<[^>]+>", "", li).strip() for li in re.findall(r"<li>(.*?)</li>", summary)]


def test_the_page_keeps_every_rule_of_the_api(recommendations):
    rec_id, round_id = _open(recommendations, present=MEMBERS[:6])
    c = codes(recommendations)
    r = _post(recommendations, rec_id)  # nothing given: both fields are named at once
    assert r.status_code == 400
    assert _errors(r) == ["Skriv din medlemskode.",
                          "Vælg, hvor stor opbakning du giver anbefalingen."]
    r = _post(recommendations, rec_id, member_code=c["m07"], level="support",
              lang="en")  # not present
    assert r.status_code == 403 and "not registered as present" in _errors(r)[0]
    r = _post(recommendations, rec_id, member_code=c["m01"],
              level="enthusiastic")  # not on the scale
    assert r.status_code == 422
    r = _post(recommendations, rec_id, member_code=c["m01"], level="neutral")
    assert r.status_code == 303 and "recorded=1" in r.headers["Location"]
    assert _post(recommendations, rec_id, member_code=c["m01"], level="neutral").status_code == 409
    # Secret: the audit says that a member voted in the round, never who or what.
    votes = [e for e in audit.entries(recommendations.ctx.engine) if e.action == "round.vote"]
    assert len(votes) == 1 and "level" not in votes[0].detail and votes[0].actor == "member"
    recommendations.call("post", f"/rounds/{round_id}/close")
    r = recommendations.client.get(f"/public/recommendations/{rec_id}/vote?lang=en")
    assert r.status_code == 409 and "no open vote" in r.data.decode()
    assert _post(recommendations, rec_id, member_code=c["m02"], level="neutral").status_code == 409
    assert recommendations.client.get("/public/recommendations/nope/vote").status_code == 404
    assert recommendations.client.get(
        f"/public/recommendations/{rec_id}/vote?lang=fr").json["field"] == "lang"
