"""SMS through an HTTP gateway: numbers, text length, gateway answers and idempotency."""
from __future__ import annotations

import json
import logging

import pytest

from kleroterion.plugin import PluginError, Recipient
from plugins.channels import sms as sms_plugin
from plugins.channels.sms import SmsChannel, normalise_phone
from services.common.logs import JsonFormatter


def person(invitation_id="s1", phone="22 33 44 55", **kw):
    return Recipient(invitation_id=invitation_id, code="K7Q2-M9XA", phone=phone, **kw)


@pytest.fixture
def settings(tmp_path, http_server, monkeypatch):
    monkeypatch.setenv("KLERO_TEST_SMS_TOKEN", "tok-123")
    return {"gateway_url": http_server.url, "sender": "RegionH",
            "api_token_env": "KLERO_TEST_SMS_TOKEN", "short_url": "https://kltr.dk/{code}",
            "timeout": 0.5, "state_dir": str(tmp_path / "state")}


@pytest.mark.parametrize("raw,expected", [
    ("22334455", "+4522334455"),
    ("22 33 44 55", "+4522334455"),
    ("+45 22-33-44-55", "+4522334455"),
    ("0045 22334455", "+4522334455"),
    ("(+45) 2233 4455", "+4522334455"),
    ("12345678", None),     # Danish numbers never start with 1
    ("2233445", None),
    ("+45223344556", None),
    ("+46701234567", None),  # foreign, not allowed by default
    ("", None),
    (None, None),
    ("ring mig", None),
])
def test_normalise_phone(raw, expected):
    assert normalise_phone(raw) == expected


def test_foreign_numbers_only_when_allowed(settings):
    foreign = person(phone="+46 70 123 45 67")
    assert not SmsChannel(settings).can_reach(foreign)
    assert SmsChannel({**settings, "allow_foreign": True}).can_reach(foreign)
    assert not SmsChannel(settings).can_reach(person(phone=None))


def test_send_posts_json_once(settings, http_server, template, assembly):
    channel = SmsChannel(settings)
    invitation = channel.render(person(), template, assembly)
    assert "K7Q2-M9XA" in invitation.body and "https://kltr.dk/K7Q2-M9XA" in invitation.body
    assert "12. marts 2026" in invitation.body and len(invitation.body) <= 612
    assert channel.send(invitation).status == "sent"
    assert channel.send(invitation).status == "sent"
    assert SmsChannel(settings).send(invitation).status == "sent"  # a restarted process
    [request] = http_server.requests
    assert json.loads(request["body"]) == {"to": "+4522334455", "from": "RegionH",
                                           "text": invitation.body}
    assert request["headers"]["Authorization"] == "Bearer tok-123"
    assert request["headers"]["Idempotency-Key"] == "s1"
    assert channel.delivery_status("s1").status == "sent"
    assert channel.delivery_status("never") is None


def test_gateway_answers(settings, http_server, template, assembly):
    channel = SmsChannel({**settings, "token_header": "X-Api-Key"})
    http_server.statuses = [429, 200]
    busy = channel.render(person("busy"), template, assembly)
    assert channel.send(busy).status == "failed"
    assert channel.delivery_status("busy").retryable
    assert channel.send(busy).status == "sent"
    assert http_server.requests[0]["headers"]["X-Api-Key"] == "tok-123"

    http_server.statuses = [502]
    result = channel.send(channel.render(person("down"), template, assembly))
    assert (result.status, result.retryable, result.detail) == ("failed", True, "HTTP 502")

    http_server.statuses = [400]
    bad = channel.render(person("bad"), template, assembly)
    result = channel.send(bad)
    assert (result.status, result.retryable) == ("failed", False)
    count = len(http_server.requests)
    assert channel.send(bad) == result and len(http_server.requests) == count  # final

    http_server.delay = 1.5
    result = channel.send(channel.render(person("slow"), template, assembly))
    assert (result.status, result.retryable) == ("failed", True)


def test_unreachable_gateway_is_retryable(settings, template, assembly):
    channel = SmsChannel({**settings, "gateway_url": "http://127.0.0.1:9/send"})
    result = channel.send(channel.render(person(), template, assembly))
    assert (result.status, result.retryable) == ("failed", True)


def test_text_length(settings, template, assembly):
    channel = SmsChannel({**settings, "max_length": 160})
    long = {**template, "sms": "{assembly_name} " * 30 + "{code} {short_url}"}
    invitation = channel.render(person(), long, assembly)
    assert len(invitation.body) <= 160  # the built-in short text took over
    assert "K7Q2-M9XA" in invitation.body
    own = {**template, "sms": "Kode {code}: {short_url}"}
    assert channel.render(person(), own, assembly).body == \
        "Kode K7Q2-M9XA: https://kltr.dk/K7Q2-M9XA"
    # A text without the code is not an invitation anybody can use.
    assert "K7Q2-M9XA" in channel.render(person(), {**template, "sms": "Hej"}, assembly).body
    tiny = SmsChannel({**settings, "max_length": 70,
                       "short_url": "https://tilmelding.eksempel.dk/borgersamling/{code}"})
    with pytest.raises(ValueError, match="plugins.sms.max_length"):
        tiny.render(person(), template, assembly)


def test_no_personal_data_in_logs(settings, template, assembly, caplog):
    channel = SmsChannel(settings)
    with caplog.at_level(logging.INFO, logger="kleroterion.channels"):
        channel.send(channel.render(person(), template, assembly))
    assert caplog.records
    for record in caplog.records:
        line = JsonFormatter("registry").format(record)
        assert "22334455" not in line and "K7Q2" not in line


@pytest.mark.parametrize("change,field", [
    ({"gateway_url": None}, "plugins.sms.gateway_url"),
    ({"gateway_url": "not a url"}, "plugins.sms.gateway_url"),
    ({"sender": None}, "plugins.sms.sender"),
    ({"sender": "Region Hovedstaden"}, "plugins.sms.sender"),  # over 11 characters
    ({"api_token_env": None}, "plugins.sms.api_token_env"),
    ({"api_token": "x"}, "plugins.sms.api_token"),  # both token and token_env
    ({"max_length": 20}, "plugins.sms.max_length"),
    ({"short_url": "https://kltr.dk/"}, "plugins.sms.short_url"),
    ({"timeout": 0}, "plugins.sms.timeout"),
])
def test_bad_settings_are_named(settings, change, field):
    merged = {k: v for k, v in {**settings, **change}.items() if v is not None}
    with pytest.raises(PluginError) as err:
        SmsChannel(merged)
    assert err.value.field == field


def test_missing_gateway_message():
    with pytest.raises(PluginError, match=r"^plugins.sms.gateway_url: is required$"):
        sms_plugin.register_invitation_channels(settings={"sender": "RegionH"})
    assert sms_plugin.register_invitation_channels(settings={}) == []
