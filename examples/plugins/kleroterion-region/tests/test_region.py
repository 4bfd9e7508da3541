"""How a plugin tests itself: call its hooks, then run it through the plugin host as the
platform does (PluginHost, from kleroterion.plugin), without starting any service."""
from __future__ import annotations

import importlib.metadata
import pathlib
from typing import Any

import kleroterion_region
import pytest

from kleroterion.plugin import (
    ENTRY_POINT_GROUP,
    InvitationChannel,
    PluginError,
    PluginHost,
    Recipient,
    RegionConfig,
    ReportSection,
    TableBlock,
)


def cell(count: int | None, suppressed: bool = False) -> dict[str, Any]:
    return {"count": count, "share": None, "suppressed": suppressed}


# The part of the evaluation this plugin reads (see the evaluation_report_sections hook).
EVALUATION: dict[str, Any] = {
    "min_cell": 5,
    "representativeness": {"totals": {}, "features": [{
        "feature": "municipality_code", "stages": ["drawn", "seated"],
        "rows": [{"value": "851", "drawn": cell(20), "seated": cell(19)},
                 {"value": "860", "drawn": cell(3, suppressed=True), "seated": cell(0)},
                 {"value": "825", "drawn": cell(0), "seated": cell(0)}]}]},
}
PLACE_NAMES = {"851": "Aalborg", "860": "Hjørring", "825": "Læsø"}


def test_the_section_counts_the_municipalities_reached() -> None:
    [section] = kleroterion_region.evaluation_report_sections(EVALUATION, "da", PLACE_NAMES)
    assert isinstance(section, ReportSection) and section.order == 15
    intro, table = section.blocks
    assert intro == "Panelet har medlemmer fra 2 af regionens 3 kommuner."
    assert isinstance(table, TableBlock)
    assert table.rows == [["Aalborg", "20", "19"], ["Hjørring", "< 5", "0"], ["Læsø", "0", "0"]]


def test_no_section_without_municipalities() -> None:
    evaluation = {**EVALUATION, "representativeness": {"totals": {}, "features": []}}
    assert kleroterion_region.evaluation_report_sections(evaluation, "en", PLACE_NAMES) == []


def host(settings: dict[str, Any]) -> PluginHost:
    # Registered by hand, so this runs without the package being installed.
    return PluginHost(enabled=["region"], load_entry_points=False,
                      region=RegionConfig(region="nordjylland",
                                          plugin_settings={"region": settings}),
                      extra_plugins=[("region", kleroterion_region)])


@pytest.fixture
def settings(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("REGION_SMS_API_KEY", "key-123")
    return {"sender": "Region", "api_key_env": "REGION_SMS_API_KEY",
            "state_dir": str(tmp_path / "sms")}


def test_the_channel_sends_once_per_invitation(gateway: Any, settings: dict[str, Any]) -> None:
    channel = host({**settings, "gateway_url": gateway.url}).channels()["region_sms"]
    assert isinstance(channel, InvitationChannel)
    person = Recipient("inv-1", "K7Q2", phone="20 30 40 50")
    assert channel.can_reach(person) and not channel.can_reach(Recipient("inv-2", "X"))
    invitation = channel.render(person, {"subject": "Invitation", "body": "Koden er K7Q2"},
                                {"signup_url": "https://tilmeld.example/s"})
    assert invitation.signup_url == "https://tilmeld.example/s?code=K7Q2"
    assert channel.send(invitation).status == "sent"
    assert channel.send(invitation).status == "sent"  # again: recorded, not sent twice
    assert gateway.messages == [{"key": "key-123", "to": "+4520304050", "from": "Region",
                                 "text": "Koden er K7Q2"}]
    assert channel.delivery_status("inv-1") == channel.send(invitation)


def test_no_channel_without_settings_and_bad_settings_are_named(
        settings: dict[str, Any]) -> None:
    assert host({}).channels() == {}
    with pytest.raises(PluginError, match="plugins.region.gateway_url"):
        host(settings).channels()


def test_installed_through_the_entry_point() -> None:
    # Meaningful once the package is installed (pip install .): the host finds it by name.
    names = {ep.name: ep.value for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}
    if "region" not in names:
        pytest.skip("kleroterion-region is not installed")
    assert names["region"] == "kleroterion_region"
    assert "region" in PluginHost(enabled=["region"]).enabled
