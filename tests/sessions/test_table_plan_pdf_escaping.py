"""The table-plan PDF shows people's text literally: markup in a session title cannot
embed a server file or restyle the document (issue 15, part 5)."""
from __future__ import annotations

import base64
import re
import zlib

from services.sessions import rendering


def pdf_streams(pdf: bytes) -> list[bytes]:
    """Every stream of the PDF, decoded (reportlab writes ASCII85 over Flate)."""
    out = []
    for match in re.finditer(rb"/Filter \[?([^>]*?)\]? /Length \d+\s*>>\s*stream\r?\n(.*?)"
                             rb"\s*endstream", pdf, re.S):
        filters, data = match.group(1), match.group(2)
        if b"ASCII85Decode" in filters:
            data = base64.a85decode(data.strip(), adobe=data.strip().endswith(b"~>"))
        if b"FlateDecode" in filters:
            data = zlib.decompress(data)
        out.append(data)
    return out


def shown_text(pdf: bytes) -> str:
    """The text the PDF draws (the strings of its Tj/TJ operators), unescaped."""
    strings = []
    for stream in pdf_streams(pdf):
        for s in re.findall(rb"\(((?:\\.|[^\\)])*)\)\s*Tj", stream):
            strings.append(re.sub(rb"\\(.)", rb"\1", s).decode("latin-1"))
    return " ".join(strings)


def test_markup_in_a_session_title_renders_literally_and_embeds_no_file(tmp_path):
    # A real image on the server: unescaped, <img src=...> would put it into the PDF.
    png = tmp_path / "secret.png"
    png.write_bytes(zlib.decompress(zlib.compress(_tiny_png())))
    title = f'<img src="{png}" width="50" height="50"/> Møde <font color="red">1</font> & <b>'
    pdf = rendering.table_plan_pdf(
        {"name": "Klima & <i>vand</i>"}, {"title": title},
        [{"item": {"title": '<a href="http://evil.example">Gruppe</a>'},
          "tables": [["p01", "p02"]]}],
        {"p01": "<b>Karen</b>", "p02": None})
    assert b"/Subtype /Image" not in pdf and b"/XObject" not in pdf
    # Compared without spaces: reportlab breaks a long title into lines and words.
    text = re.sub(r"\s+", "", shown_text(pdf))
    for literal in (f'<img src="{png}"', '<font color="red">1</font>&<b>', "Klima&<i>vand</i>",
                    '<a href="http://evil.example">Gruppe</a>'):
        assert re.sub(r"\s+", "", literal) in text
    assert b"/URI" not in pdf and b"/Annot" not in pdf  # no live link either
    assert "<b>Karen</b>" in text  # a table cell was literal before, and stays so


def test_pdf_text_escapes_what_reportlab_reads_as_markup():
    assert rendering.pdf_text('<img src="/etc/passwd"> & <font>') == \
        '&lt;img src="/etc/passwd"&gt; &amp; &lt;font&gt;'
    assert rendering.pdf_text(None) == ""


def _tiny_png() -> bytes:
    import struct

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    raw = b"\x00\xff\x00\x00" * 1
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
