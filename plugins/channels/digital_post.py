"""Invitations through Danish Digital Post (e-Boks / mit.dk) as MeMo messages.

Reaches a recipient with a CPR number who is not exempt from Digital Post. ``render`` builds
a MeMo message (namespace ``https://DigitalPost.dk/MeMo-1``, memoVersion 1.1): the header
(messageType DIGITALPOST, a messageUUID derived from the invitation id, the subject as label,
the sender by CVR with its ContentResponsible, the recipient by CPR, ReplyData) and a body
whose MainDocument holds the letter (PDF, plain text or HTML) and a SELVBETJENING action
"Tilmeld dig" whose EntryPoint is the sign-up link. The XML is the invitation's
``memo.xml`` attachment.

``send`` delivers it in one of two ways: POST to the region's sender endpoint (an
integration in front of SF1601/NgDP), or an atomic write to an outbox directory
(``<invitation id>.xml``) that the region's own integration collects. The messageUUID is the
same for every render of an invitation, so Digital Post itself refuses a duplicate even if
our sent log were lost.

Settings (``[plugins.digital_post]``):

=================  ========  ================================================================
setting            default   meaning
=================  ========  ================================================================
sender_cvr         required  the sending authority's CVR number (8 digits)
sender_label       required  the sender's name as citizens see it, e.g. "Region Hovedstaden"
endpoint           —         URL to POST MeMo XML to; exactly one of endpoint and outbox
outbox             —         directory for MeMo files (``<invitation id>.xml``)
api_token_env      —         environment variable with a bearer token for ``endpoint``
api_token          —         the token itself (prefer api_token_env)
timeout            10        seconds to wait for the endpoint
document_format    "pdf"     the main document: "pdf", "text" or "html"
action_code        "SELVBETJENING"  MeMo actionCode of the sign-up action
state_dir          .kleroterion/channels/digital_post  the sent log (one JSON per invitation)
=================  ========  ================================================================
"""
from __future__ import annotations

import base64
import html
import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from kleroterion.plugin import DeliveryResult, Invitation, Recipient, hookimpl
from plugins.channels import _pdf
from plugins.channels._common import (
    Channel,
    Options,
    atomic_write,
    check_invitation_id,
    format_date,
    http_post,
    placeholder_values,
    remove_file,
    render_parts,
    signup_url,
    valid_invitation_ids,
)

MEMO_NS = "https://DigitalPost.dk/MeMo-1"
MEMO_VERSION = "1.1"
MEMO_SCHEMA_VERSION = "1.1.0"
# Fixed, so that one invitation id always gives the same messageUUID.
UUID_NAMESPACE = uuid.UUID("6f0d3c52-5b7e-4a8e-9a51-6b6c65726f74")
ACTION_CODES = ("SELVBETJENING", "TILMELDING", "INFORMATION")
ACTION_LABEL = {"da": "Tilmeld dig", "en": "Sign up"}

ET.register_namespace("memo", MEMO_NS)


def normalise_cpr(cpr: str | None) -> str | None:
    if not cpr:
        return None
    digits = cpr.replace("-", "").replace(" ", "")
    if not re.fullmatch(r"\d{10}", digits):
        return None
    day, month = int(digits[:2]), int(digits[2:4])
    if not (1 <= day <= 31 and 1 <= month <= 12):
        return None
    return digits


def message_uuid(invitation_id: str) -> str:
    return str(uuid.uuid5(UUID_NAMESPACE, f"invitation:{invitation_id}"))


def _el(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, f"{{{MEMO_NS}}}{tag}")
    if text is not None:
        element.text = text
    return element


