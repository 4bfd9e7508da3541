"""The final report (built-in plugin: HTML and PDF, Danish and English) and its input."""
import base64
import re
import zlib

from recommendations_support import ASSEMBLY, adopt

from services.contracts.kleroterion.v1.sessions_events_pb2 import SessionHeld

REPORT_INPUT = {
    "title": {"da": "Borgersamling om klima", "en": "Citizens' assembly on climate"},
    "composition": [
        {"feature": "sex", "category": "female", "feature_label": {"da": "Køn", "en": "Sex"},
         "label": {"da": "Kvinder", "en": "Women"}, "population_share": 0.505, "panel_count": 4},
        {"feature": "sex", "category": "male", "population_share": 0.495, "panel_count": 4},
    ],
    "experts_heard": [{"name": "Prof. Ada Jensen", "role": {"da": "Klimaforsker",
                                                             "en": "Climate scientist"}}],
    "process_summary": {"da": "Fire weekender.", "en": "Four weekends."},
}


def _pdf_text(pdf: bytes) -> str:
    """The text of a reportlab PDF's page streams (Flate-compressed)."""
    out = []
    for stream in re.findall(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        raw = stream.strip()
        if raw.endswith(b"~>"):  # reportlab wraps Flate in ASCII85
            raw = base64.a85decode(raw[:-2].replace(b"\n", b"").replace(b"\r", b""))
        try:
            out.append(zlib.decompress(raw).decode("latin-1"))
        except zlib.error:
            pass  # fonts, images
    # Text shows up as (...) Tj strings; join them to compare plain text.
    return "".join(re.findall(r"\((.*?)(?<!\\)\) Tj", "".join(out))).replace("\\", "")


def test_report_input_is_checked(recommendations):
    bad = dict(REPORT_INPUT, composition=[dict(REPORT_INPUT["composition"][0],
                                               population_share=0.7)])
    r = recommendations.call("put", f"/assemblies/{ASSEMBLY}/report-input", **bad)
    assert r.status_code == 400 and r.json["field"] == "composition"
    bad = dict(REPORT_INPUT, composition=[dict(REPORT_INPUT["composition"][0], panel_count=-1)])
    r = recommendations.call("put", f"/assemblies/{ASSEMBLY}/report-input", **bad)
    assert r.json["field"] == "composition[0].panel_count"


def test_final_report_in_pdf_and_html_in_both_languages(recommendations):
    rec_id, _ = adopt(recommendations, "Flere cykelstier")
    adopt(recommendations, "Congestion charge", levels=("opposition",) * 8)
    recommendations.call("post", f"/recommendations/{rec_id}/minority-statements",
                         text="Bilisterne glemmes.", supporters=2)
    recommendations.publish(SessionHeld(session_id="s1", hours=6.5, present=8, seated=8))
    recommendations.publish(SessionHeld(session_id="s2", hours=7, present=7, seated=8))
    assert recommendations.call("put", f"/assemblies/{ASSEMBLY}/report-input",
                                **REPORT_INPUT).status_code == 200
    listing = recommendations.call("get", f"/assemblies/{ASSEMBLY}/reports?lang=en",
                                   role="administration").json
    names = {a["name"]: a for a in listing["reports"]}
    assert set(names) == {f"{ASSEMBLY}-final-report-en.html", f"{ASSEMBLY}-final-report-en.pdf"}
    pdf = recommendations.call("get", names[f"{ASSEMBLY}-final-report-en.pdf"]["url"],
                               role="administration")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")
    text = _pdf_text(pdf.data)
    for expected in ("Citizens' assembly on climate", "Flere cykelstier",
                     "Composition of the panel",
                     "Women", "Prof. Ada Jensen", "Bilisterne glemmes.", "13.5"):
        assert expected in text, expected
    html = recommendations.call("get",
                                f"/assemblies/{ASSEMBLY}/reports/da/{ASSEMBLY}-final-report-da.html",
                                role="facilitator")
    page = html.data.decode()
    assert '<html lang="da">' in page and "Borgersamling om klima" in page
    assert "Vedtagne anbefalinger" in page and "Kvinder" in page and "50 %" in page
    # 4 women and 4 men: below the minimum cell of 5, so neither count nor share is shown
    composition = page.split('id="comp"')[1].split("</section>")[0]
    assert composition.count("&lt; 5") == 2 and ">4<" not in composition
    # Only adopted recommendations are the report's recommendations.
    adopted = page.split('id="recs"')[1].split("</section>")[0]
    assert "Flere cykelstier" in adopted and "Congestion charge" not in adopted
    da_pdf = recommendations.call("get",
                                  f"/assemblies/{ASSEMBLY}/reports/da/{ASSEMBLY}-final-report-da.pdf")
    assert "Borgerpanelets sammens" in _pdf_text(da_pdf.data)
    assert recommendations.client.get(f"/assemblies/{ASSEMBLY}/reports").status_code == 401
    assert recommendations.call("get",
                                f"/assemblies/{ASSEMBLY}/reports?lang=fr").json["field"] == "lang"


def test_released_report_is_public_and_linked(recommendations):
    import csv
    import io
    import json

    from services.common import audit

    rec_id, _ = adopt(recommendations, "Flere cykelstier")
    public = f"/public/assemblies/{ASSEMBLY}/reports/en/{ASSEMBLY}-final-report-en.pdf"
    # Nothing is public before the release.
    assert recommendations.client.get(public).status_code == 404
    assert 'id="final-report"' not in recommendations.client.get(
        f"/public/assemblies/{ASSEMBLY}").data.decode()
    assert json.loads(recommendations.client.get(
        f"/public/assemblies/{ASSEMBLY}/open-data.json").data)["final_report"] is None
    release = f"/assemblies/{ASSEMBLY}/reports/release"
    assert recommendations.client.post(release).status_code == 401
    r = recommendations.call("post", release)
    assert r.status_code == 409 and r.json["field"] == "report_input"
    recommendations.call("put", f"/assemblies/{ASSEMBLY}/report-input", **REPORT_INPUT)

    r = recommendations.call("post", release, role="administration")
    assert r.status_code == 201, r.json
    files = {(f["language"], f["format"]): f["url"] for f in r.json["files"]}
    assert set(files) == {("da", "PDF"), ("da", "HTML"), ("en", "PDF"), ("en", "HTML")}
    assert files[("en", "PDF")] == public
    pdf = recommendations.client.get(public)  # no token: public
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert "Citizens' assembly on climate" in _pdf_text(pdf.data)
    html = recommendations.client.get(files[("da", "HTML")])
    assert html.mimetype == "text/html" and '<html lang="da">' in html.data.decode()
    entries = [e for e in audit.entries(recommendations.ctx.engine) if e.action == "report.release"]
    assert len(entries) == 1 and entries[0].role == "administration"
    assert entries[0].detail["replaced"] == 0 and len(entries[0].detail["files"]) == 4

    page = recommendations.client.get(f"/public/assemblies/{ASSEMBLY}?lang=en").data.decode()
    linked = page.split('id="final-report"')[1].split("</p>")[0]
    assert f'href="{public}"' in linked and "The final report in English (PDF)" in linked
    assert f'href="{files[("da", "PDF")]}"' in linked and 'hreflang="da"' in linked
    data = json.loads(
        recommendations.client.get(f"/public/assemblies/{ASSEMBLY}/open-data.json").data)
    urls = {f["url"] for f in data["final_report"]["files"]}
    assert f"http://localhost{public}" in urls and data["final_report"]["released_on"]
    listing = recommendations.client.get(f"/public/assemblies/{ASSEMBLY}/open-data.csv")
    assert f"<http://localhost{public}>" in listing.headers["Link"]
    assert list(csv.reader(io.StringIO(listing.data.decode())))[1][3] == "Flere cykelstier"

    # The released copy stays as released until it is released again.
    recommendations.call("put", f"/assemblies/{ASSEMBLY}/handover", role="administration",
                         receiving_body="Regionsrådet", body_kind="regional_council",
                         handed_over_on="2025-03-01")
    assert "Regionsrådet" not in recommendations.client.get(files[("da", "HTML")]).data.decode()
    assert recommendations.call("post", release).status_code == 201
    assert "Regionsrådet" in recommendations.client.get(files[("da", "HTML")]).data.decode()
    entries = [e for e in audit.entries(recommendations.ctx.engine) if e.action == "report.release"]
    assert [e.detail["replaced"] for e in entries] == [0, 4]
    assert audit.verify_chain(recommendations.ctx.engine) is None
