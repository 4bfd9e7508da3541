"""Digital Post: who it reaches, the MeMo message, the outbox and the HTTP sender."""
from __future__ import annotations

import base64
import xml.etree.ElementTree as ET

import pytest

from kleroterion.plugin import InvitationChannel, PluginError, Recipient
from plugins.channels import digital_post
from plugins.channels.digital_post import MEMO_NS, DigitalPostChannel, message_uuid

NS = {"memo": MEMO_NS}
CPR = "0101901234"


def person(invitation_id="inv-1", **kw):
    kw.setdefault("cpr", CPR)
    return Recipient(invitation_id=invitation_id, code="K7Q2-M9XA", **kw)


@pytest.fixture
def settings(tmp_path):
    return {"sender_cvr": "29190623", "sender_label": "Region Hovedstaden",
            "outbox": str(tmp_path / "outbox"), "state_dir": str(tmp_path / "state")}


def test_can_reach_people_with_cpr_not_exempt(settings):
    channel = DigitalPostChannel(settings)
    assert isinstance(channel, InvitationChannel)
    assert channel.can_reach(person())
    assert channel.can_reach(person(cpr="010190-1234"))
    assert not channel.can_reach(person(digital_post_exempt=True))
    assert not channel.can_reach(person(cpr=None))
    assert not channel.can_reach(person(cpr="12345"))
    assert not channel.can_reach(person(cpr="9913901234"))  # no 99th day


def test_memo_message_has_the_key_elements(settings, template, assembly):
    channel = DigitalPostChannel(settings)
    invitation = channel.render(person(language="da"), template, assembly)
    assert invitation.subject == "Invitation til Borgersamlingen om klima"
    assert invitation.signup_url == "https://tilmeld.regionh.dk/s?code=K7Q2-M9XA"
    assert "12. marts 2026" in invitation.body and "K7Q2-M9XA" in invitation.body
    root = ET.fromstring(invitation.attachments["memo.xml"])
    assert root.tag == f"{{{MEMO_NS}}}Message" and root.get("memoVersion") == "1.1"
    header = root.find("memo:MessageHeader", NS)
    assert header.findtext("memo:messageType", namespaces=NS) == "DIGITALPOST"
    assert header.findtext("memo:messageUUID", namespaces=NS) == message_uuid("inv-1")
    assert header.findtext("memo:label", namespaces=NS) == invitation.subject
    assert header.findtext("memo:Sender/memo:senderID", namespaces=NS) == "29190623"
    assert header.findtext("memo:Sender/memo:idType", namespaces=NS) == "CVR"
    assert header.findtext("memo:Sender/memo:label", namespaces=NS) == "Region Hovedstaden"
    assert header.findtext("memo:Sender/memo:AttentionData/memo:ContentResponsible/"
                           "memo:contentResponsibleID", namespaces=NS) == "29190623"
    assert header.findtext("memo:Recipient/memo:recipientID", namespaces=NS) == CPR
    assert header.findtext("memo:Recipient/memo:idType", namespaces=NS) == "CPR"
    assert (header.findtext("memo:ReplyData/memo:messageUUID", namespaces=NS)
            == message_uuid("inv-1"))
    main = root.find("memo:MessageBody/memo:MainDocument", NS)
    assert main.findtext("memo:File/memo:encodingFormat", namespaces=NS) == "application/pdf"
    assert main.findtext("memo:File/memo:language", namespaces=NS) == "da"
    pdf = base64.b64decode(main.findtext("memo:File/memo:content", namespaces=NS))
    assert pdf.startswith(b"%PDF") and CPR.encode() not in pdf
    action = main.find("memo:Action", NS)
    assert action.findtext("memo:actionCode", namespaces=NS) == "SELVBETJENING"
    assert action.findtext("memo:label", namespaces=NS) == "Tilmeld dig"
    assert action.findtext("memo:EntryPoint/memo:url", namespaces=NS) == invitation.signup_url
    # The same invitation always has the same messageUUID: Digital Post refuses duplicates.
    again = ET.fromstring(channel.render(person(), template, assembly).attachments["memo.xml"])
    assert again.findtext("memo:MessageHeader/memo:messageUUID", namespaces=NS) == \
        message_uuid("inv-1")


def test_english_text_document(settings, template, assembly):
    channel = DigitalPostChannel({**settings, "document_format": "text"})
    invitation = channel.render(person(language="en"), template, assembly)
    root = ET.fromstring(invitation.attachments["memo.xml"])
    file = root.find("memo:MessageBody/memo:MainDocument/memo:File", NS)
    assert file.findtext("memo:encodingFormat", namespaces=NS) == "text/plain"
    text = base64.b64decode(file.findtext("memo:content", namespaces=NS)).decode()
    assert "12 March 2026" in text and "The climate assembly" in text
    assert root.findtext(".//memo:Action/memo:label", namespaces=NS) == "Sign up"


