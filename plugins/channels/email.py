"""Invitations by e-mail over SMTP.

Reaches a recipient with an e-mail address. ``render`` makes a multipart/alternative message
body: the template's text, and its ``html`` part or else HTML made from the text with the
sign-up link as a button (kept in the invitation as the ``body.html`` attachment, which is not
sent as a file). ``send`` delivers through the configured SMTP server (STARTTLS, implicit TLS
or none; login only when a username is set). The Message-ID is derived from the invitation id
(``<invitation.<id>@<domain>>``), so mail systems and the registry can tell a resend from a
new message; the sent log makes a second ``send`` of the same invitation deliver nothing.

SMTP answers are classified: a 5xx refusal of the recipient is "bounced" (final), other 5xx
failures are final, 4xx answers, lost connections and timeouts are retryable.

Settings (``[plugins.email]``):

=================  ==========  ==============================================================
setting            default     meaning
=================  ==========  ==============================================================
smtp_host          required    the SMTP server
smtp_port          587/465/25  by ``security``: starttls 587, ssl 465, none 25
security           "starttls"  "starttls", "ssl" (implicit TLS) or "none"
username           —           log in with this user (no login when unset)
password_env       —           environment variable with the password (required with username,
password           —           or the password itself; prefer password_env)
from_address       required    the From address, e.g. "borgerpanel@regionh.dk"
from_name          —           the From display name, e.g. "Region Hovedstaden"
reply_to           —           a Reply-To address
message_id_domain  from_address's domain  the right-hand side of Message-IDs
timeout            10          seconds to wait for the server
state_dir          .kleroterion/channels/email  the sent log (one JSON per invitation)
=================  ==========  ==============================================================
"""
from __future__ import annotations

import html
import re
import smtplib
import ssl
from collections.abc import Mapping
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any, TypeGuard

from kleroterion.plugin import DeliveryResult, Invitation, Recipient, hookimpl
from plugins.channels._common import (
    Channel,
    Options,
    check_invitation_id,
    placeholder_values,
    render_parts,
    signup_url,
)

_EMAIL = re.compile(r"[^@\s<>,;\"]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+")
BUTTON = {"da": "Tilmeld dig", "en": "Sign up"}


def valid_email(address: str | None) -> TypeGuard[str]:
    return isinstance(address, str) and _EMAIL.fullmatch(address.strip()) is not None


def message_id(invitation_id: str, domain: str) -> str:
    return f"<invitation.{invitation_id}@{domain}>"


