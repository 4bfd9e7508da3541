"""The browser harness itself: Debian's Chromium renders a page our server serves."""
import pytest
from flask import Flask


@pytest.mark.browser
def test_chromium_renders_a_served_page(page, live_server):
    app = Flask("t")

    @app.get("/")
    def index():
        return ("<html lang='da'><title>Tilmelding</title>"
                "<button id='b' onclick=\"this.textContent='ok'\">Klik</button></html>")

    page.goto(live_server(app))
    assert page.title() == "Tilmelding"
    page.click("#b")
    assert page.text_content("#b") == "ok"
