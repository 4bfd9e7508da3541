"""The sign-up page in headless Chromium: Danish and English, keyboard only, error summary."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from registry_support import Api, extract, person_rows

from services.registry import models


@pytest.mark.browser
def test_signup_page(registry, page, live_server):
    app, ctx = registry
    api = Api(app, ctx)
    api.assembly()
    api.upload("a1", extract(person_rows(6)))
    api.post("/api/assemblies/a1/rollouts", {"scope": "Danmark", "size": 3})
    with ctx.engine.connect() as conn:
        code = conn.scalar(sa.select(models.invitations.c.code))
    url = live_server(app)
    page.goto(f"{url}/signup")
    assert page.get_attribute("html", "lang") == "da"
    page.get_by_label("Din kode fra invitationen").fill("WRONGCODE2")
    page.keyboard.press("Enter")
    summary = page.locator("#error-summary")
    assert "Koden findes ikke" in summary.inner_text()
    summary.get_by_role("link").click()
    assert page.evaluate("document.activeElement.id") == "field-code"
    page.get_by_role("link", name="English").click()
    assert page.get_attribute("html", "lang") == "en"
    page.get_by_label("Your code from the invitation").fill(code.lower())
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Sign me up").click()  # nothing answered
    text = page.locator("#error-summary").inner_text()
    assert "Choose an answer" in text and "consent" in text and "session dates" in text
    page.get_by_label("Long").check()
    page.get_by_label("I can take part on the session dates").check()
    page.get_by_label("I consent", exact=False).focus()
    page.keyboard.press("Space")  # keyboard works
    page.get_by_role("button", name="Sign me up").click()
    assert page.locator("h2#done").inner_text() == "Thank you for signing up"
    page.go_back()
    page.get_by_role("button", name="Sign me up").click()  # double submission
    assert "already been used" in page.locator("#error-summary").inner_text()
