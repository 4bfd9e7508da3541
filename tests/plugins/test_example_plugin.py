"""The example third-party plugin (examples/plugins/kleroterion-region) installs from its own
folder, is discovered through the ``kleroterion.plugins`` entry point and its hooks run: its
section appears in the evaluation report and its SMS channel sends.

pip installs it, as a plugin author's user would, with the venv's interpreter and no build
isolation (no download), into a folder of its own that is put on the path, rather than into
the venv's site-packages: installed there, it would be enabled by default in every later
test and in the demo, and change their evaluation reports.
"""
from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from kleroterion.plugin import InvitationChannel, PluginHost, Recipient, RegionConfig
from services.common.settings import ServiceSettings

# A pip build and a second interpreter running the plugin's own tests: several seconds.
pytestmark = pytest.mark.slow

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "plugins" / "kleroterion-region"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pathlib.Path]:
    work = tmp_path_factory.mktemp("example-plugin")
    # Built from a copy: an in-tree build would leave build/ and *.egg-info in the repository.
    source = work / "source"
    shutil.copytree(EXAMPLE, source,
                    ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    target = work / "site-packages"
    pip = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--no-index", "--disable-pip-version-check", "--target", str(target), str(source)],
        capture_output=True, text=True)
    assert pip.returncode == 0, f"pip install of the example plugin failed:\n{pip.stderr}"
    assert list(target.glob("kleroterion_region-*.dist-info/entry_points.txt"))
    return {"source": source, "target": target}


@pytest.fixture
def region_plugin(installed: dict[str, pathlib.Path],
                  monkeypatch: pytest.MonkeyPatch) -> Iterator[pathlib.Path]:
    """The example plugin installed for this test only."""
    monkeypatch.syspath_prepend(str(installed["target"]))
    yield installed["target"]
    monkeypatch.undo()
    for name in [m for m in sys.modules if m.split(".")[0] == "kleroterion_region"]:
        del sys.modules[name]
    # Off the path it is not installed: later tests see the platform as it was.
    assert "region" not in PluginHost().enabled


def cell(count: int | None, share: float | None, suppressed: bool = False) -> dict[str, Any]:
    return {"count": count, "share": share, "suppressed": suppressed}


# An assembly's evaluation as the recommendations service hands it to the plugins.
EVALUATION: dict[str, Any] = {
    "assembly_id": "a-2026-nord", "title": {"da": "Borgersamlingen", "en": "The assembly"},
    "generated_on": "2026-06-01", "audience": "public", "min_cell": 5, "labels": {},
    "representativeness": {
        "totals": {"population": 1000, "drawn": 24, "seated": 23},
        "features": [{
            "feature": "municipality_code", "population_source": "extract",
            "stages": ["population", "drawn", "seated"],
            "distance_signed_up": None, "distance_drawn": 0.05, "distance_seated": 0.06,
            "rows": [
                {"value": "851", "population": cell(700, 0.7), "drawn": cell(20, 0.83),
                 "seated": cell(19, 0.83)},
                {"value": "860", "population": cell(250, 0.25),
                 "drawn": cell(None, None, suppressed=True),
                 "seated": cell(None, None, suppressed=True)},
                {"value": "825", "population": cell(50, 0.05), "drawn": cell(0, 0.0),
                 "seated": cell(0, 0.0)}]}]},
    "selection": None,
    "process": {"sessions_held": 0, "sessions_planned": 0, "held_hours": 0, "planned_hours": 0,
                "sessions": [], "mean_attendance": None, "guests": [],
                "recommendations_voted": 0, "recommendations_adopted": 0,
                "answers": {"on_time": 0, "late": 0, "not_yet": 0}},
    "experience": [],
    "impact": {"handed_over_on": None},
}


