"""Invitations as printed letters, for people exempt from Digital Post or without it.

Reaches anyone with a postal address. ``send`` adds the letter to the current batch (one
JSON file per letter under ``<output_dir>/pending/``, so a restart loses nothing) and answers
"queued"; a letter already pending or printed is not added again. ``close_batch()`` — called
by the registry when a rollout's letters are all sent, and by ``send`` itself when the batch
is full — writes, sorted by postcode, one print-ready PDF (A4, DIN 5008 form B for a C5/DL
window envelope, see ``_pdf``) and one CSV for the print shop's mail merge, both named
``letters-<timestamp>-<n>``, and returns their paths.

The output directory holds names and addresses: it belongs to the print hand-off and must be
protected and cleaned up like any other personal data. Beside each batch, ``batches/<stem>.json``
keeps its letters as data, so that ``erase`` can render the batch again without an erased
person (or delete it when nobody else is in it).

Settings (``[plugins.letter]``):

=================  ========  ================================================================
setting            default   meaning
=================  ========  ================================================================
output_dir         required  where pending letters and finished batches (PDF + CSV) go
sender_name        required  the sender block's first line, e.g. "Region Hovedstaden"
sender_address     []        further sender lines (street, postcode and town, phone, web)
return_address     ""        one small line above the recipient's address in the window
batch_size         500       letters per batch; ``send`` closes a full batch itself
pages_per_letter   1         1, or 2 to give every letter an even page count for duplex
qr_code            true      print a QR code of the sign-up link
state_dir          .kleroterion/channels/letter  the sent log (one JSON per invitation)
=================  ========  ================================================================
"""
from __future__ import annotations

import csv
import io
import json
import logging
import os
import pathlib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from kleroterion.plugin import DeliveryResult, Invitation, Recipient, hookimpl, safe_csv_cell
from plugins.channels import _pdf
from plugins.channels._common import (
    Channel,
    Options,
    atomic_write,
    check_invitation_id,
    format_date,
    placeholder_values,
    remove_file,
    render_parts,
    signup_url,
    valid_invitation_ids,
)

log = logging.getLogger("kleroterion.channels")

CSV_COLUMNS = ["invitation_id", "code", "language", "name", "address_1", "address_2",
               "address_3", "address_4", "postcode", "signup_url", "first_page", "pages"]


@dataclass(frozen=True)
class LetterBatch:
    pdf: pathlib.Path
    csv: pathlib.Path
    count: int
    pages: int
    invitation_ids: tuple[str, ...]


