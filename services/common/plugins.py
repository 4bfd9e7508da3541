"""The plugin host: finds plugins, applies the region's choice, and indexes what they offer.

Plugins come from the ``kleroterion.plugins`` entry-point group (built-ins included). Which
of them a region uses is configuration: ``KLERO_PLUGINS`` or the region file's ``plugins``
list; when neither says, every installed plugin is enabled.
"""
from __future__ import annotations

import pathlib
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import pluggy

from services.common import hookspecs
from services.common.geography import place_names
from services.common.hookspecs import (
    AssemblyFormat,
    InvitationChannel,
    Recipient,
    Report,
    ReportSection,
)
from services.common.settings import ServiceSettings

ENTRY_POINT_GROUP = "kleroterion.plugins"


class PluginError(ValueError):
    """A plugin's or a region file's setting refused; ``field`` names it (e.g.
    ``plugins.sms.sender``)."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class RegionConfig:
    """A region's file: which plugins it enables and their settings."""

    region: str = "local"
    plugins: tuple[str, ...] | None = None
    plugin_settings: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    channel_order: tuple[str, ...] = ()

    @classmethod
    def load(cls, path: str | pathlib.Path) -> RegionConfig:
        path = pathlib.Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise PluginError("KLERO_REGION_CONFIG", f"no such file: {path}") from None
        except tomllib.TOMLDecodeError as exc:
            raise PluginError("KLERO_REGION_CONFIG", f"{path} is not valid TOML ({exc})") from None
        plugins = data.get("plugins", {})
        enabled = data.get("enabled_plugins")
        if enabled is not None and not (isinstance(enabled, list)
                                        and all(isinstance(p, str) for p in enabled)):
            raise PluginError("enabled_plugins", f"{path}: must be a list of plugin names")
        if not isinstance(plugins, dict):
            raise PluginError("plugins", f"{path}: must be a table of plugin settings")
        order = data.get("channel_order", [])
        if not isinstance(order, list):
            raise PluginError("channel_order", f"{path}: must be a list of channel names")
        return cls(region=str(data.get("region", "local")),
                   plugins=tuple(enabled) if enabled is not None else None,
                   plugin_settings=plugins, channel_order=tuple(order))


@dataclass(frozen=True)
class PluginInfo:
    name: str
    module: str
    hooks: tuple[str, ...]
    enabled: bool
    version: str = ""