def test_outbox_write_is_atomic_and_idempotent(settings, tmp_path, template, assembly):
    channel = DigitalPostChannel(settings)
    invitation = channel.render(person(), template, assembly)
    # Never written (the write is a rename): the registry may send it after a crash.
    assert channel.delivery_status("inv-1").status == "not_sent"
    first = channel.send(invitation)
    assert first.status == "queued"
    outbox = tmp_path / "outbox"
    assert [p.name for p in outbox.iterdir()] == ["inv-1.xml"]  # no temp file left
    # The integration collects the file; sending again must not put a second one there.
    (outbox / "inv-1.xml").unlink()
    assert channel.send(invitation) == first
    assert list(outbox.iterdir()) == []
    assert channel.delivery_status("inv-1").status == "queued"
    # A new process with the same state directory knows too.
    assert DigitalPostChannel(settings).send(invitation) == first
    assert list(outbox.iterdir()) == []


def test_http_endpoint(settings, http_server, template, assembly, monkeypatch):
    monkeypatch.setenv("DP_TOKEN", "s3cret")
    settings = {**settings, "endpoint": http_server.url, "api_token_env": "DP_TOKEN",
                "timeout": 0.5}
    del settings["outbox"]
    channel = DigitalPostChannel(settings)
    ok = channel.render(person("ok"), template, assembly)
    assert channel.send(ok).status == "sent"
    assert channel.send(ok).status == "sent"
    [request] = http_server.requests
    assert request["headers"]["Authorization"] == "Bearer s3cret"
    assert request["headers"]["Content-Type"].startswith("application/xml")
    assert ET.fromstring(request["body"]).findtext(
        "memo:MessageHeader/memo:messageUUID", namespaces=NS) == message_uuid("ok")

    http_server.statuses = [503, 200]
    flaky = channel.render(person("flaky"), template, assembly)
    result = channel.send(flaky)
    assert (result.status, result.retryable, result.detail) == ("failed", True, "HTTP 503")
    assert channel.send(flaky).status == "sent"  # a retryable failure is tried again

    http_server.statuses = [422]
    bad = channel.render(person("bad"), template, assembly)
    result = channel.send(bad)
    assert (result.status, result.retryable) == ("failed", False)
    assert "personal" not in result.detail  # the response body is never quoted
    assert channel.send(bad) == result and len(http_server.requests) == 4

    http_server.delay = 1.5
    slow = channel.send(channel.render(person("slow"), template, assembly))
    assert (slow.status, slow.retryable) == ("failed", True)


@pytest.mark.parametrize("change,field", [
    ({"sender_cvr": None}, "plugins.digital_post.sender_cvr"),
    ({"sender_cvr": "1234"}, "plugins.digital_post.sender_cvr"),
    ({"outbox": None}, "plugins.digital_post.endpoint"),
    ({"endpoint": "https://x.invalid/"}, "plugins.digital_post.endpoint"),
    ({"endpoint": "ftp://x"}, "plugins.digital_post.endpoint"),
    ({"document_format": "docx"}, "plugins.digital_post.document_format"),
    ({"outbx": "/tmp"}, "plugins.digital_post.outbx"),
    ({"api_token_env": "KLERO_TEST_NO_SUCH_VAR"}, "plugins.digital_post.api_token_env"),
])
def test_bad_settings_are_named(settings, change, field):
    merged = {k: v for k, v in {**settings, **change}.items() if v is not None}
    with pytest.raises(PluginError) as err:
        DigitalPostChannel(merged)
    assert err.value.field == field


def test_render_refuses_exempt_person_and_bad_template(settings, template, assembly):
    channel = DigitalPostChannel(settings)
    with pytest.raises(ValueError, match="recipient.cpr"):
        channel.render(person(digital_post_exempt=True), template, assembly)
    with pytest.raises(ValueError, match=r"template.body: unknown placeholder \{kode\}"):
        channel.render(person(), {"subject": "x", "body": "{kode}"}, assembly)
    with pytest.raises(ValueError, match="assembly.signup_base_url"):
        channel.render(person(), template, {"name": "x"})
    with pytest.raises(ValueError, match="invitation_id"):
        channel.render(person("../../etc/passwd"), template, assembly)


def test_unconfigured_plugin_offers_nothing(settings):
    assert digital_post.register_invitation_channels(settings={}) == []
    [channel] = digital_post.register_invitation_channels(settings=settings)
    assert channel.name == "digital_post"
