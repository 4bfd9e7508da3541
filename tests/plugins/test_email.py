"""E-mail over SMTP, against a real local SMTP server (aiosmtpd)."""
from __future__ import annotations

import email
import email.policy
import socket

import pytest

aiosmtpd = pytest.importorskip("aiosmtpd")  # a test dependency: pip install -e '.[test]'
from aiosmtpd.controller import Controller  # noqa: E402

from kleroterion.plugin import PluginError, Recipient  # noqa: E402
from plugins.channels.email import EmailChannel, message_id  # noqa: E402


class Mailbox:
    def __init__(self):
        self.messages = []
        self.refuse: set[str] = set()
        self.defer: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        if address in self.defer:
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server():
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    mailbox.port = controller.port
    try:
        yield mailbox
    finally:
        controller.stop()


@pytest.fixture
def settings(tmp_path, smtp_server):
    return {"smtp_host": "127.0.0.1", "smtp_port": smtp_server.port, "security": "none",
            "from_address": "borgersamling@regionh.dk", "from_name": "Region Hovedstaden",
            "reply_to": "svar@regionh.dk", "timeout": 5, "state_dir": str(tmp_path / "state")}


def person(invitation_id="e1", address="karen.jensen@example.dk", **kw):
    return Recipient(invitation_id=invitation_id, code="K7Q2-M9XA", email=address, **kw)


def test_can_reach(settings):
    channel = EmailChannel(settings)
    assert channel.can_reach(person())
    for bad in (None, "", "karen", "karen@", "@example.dk", "a b@example.dk",
                "karen@example", "x@example.dk\r\nBcc: y@example.dk"):
        assert not channel.can_reach(person(address=bad)), bad


def test_message_is_delivered_once(settings, smtp_server, template, assembly):
    channel = EmailChannel(settings)
    invitation = channel.render(person(language="da"), template, assembly)
    result = channel.send(invitation)
    assert result.status == "sent" and result.detail == message_id("e1", "regionh.dk")
    assert channel.send(invitation) == result
    assert EmailChannel(settings).send(invitation) == result  # a restarted process
    [(mail_from, rcpt, message)] = smtp_server.messages
    assert mail_from == "borgersamling@regionh.dk" and rcpt == ["karen.jensen@example.dk"]
    assert message["Subject"] == "Invitation til Borgersamlingen om klima"
    assert message["From"] == "Region Hovedstaden <borgersamling@regionh.dk>"
    assert message["Reply-To"] == "svar@regionh.dk"
    assert message["Message-ID"] == "<invitation.e1@regionh.dk>"
    assert message["Content-Language"] == "da"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    page = message.get_body(("html",)).get_content()
    assert "K7Q2-M9XA" in text and "https://tilmeld.regionh.dk/s?code=K7Q2-M9XA" in text
    assert "Kære borger" in text and "12. marts 2026" in text
    assert 'href="https://tilmeld.regionh.dk/s?code=K7Q2-M9XA"' in page
    assert "Tilmeld dig" in page and 'lang="da"' in page
    assert channel.delivery_status("e1").status == "sent"


def test_english_and_own_html(settings, smtp_server, template, assembly):
    channel = EmailChannel(settings)
    own = {**template, "en": {**template["en"], "html": "<p>Code <b>{code}</b></p>"}}
    channel.send(channel.render(person(language="en"), own, assembly))
    [(_, _, message)] = smtp_server.messages
    assert message["Subject"] == "Invitation to The climate assembly"
    assert "<p>Code <b>K7Q2-M9XA</b></p>" in message.get_body(("html",)).get_content()
    assert "Sign up" in message.get_body(("html",)).get_content()


def test_refused_and_deferred_recipients(settings, smtp_server, template, assembly):
    channel = EmailChannel(settings)
    smtp_server.refuse.add("gone@example.dk")
    smtp_server.defer.add("busy@example.dk")
    gone = channel.send(channel.render(person("g1", "gone@example.dk"), template, assembly))
    assert (gone.status, gone.retryable) == ("bounced", False)
    assert "gone@" not in gone.detail
    busy = channel.render(person("b1", "busy@example.dk"), template, assembly)
    result = channel.send(busy)
    assert (result.status, result.retryable) == ("failed", True)
    smtp_server.defer.clear()
    assert channel.send(busy).status == "sent"
    assert len(smtp_server.messages) == 1


def test_server_down_is_retryable(settings, template, assembly):
    channel = EmailChannel({**settings, "smtp_port": free_port()})
    result = channel.send(channel.render(person(), template, assembly))
    assert (result.status, result.retryable) == ("failed", True)


def test_starttls_missing_is_a_final_failure(settings, template, assembly):
    channel = EmailChannel({**settings, "security": "starttls"})
    result = channel.send(channel.render(person(), template, assembly))
    assert (result.status, result.retryable) == ("failed", False)
    assert "STARTTLS" in result.detail


@pytest.mark.parametrize("change,field", [
    ({"smtp_host": None}, "plugins.email.smtp_host"),
    ({"from_address": None}, "plugins.email.from_address"),
    ({"from_address": "regionh.dk"}, "plugins.email.from_address"),
    ({"security": "tls"}, "plugins.email.security"),
    ({"smtp_port": 70000}, "plugins.email.smtp_port"),
    ({"username": "klero"}, "plugins.email.password_env"),
    ({"password": "x"}, "plugins.email.username"),
    ({"reply_to": "nobody"}, "plugins.email.reply_to"),
])
def test_bad_settings_are_named(settings, change, field):
    merged = {k: v for k, v in {**settings, **change}.items() if v is not None}
    with pytest.raises(PluginError) as err:
        EmailChannel(merged)
    assert err.value.field == field
