"""The plugin host: discovery, region choice, registries and every hook; the public plugin
API (``kleroterion.plugin``) that plugins import it all from."""
from __future__ import annotations

import inspect
import json
import subprocess
import sys

import pytest

import kleroterion.plugin as plugin_api
from kleroterion.cli import main
from kleroterion.plugin import (
    AssemblyFormat,
    DeliveryResult,
    DropoutPolicy,
    Invitation,
    PluginError,
    PluginHost,
    Recipient,
    RegionConfig,
    ReportArtifact,
    hookimpl,
)
from services.common import hookspecs, spreadsheet
from services.common import plugins as plugin_host

# What a plugin author needs, named in docs/PLUGINS.md: removing one breaks plugins.
PUBLIC_NAMES = {
    "hookimpl", "PROJECT", "ENTRY_POINT_GROUP", "HOOK_NAMES", "KleroterionSpecs",
    "AssemblyFormat", "DropoutPolicy",
    "InvitationChannel", "Recipient", "Invitation", "DeliveryResult", "ErasableChannel",
    "safe_csv_cell",
    "Report", "ReportArtifact", "ReportSection", "TableBlock", "FigureBlock",
    "PluginError", "PluginHost", "RegionConfig",
}


def test_public_plugin_api_names_what_plugins_need():
    assert set(plugin_api.__all__) == PUBLIC_NAMES
    # Every type the hook specs define (hook arguments, return types, channel and report
    # protocols) is in the public API.
    defined = {name for name, obj in vars(hookspecs).items()
               if inspect.isclass(obj) and obj.__module__ == hookspecs.__name__
               and not name.startswith("_")}
    assert defined <= PUBLIC_NAMES
    assert set(hookspecs.HOOK_NAMES) == {
        "register_assembly_formats", "register_invitation_channels", "register_reports",
        "evaluation_report_sections", "invitation_channel_order", "assembly_starting"}


@pytest.mark.parametrize("name", sorted(PUBLIC_NAMES))
def test_public_plugin_api_reexports_the_same_objects(name):
    # The same objects, not copies: the host's isinstance checks must accept what a plugin
    # built from kleroterion.plugin returns.
    origin = hookspecs if hasattr(hookspecs, name) else plugin_host
    if name == "safe_csv_cell":
        origin, name_there = spreadsheet, "safe_cell"
    else:
        name_there = name
    assert getattr(plugin_api, name) is getattr(origin, name_there)


def test_hook_specs_have_a_docstring_and_types():
    for name in hookspecs.HOOK_NAMES:
        spec = getattr(hookspecs.KleroterionSpecs, name)
        assert inspect.getdoc(spec), name
        signature = inspect.signature(spec)
        assert signature.return_annotation is not inspect.Signature.empty, name
        assert all(p.annotation is not inspect.Parameter.empty
                   for p in list(signature.parameters.values())[1:]), name


def test_importing_the_plugin_api_loads_no_service():
    # kleroterion/__init__.py stays import-free, so a plugin pulls in the common layer only.
    code = ("import sys, json, kleroterion.plugin; print(json.dumps(sorted(m for m in "
            "sys.modules if m.split('.')[0] in ('kleroterion', 'services', 'plugins'))))")
    loaded = json.loads(subprocess.run([sys.executable, "-c", code], check=True,
                                       capture_output=True, text=True).stdout)
    assert "kleroterion.plugin" in loaded
    assert [m for m in loaded if m.startswith("kleroterion.") and m != "kleroterion.plugin"] == []
    assert [m for m in loaded if m.startswith("services.")
            and not m.startswith(("services.common", "services.contracts"))] == []


class EchoChannel:
    name = "echo"

    def __init__(self, settings):
        self.prefix = settings.get("prefix", "")
        self.sent: list[Invitation] = []

    def can_reach(self, recipient):
        return recipient.email is not None

    def render(self, recipient, template, assembly):
        return Invitation(self.name, recipient, template["subject"],
                          template["body"].format(code=recipient.code),
                          f"https://example.invalid/{recipient.code}")

    def send(self, invitation):
        self.sent.append(invitation)
        return DeliveryResult("sent", self.prefix)

    def delivery_status(self, invitation_id):
        return None


class EchoReport:
    name = "echo-report"

    def produce(self, assembly, language):
        yield ReportArtifact(f"{assembly['id']}.txt", "text/plain", language.encode())


