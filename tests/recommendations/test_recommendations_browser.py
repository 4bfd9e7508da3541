"""The public transparency page in headless Chromium: accessible structure, both languages."""
from datetime import date

import pytest
from recommendations_support import ASSEMBLY, adopt


@pytest.mark.browser
def test_transparency_page_is_accessible(recommendations, page, live_server):
    rec_id, _ = adopt(recommendations, "Flere cykelstier")
    recommendations.call("put", f"/assemblies/{ASSEMBLY}/handover", role="administration",
                         receiving_body="Regionsrådet", body_kind="regional_council",
                         handed_over_on="2025-03-01", answer_deadline="2025-04-01")
    recommendations.call("post", f"/recommendations/{rec_id}/implementation", role="administration",
                         status="in_progress", percent=40, responsible_committee="Trafikudvalget")
    recommendations.clock.today = date(2025, 5, 1)
    base = live_server(recommendations.app)
    page.goto(f"{base}/public/assemblies/{ASSEMBLY}")
    assert page.get_attribute("html", "lang") == "da"
    assert page.locator("h1").count() == 1
    assert "Anbefalinger og svar" in page.text_content("h1")
    assert page.locator("h2").first.text_content().strip() == "1. Flere cykelstier"
    overview = page.locator("table#overview")
    assert overview.locator("caption").text_content() == "Oversigt over anbefalingerne"
    headers = overview.locator("thead th[scope=col]").all_text_contents()
    assert headers == ["Nr.", "Anbefaling", "Status", "Opbakning", "Svar", "Gennemførelse"]
    row = overview.locator("tbody tr").first
    assert row.locator("th[scope=row]").text_content().strip() == "Flere cykelstier"
    assert "75 %" in row.text_content() and "Svarfristen er overskredet" in row.text_content()
    assert page.get_by_role("progressbar").get_attribute("value") == "40"
    # Keyboard: the first Tab reaches the skip link.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('href')") == "#main"
    page.click("text=English")
    assert page.get_attribute("html", "lang") == "en"
    caption = page.locator("table#overview caption").text_content()
    assert caption == "Overview of the recommendations"
    assert "In progress" in page.text_content("main")
