"""Invitations by SMS through an HTTP gateway.

Reaches a recipient with a phone number that normalises to E.164: Danish numbers (8 digits,
optionally with +45 or 0045, spaces and dashes) become ``+45XXXXXXXX``; other countries'
numbers only with ``allow_foreign``. ``send`` POSTs JSON ``{"to", "from", "text"}`` with the
API token in a header and the invitation id as ``Idempotency-Key``; 2xx is "sent", 408/429/5xx
and network trouble a retryable failure, any other 4xx a final one.

The text is the template's ``sms`` part, else a short built-in text; it must hold the code
and the (short) sign-up link and fit ``max_length`` characters (612 = four concatenated
GSM-7 segments of 153). A template ``sms`` text that is too long gives way to the built-in
text, then to shorter ones; if even the shortest does not fit, ``render`` fails naming
``plugins.sms.max_length``.

Settings (``[plugins.sms]``):

=================  ===============  =========================================================
setting            default          meaning
=================  ===============  =========================================================
gateway_url        required         the gateway's send URL
sender             required         the "from": up to 11 letters/digits, or a phone number
api_token_env      required*        environment variable holding the API token
api_token          —                the token itself (*one of the two; prefer the env var)
token_header       "Authorization"  header carrying the token ("Bearer <token>" for
                                    Authorization, the bare token for any other header)
short_url          —                sign-up link for SMS with ``{code}``, e.g.
                                    "https://kltr.dk/{code}"; default the full sign-up link
max_length         612              longest text in characters (70–1530)
allow_foreign      false            accept non-Danish E.164 numbers
timeout            10               seconds to wait for the gateway
state_dir          .kleroterion/channels/sms  the sent log (one JSON per invitation)
=================  ===============  =========================================================
"""
from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Mapping
from typing import Any

from kleroterion.plugin import DeliveryResult, Invitation, Recipient, hookimpl
from plugins.channels._common import (
    Channel,
    Options,
    check_invitation_id,
    fill,
    http_post,
    placeholder_values,
    render_parts,
    signup_url,
    template_part,
)

DEFAULT_TEXT = {
    "da": "{assembly_name}: Du er udtrukket og inviteret. Tilmeld dig senest {deadline} på "
          "{short_url} med koden {code}. Hilsen {sender}",
    "en": "{assembly_name}: You have been drawn and are invited. Sign up by {deadline} at "
          "{short_url} with the code {code}. From {sender}",
}
# For short limits: the last resort still carries the code and the link.
SHORT_TEXTS = {
    "da": ["{assembly_name}: Tilmeld dig senest {deadline} med koden {code} på {short_url}",
           "Tilmeld dig med koden {code} på {short_url}"],
    "en": ["{assembly_name}: Sign up by {deadline} with the code {code} at {short_url}",
           "Sign up with the code {code} at {short_url}"],
}


def normalise_phone(number: str | None, allow_foreign: bool = False) -> str | None:
    """The number in E.164, or None if it is not a valid mobile number we may use."""
    if not number or not isinstance(number, str):
        return None
    compact = re.sub(r"[\s\-().]", "", number)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if re.fullmatch(r"\d{8}", compact):
        compact = "+45" + compact
    if compact.startswith("+45"):
        # Danish subscriber numbers are eight digits and never start with 0 or 1.
        return compact if re.fullmatch(r"\+45[2-9]\d{7}", compact) else None
    if allow_foreign and re.fullmatch(r"\+[1-9]\d{7,14}", compact):
        return compact
    return None


class SmsChannel(Channel):
    name = "sms"

    def __init__(self, settings: Mapping[str, Any]):
        o = Options(self.name, settings)
        self.gateway_url = o.url("gateway_url")
        self.sender = o.str("sender", pattern=r"[A-Za-z0-9 ]{1,11}|\+?\d{3,15}")
        self.token = o.secret("api_token", required=True)
        self.token_header = o.str("token_header", "Authorization", pattern=r"[A-Za-z0-9-]+")
        self.short_url = o.str("short_url", None)
        if self.short_url is not None:
            if "{code}" not in self.short_url:
                raise o.error("short_url", "must contain {code}")
            o.settings["short_url"] = self.short_url.replace("{code}", "CODE")
            o.url("short_url")
        self.max_length = o.int("max_length", 612, minimum=70, maximum=1530)
        self.allow_foreign = o.bool("allow_foreign", False)
        self.timeout = o.float("timeout", 10)
        state_dir = o.state_dir()
        o.done()
        super().__init__(state_dir)

    def can_reach(self, recipient: Recipient) -> bool:
        return normalise_phone(recipient.phone, self.allow_foreign) is not None

    def render(self, recipient: Recipient, template: Mapping[str, Any],
               assembly: Mapping[str, Any]) -> Invitation:
        check_invitation_id(recipient.invitation_id)
        if not self.can_reach(recipient):
            raise ValueError("recipient.phone: not a valid mobile number for SMS")
        url = signup_url(assembly, recipient.code)
        short = (self.short_url.replace("{code}", urllib.parse.quote(recipient.code, safe=""))
                 if self.short_url else url)
        values = placeholder_values(recipient, assembly, url, short_url=short)
        parts = render_parts(template, recipient, values)
        candidates = []
        own = template_part(template, "sms", recipient.language)
        if own is not None:
            candidates.append(fill(own, values, "sms"))
        lang = recipient.language if recipient.language in DEFAULT_TEXT else "da"
        for text in (DEFAULT_TEXT[lang], *SHORT_TEXTS[lang]):
            candidates.append(fill(text, values, "sms"))
        for text in candidates:
            # A text without the code or the link would be an invitation nobody can use.
            if len(text) <= self.max_length and recipient.code in text and short in text:
                return Invitation(self.name, recipient, parts["subject"], text, url)
        raise ValueError(f"plugins.sms.max_length: the SMS with code and link needs more than "
                         f"{self.max_length} characters")

    def _deliver(self, invitation: Invitation) -> DeliveryResult:
        to = normalise_phone(invitation.recipient.phone, self.allow_foreign)
        if to is None:
            return DeliveryResult("failed", "no valid mobile number")
        if len(invitation.body) > self.max_length:
            return DeliveryResult("failed", f"text longer than {self.max_length} characters")
        payload = json.dumps({"to": to, "from": self.sender, "text": invitation.body},
                             ensure_ascii=False).encode()
        bearer = self.token_header.lower() == "authorization"
        token = f"Bearer {self.token}" if bearer else self.token
        headers = {"Content-Type": "application/json; charset=utf-8",
                   self.token_header: token,
                   "Idempotency-Key": invitation.recipient.invitation_id}
        return http_post(self.gateway_url, payload, headers, self.timeout)


@hookimpl
def register_invitation_channels(settings: Mapping[str, Any]) -> list[SmsChannel]:
    if not settings:
        return []
    return [SmsChannel(settings)]