class RegionPlugin:
    seen_assemblies: list = []

    @hookimpl
    def register_invitation_channels(self, settings):
        return [EchoChannel(settings)]

    @hookimpl
    def register_reports(self, settings):
        return [EchoReport()]

    @hookimpl
    def invitation_channel_order(self, region, recipient):
        return ["echo"] if recipient.digital_post_exempt else None

    @hookimpl
    def assembly_starting(self, assembly):
        self.seen_assemblies.append(assembly["id"])


def test_builtin_formats_are_plugins():
    host = PluginHost()
    assert "formats" in host.enabled
    formats = host.formats()
    assert {"panel", "assembly", "national"} <= set(formats)
    assert formats["panel"].min_seats == 12 and formats["panel"].max_seats == 18
    assert formats["national"].default_seats == 99
    assert formats["national"].dropout.substitutes_per_seat == 1.0
    assert all(f.min_hours >= 20 for f in formats.values())
    with pytest.raises(ValueError, match="seats: the panel format takes 12–18 seats, got 30"):
        formats["panel"].check_seats(30)
    with pytest.raises(PluginError, match="unknown format 'jury'"):
        host.format("jury")


def test_region_plugin_hooks(tmp_path):
    region_file = tmp_path / "hovedstaden.toml"
    region_file.write_text('region = "hovedstaden"\nenabled_plugins = ["formats", "region"]\n'
                           'channel_order = ["echo"]\n[plugins.region]\nprefix = "hs"\n')
    host = PluginHost(region=RegionConfig.load(region_file),
                      extra_plugins=[("region", RegionPlugin())])
    channel = host.channels()["echo"]
    assert channel.prefix == "hs"  # the region file's settings reach the plugin
    person = Recipient(invitation_id="i1", code="K7Q2", email="x@example.invalid")
    invitation = channel.render(person, {"subject": "Invitation", "body": "Code {code}"}, {})
    assert invitation.body == "Code K7Q2" and channel.send(invitation).status == "sent"
    assert not channel.can_reach(Recipient(invitation_id="i2", code="c"))
    [artifact] = host.reports()["echo-report"].produce({"id": "a1"}, "da")
    assert artifact.content == b"da"
    # firstresult: the plugin answers for exempt people, the region file otherwise.
    assert host.channel_order(Recipient("i3", "c", digital_post_exempt=True)) == ("echo",)
    assert host.channel_order(Recipient("i4", "c")) == ("echo",)
    host.pm.hook.assembly_starting(assembly={"id": "a9"})
    assert RegionPlugin.seen_assemblies[-1] == "a9"


def test_disabled_plugins_offer_nothing():
    host = PluginHost(enabled=["region"], extra_plugins=[("region", RegionPlugin())])
    assert host.formats() == {}
    assert [i.enabled for i in host.describe() if i.name == "formats"] == [False]


def test_unknown_enabled_plugin_is_named():
    with pytest.raises(PluginError, match="not installed: e_boks"):
        PluginHost(enabled=["formats", "e_boks"])


def test_duplicate_format_is_refused():
    class Twin:
        @hookimpl
        def register_assembly_formats(self):
            return [AssemblyFormat("panel", {"da": "x"}, 1, 2, 1, 20, 1, (), DropoutPolicy(1))]

    host = PluginHost(extra_plugins=[("twin", Twin())])
    with pytest.raises(PluginError, match="'panel' is registered by both 'formats' and 'twin'"):
        host.formats()


def test_plugin_returning_wrong_type_is_named():
    class Broken:
        @hookimpl
        def register_invitation_channels(self, settings):
            return ["not a channel"]

    host = PluginHost(extra_plugins=[("broken", Broken())])
    with pytest.raises(PluginError, match="'broken' returned 'not a channel'"):
        host.channels()


@pytest.mark.parametrize("content,field", [
    ("enabled_plugins = 'formats'", "enabled_plugins"),
    ("channel_order = 'letter'", "channel_order"),
    ("this is = = not toml", "KLERO_REGION_CONFIG"),
])
def test_bad_region_file_is_named(tmp_path, content, field):
    path = tmp_path / "r.toml"
    path.write_text(content)
    with pytest.raises(PluginError) as err:
        RegionConfig.load(path)
    assert err.value.field == field


def test_plugins_command_lists_installed_and_enabled(capsys, monkeypatch):
    monkeypatch.setenv("KLERO_PLUGINS", "formats")
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "formats" in out and "yes" in out and "Borgerting" in out
    monkeypatch.setenv("KLERO_PLUGINS", "nope")
    assert main(["plugins"]) == 2
    assert "not installed: nope" in capsys.readouterr().err
