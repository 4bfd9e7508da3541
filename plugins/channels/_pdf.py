"""Invitation letters as PDF (reportlab): the printed letter and the Digital Post document.

The printed letter follows DIN 5008 form B on A4 for a C5/DL window envelope (the address
field 20 mm from the left and 45 mm from the top, 85 × 45 mm, with a one-line return
address above the recipient), fold marks at 105 and 210 mm, a sender block on the right,
the date, the text, and the sign-up address and code in large type with an optional QR code.
"""
from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen import canvas as pdfcanvas

PAGE_W, PAGE_H = A4
LEFT, RIGHT, BOTTOM = 25 * mm, PAGE_W - 20 * mm, 22 * mm
LABELS = {
    "da": {"code": "Din kode", "signup": "Tilmeld dig på", "or_scan": "eller scan koden"},
    "en": {"code": "Your code", "signup": "Sign up at", "or_scan": "or scan the code"},
}


@dataclass
class LetterContent:
    language: str
    subject: str
    body: str
    code: str
    signup_url: str
    date_text: str
    sender_lines: Sequence[str] = ()
    return_address: str = ""
    address_lines: Sequence[str] = ()
    extra: dict = field(default_factory=dict)


def _top(y_mm: float) -> float:
    return PAGE_H - y_mm * mm


def _fold_marks(c: pdfcanvas.Canvas) -> None:
    c.setLineWidth(0.3)
    for y in (105, 210):
        c.line(3 * mm, _top(y), 8 * mm, _top(y))
    c.line(3 * mm, _top(148.5), 10 * mm, _top(148.5))  # hole punch mark


def _draw_letter(c: pdfcanvas.Canvas, letter: LetterContent, *, window: bool, qr: bool) -> None:
    labels = LABELS.get(letter.language, LABELS["en"])
    # Sender block, top right.
    y = _top(27 if window else 20)
    for i, line in enumerate(letter.sender_lines):
        c.setFont("Helvetica-Bold" if i == 0 else "Helvetica", 9)
        c.drawString(125 * mm, y, line)
        y -= 4.2 * mm
    if window:
        _fold_marks(c)
        if letter.return_address:
            c.setFont("Helvetica", 6.5)
            c.drawString(20 * mm, _top(48.5), letter.return_address[:90])
        c.setFont("Helvetica", 10)
        y = _top(62.7 + 3.5)
        for line in list(letter.address_lines)[:6]:
            c.drawString(20 * mm, y, line)
            y -= 4.5 * mm
    c.setFont("Helvetica", 10)
    c.drawRightString(RIGHT, _top(97 if window else 40), letter.date_text)
    y = _top(103.5 if window else 50)
    c.setFont("Helvetica-Bold", 13)
    for line in simpleSplit(letter.subject, "Helvetica-Bold", 13, RIGHT - LEFT):
        c.drawString(LEFT, y, line)
        y -= 6 * mm
    y -= 3 * mm
    c.setFont("Helvetica", 10.5)
    for paragraph in letter.body.split("\n"):
        lines = simpleSplit(paragraph, "Helvetica", 10.5, RIGHT - LEFT) or [""]
        for line in lines:
            if y < BOTTOM:
                c.showPage()
                c.setFont("Helvetica", 10.5)
                y = _top(25)
            c.drawString(LEFT, y, line)
            y -= 5 * mm
    # The code block keeps together on one page: people type the URL and code from it.
    block = 48 * mm
    if y - block < BOTTOM:
        c.showPage()
        y = _top(25)
    y -= 6 * mm
    c.setLineWidth(0.8)
    c.roundRect(LEFT, y - block + 6 * mm, RIGHT - LEFT, block - 6 * mm, 3 * mm)
    text_right = RIGHT - (40 * mm if qr else 5 * mm)
    c.setFont("Helvetica", 11)
    c.drawString(LEFT + 6 * mm, y - 8 * mm, labels["signup"])
    url_size = 15
    while url_size > 8 and c.stringWidth(letter.signup_url, "Helvetica-Bold", url_size) > \
            text_right - LEFT - 12 * mm:
        url_size -= 1
    c.setFont("Helvetica-Bold", url_size)
    c.drawString(LEFT + 6 * mm, y - 16 * mm, letter.signup_url)
    c.setFont("Helvetica", 11)
    c.drawString(LEFT + 6 * mm, y - 26 * mm, labels["code"])
    c.setFont("Courier-Bold", 26)
    c.drawString(LEFT + 6 * mm, y - 37 * mm, letter.code)
    if qr:
        size = 34 * mm
        widget = QrCodeWidget(letter.signup_url, barLevel="M")
        x0, y0, x1, y1 = widget.getBounds()
        drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
        drawing.add(widget)
        renderPDF.draw(drawing, c, RIGHT - size - 3 * mm, y - block + 8 * mm)


def letters_pdf(letters: Sequence[LetterContent], *, window: bool = True, qr: bool = True,
                pages_per_letter: int = 1, title: str = "",
                compress: bool = True) -> tuple[bytes, list[tuple[int, int]]]:
    """All letters in one PDF. Returns the bytes and, per letter, (first page, page count).

    With ``pages_per_letter=2`` every letter fills an even number of pages, so in duplex
    printing each starts on a front side."""
    buffer = io.BytesIO()
    c = pdfcanvas.Canvas(buffer, pagesize=A4, pageCompression=1 if compress else 0)
    c.setTitle(title)
    c.setCreator("kleroterion")
    placement = []
    page = 1
    for letter in letters:
        first = page
        _draw_letter(c, letter, window=window, qr=qr)
        used = c.getPageNumber() - first + 1
        c.showPage()
        while used % pages_per_letter:
            c.showPage()  # a blank back side
            used += 1
        placement.append((first, used))
        page = first + used
    c.save()
    return buffer.getvalue(), placement
