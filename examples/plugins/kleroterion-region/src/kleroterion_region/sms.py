"""The region's SMS provider as an invitation channel (``region_sms``).

Settings, from the region file's ``[plugins.region]`` table::

    [plugins.region]
    gateway_url = "https://sms.example-region.dk/v1/messages"
    sender = "Region"                  # up to 11 letters and digits
    api_key_env = "REGION_SMS_API_KEY" # the environment variable holding the key
    state_dir = "/var/lib/kleroterion/region-sms"

The gateway takes ``POST {"to": "+45...", "from": ..., "text": ...}`` with the key in an
``X-Api-Key`` header and answers 2xx when it accepted the message. ``send`` is safe to call
again for the same invitation: what was sent is recorded in ``state_dir`` (status only, no
phone number) and not sent twice.
"""
from __future__ import annotations

import json
import os
import pathlib
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

from kleroterion.plugin import DeliveryResult, Invitation, PluginError, Recipient

MAX_LENGTH = 612  # four concatenated SMS
_INVITATION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def danish_mobile(number: str | None) -> str | None:
    """The number as +45XXXXXXXX, or None if it is not a Danish mobile number."""
    compact = re.sub(r"[\s\-().]", "", number or "")
    if re.fullmatch(r"\d{8}", compact):
        compact = "+45" + compact
    return compact if re.fullmatch(r"\+45[2-9]\d{7}", compact) else None


def _setting(settings: Mapping[str, Any], key: str) -> str:
    value = settings.get(key)
    if not isinstance(value, str) or not value.strip():
        # The host shows the field, so an operator knows which line of the file to fix.
        raise PluginError(f"plugins.region.{key}", "is required (a non-empty string)")
    return value


class RegionSmsChannel:
    name = "region_sms"

    def __init__(self, settings: Mapping[str, Any]):
        self.gateway_url = _setting(settings, "gateway_url")
        if urllib.parse.urlsplit(self.gateway_url).scheme not in ("http", "https"):
            raise PluginError("plugins.region.gateway_url", "must be an http(s) URL")
        self.sender = _setting(settings, "sender")
        if not re.fullmatch(r"[A-Za-z0-9 ]{1,11}", self.sender):
            raise PluginError("plugins.region.sender", "must be 1-11 letters or digits")
        key_env = _setting(settings, "api_key_env")
        api_key = os.environ.get(key_env)
        if not api_key:
            raise PluginError("plugins.region.api_key_env",
                              f"the environment variable {key_env} is not set")
        self.api_key = api_key
        self.state_dir = pathlib.Path(_setting(settings, "state_dir"))

    def can_reach(self, recipient: Recipient) -> bool:
        return danish_mobile(recipient.phone) is not None

    def render(self, recipient: Recipient, template: Mapping[str, str],
               assembly: Mapping[str, Any]) -> Invitation:
        if not self.can_reach(recipient):
            raise ValueError("recipient.phone: not a Danish mobile number")
        text = template.get("sms") or template.get("body")
        if not text:
            raise ValueError("template.body: missing")
        if len(text) > MAX_LENGTH:
            raise ValueError(f"template.body: longer than {MAX_LENGTH} characters for SMS")
        base = str(assembly.get("signup_url", ""))
        url = f"{base}{'&' if '?' in base else '?'}code={urllib.parse.quote(recipient.code)}"
        return Invitation(self.name, recipient, template.get("subject", ""), text, url)

    def send(self, invitation: Invitation) -> DeliveryResult:
        recorded = self.delivery_status(invitation.recipient.invitation_id)
        if recorded is not None and not (recorded.status == "failed" and recorded.retryable):
            return recorded
        result = self._post(invitation)
        self._record(invitation.recipient.invitation_id, result)
        return result

    def delivery_status(self, invitation_id: str) -> DeliveryResult | None:
        try:
            data = json.loads(self._log(invitation_id).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        return DeliveryResult(data["status"], data["detail"], data["retryable"])

    def _post(self, invitation: Invitation) -> DeliveryResult:
        to = danish_mobile(invitation.recipient.phone)
        if to is None:
            return DeliveryResult("failed", "no Danish mobile number")
        body = json.dumps({"to": to, "from": self.sender, "text": invitation.body}).encode()
        request = urllib.request.Request(self.gateway_url, data=body, method="POST", headers={
            "Content-Type": "application/json", "X-Api-Key": self.api_key})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return DeliveryResult("sent", f"HTTP {response.status}")
        except urllib.error.HTTPError as exc:
            exc.close()
            # Never quote the gateway's answer: it may echo the phone number.
            retryable = exc.code in (408, 429) or exc.code >= 500
            return DeliveryResult("failed", f"HTTP {exc.code}", retryable=retryable)
        except OSError as exc:
            return DeliveryResult("failed", f"cannot reach the gateway ({type(exc).__name__})",
                                  retryable=True)

    def _log(self, invitation_id: str) -> pathlib.Path:
        # The id names a file, so it must not be able to name a path.
        if not _INVITATION_ID.fullmatch(invitation_id):
            raise ValueError(f"invitation_id: {invitation_id!r} is not a valid id")
        return self.state_dir / f"{invitation_id}.json"

    def _record(self, invitation_id: str, result: DeliveryResult) -> None:
        path = self._log(invitation_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        record = {"status": result.status, "detail": result.detail,
                  "retryable": result.retryable}
        # Written whole, then renamed: a crash never leaves half a record.
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(record), encoding="utf-8")
        tmp.replace(path)
