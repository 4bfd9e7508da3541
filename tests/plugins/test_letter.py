"""Letters: who they reach, the pending batch, the print-ready PDF and the mail-merge CSV."""
from __future__ import annotations

import csv
import re

import pytest

from kleroterion.plugin import PluginError, Recipient
from plugins.channels import letter as letter_plugin
from plugins.channels.letter import CSV_COLUMNS, LetterChannel


def person(i, **kw):
    kw.setdefault("address_lines", (f"Nørregade {i}", f"{2100 + i % 3} København Ø"))
    kw.setdefault("postcode", f"{2100 + i % 3}")
    kw.setdefault("digital_post_exempt", True)
    return Recipient(invitation_id=f"inv-{i}", code=f"CODE-{i:04d}", name=f"Søren Æbelø {i}",
                     **kw)


@pytest.fixture
def settings(tmp_path):
    return {"output_dir": str(tmp_path / "print"), "state_dir": str(tmp_path / "state"),
            "sender_name": "Region Hovedstaden",
            "sender_address": ["Kongens Vænge 2", "3400 Hillerød", "regionh.dk"],
            "return_address": "Region Hovedstaden, Kongens Vænge 2, 3400 Hillerød"}


def page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))


def test_can_reach_anyone_with_a_postal_address(settings):
    channel = LetterChannel(settings)
    assert channel.can_reach(person(1))
    assert channel.can_reach(person(1, digital_post_exempt=False))
    assert not channel.can_reach(person(1, address_lines=()))
    assert not channel.can_reach(person(1, address_lines=("  ",)))


def test_batch_pdf_and_csv(settings, template, assembly):
    channel = LetterChannel(settings)
    people = [person(i, language="en" if i == 2 else "da") for i in range(5)]
    for p in people:
        result = channel.send(channel.render(p, template, assembly))
        assert result.status == "queued"
    # Sending again adds nothing to the batch.
    assert channel.send(channel.render(people[0], template, assembly)).status == "queued"
    assert channel.pending_count() == 5
    batch = channel.close_batch()
    assert batch.count == 5 and batch.pages == 5
    pdf = batch.pdf.read_bytes()
    assert pdf.startswith(b"%PDF") and page_count(pdf) == 5
    with batch.csv.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == CSV_COLUMNS
    assert sorted(r["code"] for r in rows) == [f"CODE-{i:04d}" for i in range(5)]
    assert [r["postcode"] for r in rows] == sorted(r["postcode"] for r in rows)
    assert [r["first_page"] for r in rows] == ["1", "2", "3", "4", "5"]
    assert {r["language"] for r in rows} == {"da", "en"}
    row = next(r for r in rows if r["invitation_id"] == "inv-1")
    assert row["name"] == "Søren Æbelø 1" and row["address_1"] == "Nørregade 1"
    assert row["signup_url"] == "https://tilmeld.regionh.dk/s?code=CODE-0001"
    # Printed letters are recorded; the batch is empty; resending prints nothing new.
    assert channel.delivery_status("inv-3").detail == f"printed in {batch.pdf.stem}"
    assert channel.pending_count() == 0 and channel.close_batch() is None
    assert channel.send(channel.render(people[3], template, assembly)).detail.startswith("printed")
    assert channel.close_batch() is None


def test_pdf_has_the_text_code_and_address(settings, template, assembly):
    settings = {**settings, "qr_code": False}
    channel = LetterChannel(settings)
    channel.send(channel.render(person(7), template, assembly))
    pdf = channel.close_batch().pdf.read_bytes()
    # Compressed streams hide the text; the page count and a QR-free page are what we check
    # here, the text is checked through reportlab's own uncompressed output below.
    assert page_count(pdf) == 1
    from plugins.channels import _pdf
    letter = _pdf.LetterContent(language="da", subject="Invitation", body="Tekst",
                                code="CODE-0007", signup_url="https://x.invalid/s?code=CODE-0007",
                                date_text="1. marts 2026", sender_lines=["Region Hovedstaden"],
                                address_lines=["Søren Æbelø", "Nørregade 7", "2100 København Ø"])
    raw, placement = _pdf.letters_pdf([letter], qr=True, compress=False)
    assert placement == [(1, 1)]
    text = raw.decode("latin-1")
    for needle in ("CODE-0007", "Din kode", "Tilmeld dig p", "Region Hovedstaden", "1. marts 2026"):
        assert needle in text


def test_two_pages_per_letter_and_long_letters(settings, template, assembly):
    channel = LetterChannel({**settings, "pages_per_letter": 2})
    channel.send(channel.render(person(1), template, assembly))
    # Forty lines run onto a second page; the code block follows on that page.
    long_template = {"subject": "Lang", "body": "\n".join(["Et langt brev med {code}."] * 40)}
    channel.send(channel.render(person(2), long_template, assembly))
    batch = channel.close_batch()
    assert page_count(batch.pdf.read_bytes()) == batch.pages == 4
    with batch.csv.open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["first_page"], r["pages"]) for r in rows] == [("1", "2"), ("3", "2")]
    single = LetterChannel({**settings, "output_dir": settings["output_dir"] + "-1",
                            "state_dir": settings["state_dir"] + "-1"})
    single.send(single.render(person(1), template, assembly))
    single.send(single.render(person(2), long_template, assembly))
    assert single.close_batch().pages == 3


def test_full_batch_closes_itself(settings, template, assembly):
    channel = LetterChannel({**settings, "batch_size": 2})
    channel.send(channel.render(person(1), template, assembly))
    assert channel.pending_count() == 1
    result = channel.send(channel.render(person(2), template, assembly))
    assert result.detail.startswith("printed in letters-")
    assert channel.pending_count() == 0
    assert len(list((channel.output_dir).glob("letters-*.pdf"))) == 1


@pytest.mark.parametrize("change,field", [
    ({"output_dir": None}, "plugins.letter.output_dir"),
    ({"sender_name": None}, "plugins.letter.sender_name"),
    ({"batch_size": 0}, "plugins.letter.batch_size"),
    ({"pages_per_letter": 3}, "plugins.letter.pages_per_letter"),
    ({"sender_address": "Kongens Vænge 2"}, "plugins.letter.sender_address"),
    ({"qr_code": "yes"}, "plugins.letter.qr_code"),
])
def test_bad_settings_are_named(settings, change, field):
    merged = {k: v for k, v in {**settings, **change}.items() if v is not None}
    with pytest.raises(PluginError) as err:
        LetterChannel(merged)
    assert err.value.field == field


def test_unconfigured_plugin_offers_nothing():
    assert letter_plugin.register_invitation_channels(settings={}) == []
