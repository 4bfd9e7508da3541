"""Channel outputs of an erased person: the MeMo files (with CPR) and the letters for the
print shop are deleted, or redacted from a batch shared with others (issue 15, part 5)."""
from __future__ import annotations

import base64
import csv
import re
import zlib

from kleroterion.plugin import ErasableChannel, Recipient
from plugins.channels.digital_post import DigitalPostChannel
from plugins.channels.email import EmailChannel
from plugins.channels.letter import LetterChannel


def letter_person(i: int) -> Recipient:
    return Recipient(invitation_id=f"inv-{i}", code=f"CODE-{i:04d}", name=f"Søren Æbelø {i}",
                     address_lines=(f"Nørregade {i}", f"{2100 + i % 3} København Ø"),
                     postcode=f"{2100 + i % 3}", digital_post_exempt=True)


def memo_person(invitation_id: str) -> Recipient:
    return Recipient(invitation_id=invitation_id, code="ABCD2345", cpr="0101901234",
                     name="Karen Jensen", language="da")


def pdf_text(pdf: bytes) -> str:
    """The PDF's drawn text without spaces (reportlab: ASCII85 over Flate streams)."""
    out = []
    for m in re.finditer(rb"/Filter \[?([^>]*?)\]? /Length \d+\s*>>\s*stream\r?\n(.*?)"
                         rb"\s*endstream", pdf, re.S):
        filters, data = m.group(1), m.group(2)
        if b"ASCII85Decode" in filters:
            data = base64.a85decode(data.strip(), adobe=data.strip().endswith(b"~>"))
        if b"FlateDecode" in filters:
            data = zlib.decompress(data)
        for s in re.findall(rb"\(((?:\\.|[^\\)])*)\)\s*Tj", data):
            out.append(_unescape(s).decode("latin-1"))
    return re.sub(r"\s+", "", "".join(out))


def _unescape(s: bytes) -> bytes:
    # PDF string escapes: \ddd octal (reportlab writes non-ASCII so) and \x for x.
    return re.sub(rb"\\([0-7]{1,3}|.)", lambda m: bytes([int(m.group(1), 8)])
                  if m.group(1)[:1].isdigit() else m.group(1), s)


def test_every_built_in_channel_can_erase(tmp_path):
    for channel_type in (DigitalPostChannel, LetterChannel, EmailChannel):
        assert hasattr(channel_type, "erase")
    channel = LetterChannel({"output_dir": str(tmp_path / "p"), "sender_name": "R",
                             "state_dir": str(tmp_path / "s")})
    assert isinstance(channel, ErasableChannel)


def test_digital_post_deletes_the_memo_files_of_the_erased(tmp_path, template, assembly):
    outbox = tmp_path / "outbox"
    channel = DigitalPostChannel({"sender_cvr": "29190623", "sender_label": "Region Hovedstaden",
                                  "outbox": str(outbox),
                                  "state_dir": str(tmp_path / "state")})
    for iid in ("inv-1", "inv-1.selected", "inv-2"):
        channel.send(channel.render(memo_person(iid), template, assembly))
    assert b"0101901234" in (outbox / "inv-1.xml").read_bytes()
    assert channel.erase(["inv-1", "inv-1.selected", "never-sent", "../../etc/passwd"]) == 2
    assert sorted(p.name for p in outbox.iterdir()) == ["inv-2.xml"]
    assert channel.erase(["inv-1"]) == 0  # erasure repeated after a crash: nothing left


def test_letters_pending_are_deleted_and_a_shared_batch_is_rendered_without_them(
        tmp_path, template, assembly):
    output = tmp_path / "print"
    channel = LetterChannel({"output_dir": str(output), "state_dir": str(tmp_path / "state"),
                             "sender_name": "Region Hovedstaden"})
    for i in range(4):
        channel.send(channel.render(letter_person(i), template, assembly))
    batch = channel.close_batch()
    assert batch is not None and batch.count == 4
    assert "SørenÆbelø2" in pdf_text(batch.pdf.read_bytes())
    channel.send(channel.render(letter_person(9), template, assembly))  # still pending
    assert channel.pending_count() == 1

    assert channel.erase(["inv-2", "inv-9"]) == 3  # the pending letter, the PDF and the CSV
    assert channel.pending_count() == 0
    text = pdf_text(batch.pdf.read_bytes())
    assert "SørenÆbelø2" not in text and "CODE-0002" not in text and "Nørregade2" not in text
    assert all(f"SørenÆbelø{i}" in text for i in (0, 1, 3))
    with batch.csv.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert sorted(r["invitation_id"] for r in rows) == ["inv-0", "inv-1", "inv-3"]
    assert [r["first_page"] for r in rows] == ["1", "2", "3"]
    everything = b"".join(p.read_bytes() for p in output.rglob("*") if p.is_file())
    assert "Æbelø 2".encode() not in everything and b"CODE-0002" not in everything

    # The last people of a batch erased: the batch goes.
    assert channel.erase(["inv-0", "inv-1", "inv-3"]) == 3
    assert not batch.pdf.exists() and not batch.csv.exists()
    assert not [p for p in output.rglob("*") if p.is_file()]


def test_letter_csv_cells_cannot_carry_a_formula(tmp_path, template, assembly):
    channel = LetterChannel({"output_dir": str(tmp_path / "print"),
                             "state_dir": str(tmp_path / "state"), "sender_name": "R"})
    evil = Recipient(invitation_id="inv-1", code="CODE-0001", name='=HYPERLINK("http://x")',
                     address_lines=("@SUM(A1)", "2100 København Ø"), postcode="2100")
    channel.send(channel.render(evil, template, assembly))
    batch = channel.close_batch()
    with batch.csv.open(encoding="utf-8-sig", newline="") as fh:
        row = next(csv.DictReader(fh))
    assert row["name"] == "'=HYPERLINK(\"http://x\")" and row["address_1"] == "'@SUM(A1)"
