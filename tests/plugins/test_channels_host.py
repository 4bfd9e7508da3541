"""The channel plugins through the plugin host, as the registry uses them."""
from __future__ import annotations

import pytest

from kleroterion.cli import main
from kleroterion.plugin import (
    InvitationChannel,
    PluginError,
    PluginHost,
    Recipient,
    RegionConfig,
)

CHANNELS = ("digital_post", "letter", "sms", "email")


def region_file(tmp_path, enabled, extra=""):
    path = tmp_path / "hovedstaden.toml"
    path.write_text(
        'region = "hovedstaden"\n'
        f'enabled_plugins = {list(enabled)!r}\n'.replace("'", '"') +
        'channel_order = ["digital_post", "letter"]\n'
        "[plugins.digital_post]\n"
        'sender_cvr = "29190623"\nsender_label = "Region Hovedstaden"\n'
        f'outbox = "{tmp_path / "outbox"}"\nstate_dir = "{tmp_path / "dp-state"}"\n'
        "[plugins.letter]\n"
        f'output_dir = "{tmp_path / "print"}"\nstate_dir = "{tmp_path / "letter-state"}"\n'
        'sender_name = "Region Hovedstaden"\n' + extra)
    return path


def first_reachable(host, channels, recipient):
    return next(name for name in host.channel_order(recipient)
                if name in channels and channels[name].can_reach(recipient))


def test_digital_post_first_then_letter(tmp_path, template, assembly):
    host = PluginHost(region=RegionConfig.load(region_file(tmp_path, ["formats", "digital_post",
                                                                      "letter"])))
    channels = host.channels()
    assert set(channels) == {"digital_post", "letter"}
    assert all(isinstance(c, InvitationChannel) for c in channels.values())
    address = ("Nørregade 1", "2100 København Ø")
    citizen = Recipient("i1", "K7Q2", cpr="0101901234", address_lines=address)
    exempt = Recipient("i2", "M9XA", cpr="0202901234", digital_post_exempt=True,
                       address_lines=address)
    assert host.channel_order(citizen) == ("digital_post", "letter")
    assert first_reachable(host, channels, citizen) == "digital_post"
    assert first_reachable(host, channels, exempt) == "letter"
    for person, name in ((citizen, "digital_post"), (exempt, "letter")):
        channel = channels[name]
        result = channel.send(channel.render(person, template, assembly))
        assert result.status == "queued"
    assert (tmp_path / "outbox" / "i1.xml").exists()
    assert channels["letter"].close_batch().count == 1


def test_bad_channel_setting_is_named(tmp_path):
    path = region_file(tmp_path, ["digital_post", "letter"], extra="batch_size = 0\n")
    with pytest.raises(PluginError, match=r"plugins.letter.batch_size: must be at least 1"):
        PluginHost(region=RegionConfig.load(path)).channels()


def test_plugins_command_lists_the_four_channels(tmp_path, capsys, monkeypatch):
    path = region_file(tmp_path, ["formats", *CHANNELS], extra=(
        "[plugins.sms]\n"
        'gateway_url = "http://127.0.0.1:9/send"\nsender = "RegionH"\n'
        'api_token_env = "KLERO_TEST_SMS_TOKEN"\n'
        f'state_dir = "{tmp_path / "sms-state"}"\n'
        "[plugins.email]\n"
        'smtp_host = "127.0.0.1"\nfrom_address = "borgersamling@regionh.dk"\n'
        f'state_dir = "{tmp_path / "email-state"}"\n'))
    monkeypatch.setenv("KLERO_TEST_SMS_TOKEN", "tok")
    monkeypatch.delenv("KLERO_PLUGINS", raising=False)
    monkeypatch.setenv("KLERO_REGION_CONFIG", str(path))
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    for name in CHANNELS:
        assert f"\n{name} " in out
    [listed] = [line for line in out.splitlines() if line.startswith("invitation channels:")]
    assert sorted(listed.split(": ", 1)[1].split(", ")) == sorted(CHANNELS)


def test_installed_but_unconfigured_channels_offer_nothing(monkeypatch, capsys):
    # Every installed plugin is enabled by default; without settings tables the channels
    # stay out of the way instead of failing `kleroterion plugins` on a fresh machine.
    monkeypatch.delenv("KLERO_PLUGINS", raising=False)
    monkeypatch.delenv("KLERO_REGION_CONFIG", raising=False)
    host = PluginHost()
    assert set(CHANNELS) <= set(host.enabled)
    assert host.channels() == {}
    assert main(["plugins"]) == 0
    assert "invitation channels" not in capsys.readouterr().out
