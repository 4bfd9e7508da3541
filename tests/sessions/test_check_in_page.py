"""The check-in page in headless Chromium: a facilitator checks members in and the
attendance API shows them present."""
from __future__ import annotations

import pytest
from sessions_support import assembly_created, panel_drawn, session_body

PANEL = [f"p{i:02d}" for i in range(6)]


@pytest.mark.browser
def test_facilitator_checks_members_in_on_the_page(sessions, page, live_server):
    sessions.deliver(assembly_created())
    sessions.deliver(panel_drawn(PANEL))
    sessions.call("put", "/api/assemblies/a1/composition",
                  json={"members": {"p00": {"name": "Karen Jensen", "name_consent": True}}})
    sessions.call("post", "/api/assemblies/a1/sessions", json=session_body("s1", 1))
    base = live_server(sessions.app)
    page.goto(f"{base}/check-in/s1?lang=en")
    assert page.get_attribute("html", "lang") == "en"
    page.get_by_label("Access token").fill(sessions.tokens["facilitator"])
    page.keyboard.press("Enter")  # the form is usable from the keyboard
    page.wait_for_selector("#members li >> nth=5")
    assert page.locator("#members li").count() == 6
    assert page.get_by_label("Karen Jensen").is_visible()  # named only with consent
    status = page.locator("#status")
    for label in ("Karen Jensen", "p03"):
        page.get_by_label(label).check()
        page.wait_for_function(
            "label => document.getElementById('status').textContent.endsWith(label)",
            arg="p00" if label == "Karen Jensen" else label)
    assert status.text_content().startswith("Saved")
    marks = sessions.call("get", "/api/sessions/s1/attendance", role="observer").json["members"]
    assert {x["member_id"] for x in marks if x["present"] is True} == {"p00", "p03"}
    assert all(x["present"] is None for x in marks if x["member_id"] not in ("p00", "p03"))
    page.reload()
    page.get_by_label("Access token").fill(sessions.tokens["facilitator"])
    page.get_by_role("button", name="Load members").click()
    page.wait_for_selector("#members li >> nth=5")
    assert page.get_by_label("p03").is_checked() and not page.get_by_label("p01").is_checked()