class DigitalPostChannel(Channel):
    name = "digital_post"

    def __init__(self, settings: Mapping[str, Any]):
        o = Options(self.name, settings)
        self.sender_cvr = o.str("sender_cvr", pattern=r"\d{8}")
        self.sender_label = o.str("sender_label")
        self.endpoint = o.url("endpoint", None)
        self.outbox = o.path("outbox", None)
        if (self.endpoint is None) == (self.outbox is None):
            raise o.error("endpoint", "set exactly one of endpoint (HTTP) and outbox (directory)")
        self.token = o.secret("api_token", required=False)
        self.timeout = o.float("timeout", 10)
        self.document_format = o.str("document_format", "pdf", choices=("pdf", "text", "html"))
        self.action_code = o.str("action_code", "SELVBETJENING", choices=ACTION_CODES)
        state_dir = o.state_dir()
        o.done()
        super().__init__(state_dir)

    def can_reach(self, recipient: Recipient) -> bool:
        return not recipient.digital_post_exempt and normalise_cpr(recipient.cpr) is not None

    def render(self, recipient: Recipient, template: Mapping[str, Any],
               assembly: Mapping[str, Any]) -> Invitation:
        check_invitation_id(recipient.invitation_id)
        cpr = normalise_cpr(recipient.cpr)
        if cpr is None or recipient.digital_post_exempt:
            raise ValueError("recipient.cpr: Digital Post needs a valid CPR number of a person "
                             "not exempt from Digital Post")
        url = signup_url(assembly, recipient.code)
        values = placeholder_values(recipient, assembly, url, sender=self.sender_label)
        parts = render_parts(template, recipient, values, ("subject", "body", "html"))
        memo = self.memo(recipient, cpr, parts, url, values)
        return Invitation(self.name, recipient, parts["subject"], parts["body"], url,
                          attachments={"memo.xml": memo})

    def _document(self, recipient: Recipient, parts: Mapping[str, str], url: str,
                  values: Mapping[str, str]) -> tuple[str, str, bytes]:
        if self.document_format == "text":
            return "text/plain", "invitation.txt", parts["body"].encode()
        if self.document_format == "html":
            body = parts.get("html") or "".join(
                f"<p>{html.escape(p)}</p>" for p in parts["body"].split("\n") if p.strip())
            page = (f'<!DOCTYPE html><html lang="{html.escape(recipient.language)}"><head>'
                    f'<meta charset="utf-8"><title>{html.escape(parts["subject"])}</title></head>'
                    f"<body><h1>{html.escape(parts['subject'])}</h1>{body}"
                    f'<p><a href="{html.escape(url)}">{html.escape(url)}</a></p></body></html>')
            return "text/html", "invitation.html", page.encode()
        letter = _pdf.LetterContent(
            language=recipient.language, subject=parts["subject"], body=parts["body"],
            code=recipient.code, signup_url=url,
            date_text=format_date(datetime.now(UTC).date(), recipient.language),
            sender_lines=[self.sender_label])
        pdf, _ = _pdf.letters_pdf([letter], window=False, qr=False, title=parts["subject"])
        return "application/pdf", "invitation.pdf", pdf

    def memo(self, recipient: Recipient, cpr: str, parts: Mapping[str, str], url: str,
             values: Mapping[str, str]) -> bytes:
        muuid = message_uuid(recipient.invitation_id)
        root = ET.Element(f"{{{MEMO_NS}}}Message",
                          {"memoVersion": MEMO_VERSION, "memoSchVersion": MEMO_SCHEMA_VERSION})
        header = _el(root, "MessageHeader")
        _el(header, "messageType", "DIGITALPOST")
        _el(header, "messageUUID", muuid)
        _el(header, "messageID", recipient.invitation_id)
        _el(header, "label", parts["subject"][:150])
        _el(header, "reply", "false")
        _el(header, "mandatory", "false")
        _el(header, "legalNotification", "false")
        sender = _el(header, "Sender")
        _el(sender, "senderID", self.sender_cvr)
        _el(sender, "idType", "CVR")
        _el(sender, "label", self.sender_label)
        attention = _el(sender, "AttentionData")
        responsible = _el(attention, "ContentResponsible")
        _el(responsible, "contentResponsibleID", self.sender_cvr)
        _el(responsible, "label", self.sender_label)
        receiver = _el(header, "Recipient")
        _el(receiver, "recipientID", cpr)
        _el(receiver, "idType", "CPR")
        reply = _el(header, "ReplyData")
        _el(reply, "messageID", recipient.invitation_id)
        _el(reply, "messageUUID", muuid)
        _el(reply, "senderID", self.sender_cvr)
        _el(reply, "recipientID", cpr)

        body = _el(root, "MessageBody")
        _el(body, "createdDateTime",
            datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"))
        main = _el(body, "MainDocument")
        _el(main, "mainDocumentID", f"{recipient.invitation_id}-letter")
        _el(main, "label", parts["subject"][:150])
        media_type, filename, content = self._document(recipient, parts, url, values)
        file = _el(main, "File")
        _el(file, "encodingFormat", media_type)
        _el(file, "filename", filename)
        _el(file, "language", recipient.language)
        _el(file, "content", base64.b64encode(content).decode("ascii"))
        action = _el(main, "Action")
        _el(action, "label", ACTION_LABEL.get(recipient.language, ACTION_LABEL["da"]))
        _el(action, "actionCode", self.action_code)
        entry = _el(action, "EntryPoint")
        _el(entry, "url", url)
        return ET.tostring(root, encoding="utf-8", xml_declaration=True)

    def _deliver(self, invitation: Invitation) -> DeliveryResult:
        memo = invitation.attachments.get("memo.xml")
        if memo is None:
            raise ValueError("invitation.attachments: memo.xml is missing; render the "
                             "invitation with this channel")
        invitation_id = invitation.recipient.invitation_id
        if self.outbox is not None:
            atomic_write(self.outbox / f"{invitation_id}.xml", memo)
            return DeliveryResult("queued", "written to the outbox")
        headers = {"Content-Type": "application/xml; charset=utf-8",
                   "Idempotency-Key": message_uuid(invitation_id)}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        # __init__ insists on exactly one of outbox and endpoint.
        assert self.endpoint is not None
        return http_post(self.endpoint, memo, headers, self.timeout)

    def erase(self, invitation_ids: Sequence[str]) -> int:
        """Delete the MeMo files (which hold the person's CPR number) of these invitations
        that the region's integration has not collected yet."""
        if self.outbox is None:
            return 0  # sent over HTTP: nothing kept here
        with self._lock:
            return sum(remove_file(self.outbox / f"{invitation_id}.xml")
                       for invitation_id in valid_invitation_ids(invitation_ids))

    def delivery_status(self, invitation_id: str) -> DeliveryResult | None:
        recorded = super().delivery_status(invitation_id)
        if recorded is None and self.outbox is not None:
            if (self.outbox / f"{check_invitation_id(invitation_id)}.xml").exists():
                return DeliveryResult("queued", "written to the outbox")
            # The file is written atomically (a rename) and the sent log is checked first,
            # so no file means never sent — or sent, collected and the log lost, which the
            # fixed messageUUID makes Digital Post refuse: either way a resend is safe.
            return DeliveryResult("not_sent", "no MeMo file in the outbox", retryable=True)
        return recorded


@hookimpl
def register_invitation_channels(settings: Mapping[str, Any]) -> list[DigitalPostChannel]:
    if not settings:
        return []
    return [DigitalPostChannel(settings)]