class PluginHost:
    def __init__(self, enabled: Sequence[str] | None = None,
                 region: RegionConfig | None = None,
                 extra_plugins: Iterable[tuple[str, object]] = (),
                 load_entry_points: bool = True):
        self.region = region or RegionConfig()
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs.KleroterionSpecs)
        if load_entry_points:
            self.pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
        for name, plugin in extra_plugins:
            self.pm.register(plugin, name=name)
        self._all = {name: plugin for name, plugin in self.pm.list_name_plugin() if plugin}
        self._versions = {self.pm.get_name(p): dist.version
                          for p, dist in self.pm.list_plugin_distinfo()}
        wanted = enabled if enabled else self.region.plugins
        if wanted is not None:
            unknown = [name for name in wanted if name not in self._all]
            if unknown:
                raise PluginError("plugins", f"not installed: {', '.join(unknown)} "
                                             f"(installed: {', '.join(sorted(self._all))})")
            for name in list(self._all):
                if name not in wanted:
                    self.pm.unregister(name=name)
        self.enabled = tuple(name for name, p in self.pm.list_name_plugin() if p)

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> PluginHost:
        """The host a service runs with: ``KLERO_PLUGINS`` (``settings.plugins``) names the
        enabled plugins; else the region file (``KLERO_REGION_CONFIG``) lists them in
        ``enabled_plugins``; else every installed plugin is enabled."""
        region = RegionConfig.load(settings.region_config) if settings.region_config else None
        return cls(enabled=settings.plugins or None, region=region)

    def describe(self) -> list[PluginInfo]:
        rows = []
        for name, plugin in sorted(self._all.items()):
            hooks = tuple(sorted(h for h in hookspecs.HOOK_NAMES if hasattr(plugin, h)))
            rows.append(PluginInfo(name, getattr(plugin, "__name__", type(plugin).__name__),
                                   hooks, name in self.enabled, self._versions.get(name, "")))
        return rows

    def settings_for(self, plugin: str) -> Mapping[str, Any]:
        return self.region.plugin_settings.get(plugin, {})

    # --- formats --------------------------------------------------------------------

    def formats(self) -> dict[str, AssemblyFormat]:
        found: dict[str, AssemblyFormat] = {}
        owner: dict[str, str] = {}
        for impl in self.pm.hook.register_assembly_formats.get_hookimpls():
            # pluggy types a hook's result as object; the spec says what it returns.
            for fmt in cast(Iterable[AssemblyFormat], impl.function() or ()):
                if fmt.name in found:
                    raise PluginError("format", f"{fmt.name!r} is registered by both "
                                                f"{owner[fmt.name]!r} and {impl.plugin_name!r}")
                found[fmt.name], owner[fmt.name] = fmt, impl.plugin_name
        return found

    def format(self, name: str) -> AssemblyFormat:
        formats = self.formats()
        if name not in formats:
            raise PluginError("format", f"unknown format {name!r} (enabled: "
                                        f"{', '.join(sorted(formats)) or 'none'})")
        return formats[name]

    # --- channels and reports ---------------------------------------------------------

    def _collect(self, hook: str, kind: type) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for impl in getattr(self.pm.hook, hook).get_hookimpls():
            returned = impl.function(settings=self.settings_for(impl.plugin_name)) or ()
            for item in cast(Iterable[Any], returned):
                if not isinstance(item, kind):
                    raise PluginError(hook, f"{impl.plugin_name!r} returned {item!r}, which is "
                                            f"not a {kind.__name__}")
                # The kinds are runtime-checkable protocols: every one has a ``name``.
                name: str = cast(Any, item).name
                if name in found:
                    raise PluginError(hook, f"{name!r} is registered twice")
                found[name] = item
        return found

    def channels(self) -> dict[str, InvitationChannel]:
        return self._collect("register_invitation_channels", InvitationChannel)

    def reports(self, kind: str | None = None) -> dict[str, Report]:
        """The enabled report producers; with ``kind``, only those rendering that data
        (``Report.kind``, "final" when a producer does not say)."""
        found = self._collect("register_reports", Report)
        if kind is None:
            return found
        return {name: r for name, r in found.items() if getattr(r, "kind", "final") == kind}

    def evaluation_sections(self, evaluation: Mapping[str, Any], language: str
                            ) -> list[ReportSection]:
        """Every enabled plugin's sections of the evaluation report, in their order."""
        sections: list[ReportSection] = []
        arguments = {"evaluation": evaluation, "language": language,
                     "place_names": place_names()}
        for impl in self.pm.hook.evaluation_report_sections.get_hookimpls():
            # pluggy lets an implementation take fewer arguments than the spec names.
            given = {name: arguments[name] for name in impl.argnames}
            for item in cast(Iterable[object], impl.function(**given) or ()):
                if not isinstance(item, ReportSection):
                    raise PluginError("evaluation_report_sections",
                                      f"{impl.plugin_name!r} returned {item!r}, which is not "
                                      f"a ReportSection")
                sections.append(item)
        keys = [s.key for s in sections]
        twice = sorted({k for k in keys if keys.count(k) > 1})
        if twice:
            raise PluginError("evaluation_report_sections",
                              f"section key {twice[0]!r} is returned twice")
        return sorted(sections, key=lambda s: (s.order, s.key))

    def channel_order(self, recipient: Recipient) -> tuple[str, ...]:
        """The channels to try for a recipient: a plugin's answer, else the region file's
        order, else every enabled channel in name order."""
        answer = self.pm.hook.invitation_channel_order(region=self.region.region,
                                                       recipient=recipient)
        if answer:
            return tuple(answer)
        return self.region.channel_order or tuple(sorted(self.channels()))