def test_discovered_through_its_entry_point(region_plugin: pathlib.Path) -> None:
    host = PluginHost()
    # Installed and named by nobody's settings: enabled, like every installed plugin.
    assert "region" in host.enabled
    [info] = [row for row in host.describe() if row.name == "region"]
    assert (info.module, info.version) == ("kleroterion_region", "0.1.0")
    assert set(info.hooks) == {"evaluation_report_sections", "register_invitation_channels"}


def test_enabled_only_where_the_settings_say(region_plugin: pathlib.Path,
                                             tmp_path: pathlib.Path) -> None:
    chosen = PluginHost.from_settings(ServiceSettings.from_env({"KLERO_PLUGINS": "reports"}))
    assert "region" not in chosen.enabled and "reports" in chosen.enabled
    region_file = tmp_path / "nordjylland.toml"
    region_file.write_text('region = "nordjylland"\nenabled_plugins = ["reports", "region"]\n')
    by_file = PluginHost.from_settings(ServiceSettings.from_env(
        {"KLERO_REGION_CONFIG": str(region_file)}))
    assert set(by_file.enabled) == {"reports", "region"}


def test_its_section_is_in_the_evaluation_report(region_plugin: pathlib.Path) -> None:
    host = PluginHost(enabled=["reports", "region"])
    sections = host.evaluation_sections(EVALUATION, "da")
    assert [s.key for s in sections] == ["representativeness", "region_geography", "process",
                                         "experience", "impact"]
    [report] = host.reports("evaluation").values()
    files = {a.name: a for a in report.produce({**EVALUATION, "sections": sections}, "da")}
    html = files["a-2026-nord-evaluation-public-da.html"].content.decode()
    # The municipalities' names reach the plugin through the place_names hook argument.
    assert "Geografisk spredning" in html and "Aalborg" in html and "Læsø" in html
    assert "Panelet har medlemmer fra 2 af regionens 3 kommuner." in html
    order = [html.index(f'id="{key}"') for key in ("representativeness", "region_geography",
                                                   "process")]
    assert order == sorted(order)
    assert files["a-2026-nord-evaluation-public-da.pdf"].content.startswith(b"%PDF")


def test_its_channel_sends(region_plugin: pathlib.Path, tmp_path: pathlib.Path,
                           http_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGION_SMS_API_KEY", "key-123")
    region_file = tmp_path / "nordjylland.toml"
    region_file.write_text(
        'region = "nordjylland"\nenabled_plugins = ["region"]\n'
        'channel_order = ["region_sms"]\n[plugins.region]\n'
        f'gateway_url = "{http_server.url}"\nsender = "Region"\n'
        f'api_key_env = "REGION_SMS_API_KEY"\nstate_dir = "{tmp_path / "sms"}"\n')
    host = PluginHost(region=RegionConfig.load(region_file))
    channel = host.channels()["region_sms"]
    assert isinstance(channel, InvitationChannel)
    person = Recipient("inv-7", "K7Q2", phone="20 30 40 50")
    assert host.channel_order(person) == ("region_sms",) and channel.can_reach(person)
    invitation = channel.render(person, {"subject": "Invitation", "body": "Din kode: K7Q2"},
                                {"signup_url": "https://tilmeld.example/s"})
    assert channel.send(invitation).status == "sent"
    assert channel.send(invitation).status == "sent"  # recorded: not sent twice
    [request] = http_server.requests
    assert request["headers"]["X-Api-Key"] == "key-123"
    assert json.loads(request["body"]) == {"to": "+4520304050", "from": "Region",
                                           "text": "Din kode: K7Q2"}


def test_its_own_tests_pass_when_installed(installed: dict[str, pathlib.Path]) -> None:
    # The plugin's tests as its author runs them (docs/PLUGINS.md), in a fresh interpreter
    # that finds the plugin installed (its entry-point test runs instead of skipping).
    path = [str(installed["target"]), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "tests"], cwd=installed["source"], env=env,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "5 passed" in run.stdout and "skipped" not in run.stdout
