"""What the built-in reports share: the PDF's styles, tables and page frame, the check of
the language, the HTML page templates (``templates/``) and the HTML + PDF pair every report
yields."""
from __future__ import annotations

import importlib.resources
import io
from collections.abc import Iterable
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

from kleroterion.plugin import ReportArtifact

LANGUAGES = ("da", "en")


def check_language(language: str, report: str) -> None:
    if language not in LANGUAGES:
        raise ValueError(f"language: the {report} is written in da or en, not {language!r}")


def template(name: str) -> str:
    """The source of a page template in ``plugins/reports/templates/``."""
    return (importlib.resources.files("plugins.reports") / "templates" / name).read_text(
        encoding="utf-8")


def html_and_pdf(stem: str, html: str, pdf: bytes) -> Iterable[ReportArtifact]:
    yield ReportArtifact(f"{stem}.html", "text/html; charset=utf-8", html.encode())
    yield ReportArtifact(f"{stem}.pdf", "application/pdf", pdf)


def styles() -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()
    return {
        "title": ParagraphStyle("t", parent=base["Title"], fontSize=24, leading=29,
                                alignment=TA_LEFT, spaceAfter=6 * mm),
        "sub": ParagraphStyle("s", parent=base["Normal"], fontSize=13, leading=17,
                              textColor=colors.HexColor("#333333")),
        "h1": ParagraphStyle("h1", parent=base["Heading1"], fontSize=17, leading=21,
                             spaceBefore=4 * mm, spaceAfter=3 * mm),
        "h2": ParagraphStyle("h2", parent=base["Heading2"], fontSize=13, leading=16,
                             spaceBefore=5 * mm, spaceAfter=2 * mm, keepWithNext=True),
        "h3": ParagraphStyle("h3", parent=base["Heading3"], fontSize=10.5, leading=13,
                             spaceBefore=2 * mm, keepWithNext=True),
        "body": ParagraphStyle("b", parent=base["BodyText"], fontName="Times-Roman",
                               fontSize=10.5, leading=14.5, spaceAfter=2 * mm),
        "quote": ParagraphStyle("q", parent=base["BodyText"], fontName="Times-Italic",
                                fontSize=10, leading=13.5, leftIndent=8 * mm),
        "cell": ParagraphStyle("c", parent=base["BodyText"], fontSize=9, leading=11),
    }


def table(rows: list[list[str]], widths: list[float], sheet: dict[str, ParagraphStyle],
          numeric_from: int = 1) -> Table:
    """A table with a header row; ``sheet`` is ``styles()``; columns from ``numeric_from``
    on are right-aligned figures."""
    # First-column cells wrap (long category names); the rest are short figures.
    data = [[Paragraph(escape(str(c)), sheet["cell"]) if j == 0 and i > 0 else str(c)
             for j, c in enumerate(row)] for i, row in enumerate(rows)]
    made = Table(data, colWidths=widths, repeatRows=1, hAlign="LEFT")
    made.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 9),
        ("FONT", (0, 1), (-1, -1), "Helvetica", 9),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef4")),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.HexColor("#0b4f8a")),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.HexColor("#bbbbbb")),
        ("ALIGN", (numeric_from, 1), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]))
    return made


def build_pdf(story: list[Any], running_title: str, doc_title: str, author: str | None, lang: str,
              page_word: str) -> bytes:
    """An A4 PDF of ``story`` with the running title and page number in the footer."""
    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 8)
        canvas.setFillColor(colors.HexColor("#555555"))
        canvas.drawString(20 * mm, 12 * mm, running_title)
        canvas.drawRightString(A4[0] - 20 * mm, 12 * mm, f"{page_word} {doc.page}")
        canvas.restoreState()

    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=22 * mm, rightMargin=22 * mm,
                            topMargin=20 * mm, bottomMargin=22 * mm, title=doc_title,
                            author=author or "kleroterion", lang=lang)
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()