class LetterChannel(Channel):
    name = "letter"

    def __init__(self, settings: Mapping[str, Any]):
        o = Options(self.name, settings)
        self.output_dir = o.path("output_dir")
        self.sender_name = o.str("sender_name")
        sender_address = o._get("sender_address", [])
        lines_ok = isinstance(sender_address, list) and all(isinstance(s, str)
                                                            for s in sender_address)
        if not lines_ok:
            raise o.error("sender_address", "must be a list of lines")
        self.sender_address = tuple(sender_address)
        self.return_address = o.str("return_address", "")
        self.batch_size = o.int("batch_size", 500, minimum=1)
        self.pages_per_letter = o.int("pages_per_letter", 1, minimum=1, maximum=2)
        self.qr_code = o.bool("qr_code", True)
        state_dir = o.state_dir()
        o.done()
        super().__init__(state_dir)
        self.pending_dir = self.output_dir / "pending"

    def can_reach(self, recipient: Recipient) -> bool:
        return any(line.strip() for line in recipient.address_lines)

    def _address(self, recipient: Recipient) -> list[str]:
        lines = [line.strip() for line in recipient.address_lines if line.strip()]
        if recipient.name and (not lines or lines[0] != recipient.name):
            lines.insert(0, recipient.name)
        if recipient.postcode and not any(recipient.postcode in line for line in lines):
            lines.append(recipient.postcode)
        return lines

    def render(self, recipient: Recipient, template: Mapping[str, Any],
               assembly: Mapping[str, Any]) -> Invitation:
        check_invitation_id(recipient.invitation_id)
        if not self.can_reach(recipient):
            raise ValueError("recipient.address_lines: a letter needs a postal address")
        url = signup_url(assembly, recipient.code)
        values = placeholder_values(recipient, assembly, url, sender=self.sender_name)
        parts = render_parts(template, recipient, values)
        return Invitation(self.name, recipient, parts["subject"], parts["body"], url)

    # --- the batch ----------------------------------------------------------------------

    def _pending_path(self, invitation_id: str) -> pathlib.Path:
        return self.pending_dir / f"{check_invitation_id(invitation_id)}.json"

    def _deliver(self, invitation: Invitation) -> DeliveryResult:
        recipient = invitation.recipient
        if not self.can_reach(recipient):
            return DeliveryResult("failed", "no postal address")
        letter = _pdf.LetterContent(
            language=recipient.language, subject=invitation.subject, body=invitation.body,
            code=recipient.code, signup_url=invitation.signup_url,
            date_text=format_date(datetime.now(UTC).date(), recipient.language),
            sender_lines=(self.sender_name, *self.sender_address),
            return_address=self.return_address, address_lines=self._address(recipient),
            extra={"invitation_id": recipient.invitation_id, "name": recipient.name or "",
                   "postcode": recipient.postcode or "",
                   "address": [line for line in recipient.address_lines if line.strip()]})
        atomic_write(self._pending_path(recipient.invitation_id),
                     json.dumps(asdict(letter), ensure_ascii=False).encode())
        return DeliveryResult("queued", "in the open letter batch")

    def send(self, invitation: Invitation) -> DeliveryResult:
        result = super().send(invitation)
        if result.status == "queued" and self.pending_count() >= self.batch_size:
            self.close_batch()
            return self.delivery_status(invitation.recipient.invitation_id) or result
        return result

    def pending_count(self) -> int:
        if not self.pending_dir.is_dir():
            return 0
        return sum(1 for p in self.pending_dir.glob("*.json"))

    def close_batch(self) -> LetterBatch | None:
        """Write the pending letters (at most ``batch_size``) as one PDF and one CSV.

        Returns None when no letter is pending."""
        with self._lock:
            paths = sorted(self.pending_dir.glob("*.json")) if self.pending_dir.is_dir() else []
            letters = []
            for path in paths:
                data = json.loads(path.read_text(encoding="utf-8"))
                letters.append((path, _pdf.LetterContent(**data)))
            if not letters:
                return None
            # Sorted by postcode, as bulk mail is cheaper and faster pre-sorted.
            letters.sort(key=lambda item: (item[1].extra.get("postcode", ""),
                                           item[1].extra.get("invitation_id", "")))
            letters = letters[:self.batch_size]
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
            n = 1
            while (self.output_dir / f"letters-{stamp}-{n}.pdf").exists():
                n += 1
            stem = f"letters-{stamp}-{n}"
            pdf_path, csv_path, placement = self._write_batch(
                stem, [letter for _, letter in letters])
            ids = []
            for path, letter in letters:
                invitation_id = letter.extra["invitation_id"]
                self.sent_log.put(invitation_id, DeliveryResult("queued", f"printed in {stem}"),
                                  batch=stem)
                os.unlink(path)
                ids.append(invitation_id)
            return LetterBatch(pdf_path, csv_path, len(ids), sum(p for _, p in placement),
                               tuple(ids))

    def _batch_contents_path(self, stem: str) -> pathlib.Path:
        # The letters of a batch as data, so that an erased person's letter can be taken
        # out of the PDF by rendering it again without them.
        return self.output_dir / "batches" / f"{stem}.json"

    def _write_batch(self, stem: str, letters: list[_pdf.LetterContent]
                     ) -> tuple[pathlib.Path, pathlib.Path, list[tuple[int, int]]]:
        pdf, placement = _pdf.letters_pdf(letters, window=True, qr=self.qr_code,
                                          pages_per_letter=self.pages_per_letter, title=stem)
        rows = io.StringIO()
        writer = csv.writer(rows, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for letter, (first, pages) in zip(letters, placement, strict=True):
            address = (list(letter.extra.get("address", [])) + ["", "", "", ""])[:4]
            # Names and addresses come from the population register but are opened in a
            # spreadsheet for the mail merge: a cell starting like a formula stays text.
            writer.writerow([safe_csv_cell(cell) for cell in (
                letter.extra["invitation_id"], letter.code, letter.language,
                letter.extra.get("name", ""), *address, letter.extra.get("postcode", ""),
                letter.signup_url, first, pages)])
        pdf_path = self.output_dir / f"{stem}.pdf"
        csv_path = self.output_dir / f"{stem}.csv"
        atomic_write(self._batch_contents_path(stem), json.dumps(
            [asdict(letter) for letter in letters], ensure_ascii=False).encode())
        # The CSV goes first and the PDF last: a print job watches for the PDF.
        atomic_write(csv_path, rows.getvalue().encode("utf-8-sig"))
        atomic_write(pdf_path, pdf)
        return pdf_path, csv_path, placement

    def erase(self, invitation_ids: Sequence[str]) -> int:
        """Take these invitations' letters out: a pending letter is deleted; a closed batch
        is rendered again without them (PDF and CSV), or deleted when nobody else is in
        it. Returns how many files were deleted or rewritten."""
        ids = set(valid_invitation_ids(invitation_ids))
        changed = 0
        with self._lock:
            batches: set[str] = set()
            for invitation_id in ids:
                changed += remove_file(self._pending_path(invitation_id))
                record = self.sent_log.record(invitation_id) or {}
                if isinstance(record.get("batch"), str):
                    batches.add(record["batch"])
            for stem in sorted(batches):
                changed += self._redact_batch(stem, ids)
        return changed

    def _redact_batch(self, stem: str, erased: set[str]) -> int:
        pdf_path = self.output_dir / f"{stem}.pdf"
        csv_path = self.output_dir / f"{stem}.csv"
        contents = self._batch_contents_path(stem)
        try:
            letters = [_pdf.LetterContent(**data)
                       for data in json.loads(contents.read_text(encoding="utf-8"))]
        except FileNotFoundError:
            # A batch written before its contents were kept: it cannot be rendered again,
            # so it goes whole; the letters of the others in it are sent again on request.
            log.warning("letter batch without its contents deleted whole on erasure",
                        extra={"batch": stem})
            return sum(remove_file(p) for p in (pdf_path, csv_path))
        kept = [letter for letter in letters if letter.extra.get("invitation_id") not in erased]
        if len(kept) == len(letters):
            return 0
        if not kept:
            return sum(remove_file(p) for p in (pdf_path, csv_path, contents))
        self._write_batch(stem, kept)
        return 2


@hookimpl
def register_invitation_channels(settings: Mapping[str, Any]) -> list[LetterChannel]:
    if not settings:
        return []
    return [LetterChannel(settings)]