class EmailChannel(Channel):
    name = "email"

    def __init__(self, settings: Mapping[str, Any]):
        o = Options(self.name, settings)
        self.host = o.str("smtp_host")
        self.security = o.str("security", "starttls", choices=("starttls", "ssl", "none"))
        self.port = o.int("smtp_port", {"starttls": 587, "ssl": 465, "none": 25}[self.security],
                          minimum=1, maximum=65535)
        self.username = o.str("username", None)
        self.password = o.secret("password", required=self.username is not None)
        if self.password is not None and self.username is None:
            raise o.error("username", "is required when a password is set")
        self.from_address = o.str("from_address")
        if not valid_email(self.from_address):
            raise o.error("from_address", f"{self.from_address!r} is not an e-mail address")
        self.from_name = o.str("from_name", None)
        self.reply_to = o.str("reply_to", None)
        if self.reply_to is not None and not valid_email(self.reply_to):
            raise o.error("reply_to", f"{self.reply_to!r} is not an e-mail address")
        self.domain = o.str("message_id_domain", self.from_address.rsplit("@", 1)[1],
                            pattern=r"[A-Za-z0-9.-]+")
        self.timeout = o.float("timeout", 10)
        state_dir = o.state_dir()
        o.done()
        super().__init__(state_dir)

    def can_reach(self, recipient: Recipient) -> bool:
        return valid_email(recipient.email)

    def render(self, recipient: Recipient, template: Mapping[str, Any],
               assembly: Mapping[str, Any]) -> Invitation:
        check_invitation_id(recipient.invitation_id)
        if not self.can_reach(recipient):
            raise ValueError("recipient.email: not a valid e-mail address")
        url = signup_url(assembly, recipient.code)
        values = placeholder_values(recipient, assembly, url, sender=self.from_name)
        parts = render_parts(template, recipient, values, ("subject", "body", "html"))
        subject = " ".join(parts["subject"].split())  # no line breaks in a header
        page = self._html(recipient, subject, parts, url)
        return Invitation(self.name, recipient, subject, parts["body"], url,
                          attachments={"body.html": page.encode("utf-8")})

    @staticmethod
    def _html(recipient: Recipient, subject: str, parts: Mapping[str, str], url: str) -> str:
        if "html" in parts:
            content = parts["html"]
        else:
            content = "".join(f"<p>{html.escape(p)}</p>"
                              for p in parts["body"].split("\n\n") if p.strip())
            content = content.replace("\n", "<br>")
        link = html.escape(url, quote=True)
        label = BUTTON.get(recipient.language, BUTTON["da"])
        return (f'<!DOCTYPE html>\n<html lang="{html.escape(recipient.language)}"><head>'
                f'<meta charset="utf-8"><title>{html.escape(subject)}</title></head>'
                f'<body style="font-family: sans-serif; line-height: 1.5">{content}'
                f'<p><a href="{link}" style="display: inline-block; padding: 12px 20px; '
                f'background: #0b5394; color: #ffffff; text-decoration: none; '
                f'border-radius: 4px">{label}</a></p>'
                f'<p style="font-size: smaller"><a href="{link}">{link}</a></p>'
                f"<p>Kode / code: <strong>{html.escape(recipient.code)}</strong></p>"
                f"</body></html>\n")

    def message(self, invitation: Invitation) -> EmailMessage:
        recipient = invitation.recipient
        msg = EmailMessage()
        msg["Subject"] = invitation.subject
        msg["From"] = (Address(self.from_name, addr_spec=self.from_address)
                       if self.from_name else self.from_address)
        if not valid_email(recipient.email):
            raise ValueError("recipient.email: not a valid e-mail address")
        msg["To"] = recipient.email.strip()
        if self.reply_to:
            msg["Reply-To"] = self.reply_to
        msg["Message-ID"] = message_id(recipient.invitation_id, self.domain)
        msg["Date"] = format_datetime(datetime.now(UTC))
        # Bulk invitations: ask auto-responders to stay quiet.
        msg["Auto-Submitted"] = "auto-generated"
        msg.set_content(invitation.body)
        page = invitation.attachments.get("body.html")
        if page:
            msg.add_alternative(page.decode("utf-8"), subtype="html")
        # After the content: set_content drops every Content-* header set before it.
        msg["Content-Language"] = recipient.language
        return msg

    def _connect(self) -> smtplib.SMTP:
        if self.security == "ssl":
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                    context=ssl.create_default_context())
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if self.security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        return smtp

    def _deliver(self, invitation: Invitation) -> DeliveryResult:
        if not self.can_reach(invitation.recipient):
            return DeliveryResult("failed", "no valid e-mail address")
        msg = self.message(invitation)
        try:
            with self._connect() as smtp:
                # A password is required whenever a user name is set (see __init__).
                if self.username and self.password is not None:
                    smtp.login(self.username, self.password)
                smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            code = next(iter(exc.recipients.values()))[0]
            if code >= 500:
                return DeliveryResult("bounced", f"recipient refused (SMTP {code})")
            return DeliveryResult("failed", f"recipient deferred (SMTP {code})", retryable=True)
        except smtplib.SMTPAuthenticationError as exc:
            return DeliveryResult("failed", f"SMTP login refused ({exc.smtp_code})")
        except smtplib.SMTPNotSupportedError:
            return DeliveryResult("failed", "the SMTP server does not offer STARTTLS or login")
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError,
                smtplib.SMTPHeloError) as exc:
            return DeliveryResult("failed", f"SMTP {exc.smtp_code}",
                                  retryable=not 500 <= exc.smtp_code < 600)
        except ssl.SSLError as exc:
            return DeliveryResult("failed", f"TLS failed ({exc.reason})")
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            return DeliveryResult("failed", f"SMTP connection failed ({type(exc).__name__})",
                                  retryable=True)
        return DeliveryResult("sent", msg["Message-ID"])


@hookimpl
def register_invitation_channels(settings: Mapping[str, Any]) -> list[EmailChannel]:
    if not settings:
        return []
    return [EmailChannel(settings)]
