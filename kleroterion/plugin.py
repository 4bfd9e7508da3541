"""kleroterion's public plugin API: the one import path a plugin uses.

A plugin, built-in or third-party, imports everything it needs from here and nothing from
``services.*``::

    from kleroterion.plugin import ReportSection, TableBlock, hookimpl

    @hookimpl
    def evaluation_report_sections(evaluation, language, place_names):
        return [ReportSection("region", "Our region", 45, ["…"])]

What is listed in ``__all__`` is the stable API: a name is not removed or changed
incompatibly without a deprecation period (see docs/PLUGINS.md). The hook specifications
themselves, with a docstring per hook, live in ``services.common.hookspecs``; this module
re-exports the same objects, so ``isinstance`` checks in the host and in plugins agree.
"""
from __future__ import annotations

from services.common.hookspecs import (
    HOOK_NAMES,
    PROJECT,
    AssemblyFormat,
    DeliveryResult,
    DropoutPolicy,
    ErasableChannel,
    FigureBlock,
    Invitation,
    InvitationChannel,
    KleroterionSpecs,
    Recipient,
    Report,
    ReportArtifact,
    ReportSection,
    TableBlock,
    hookimpl,
)
from services.common.plugins import ENTRY_POINT_GROUP, PluginError, PluginHost, RegionConfig
from services.common.spreadsheet import safe_cell as safe_csv_cell

__all__ = [
    # registering hook implementations
    "hookimpl",
    "PROJECT",
    "ENTRY_POINT_GROUP",
    "HOOK_NAMES",
    "KleroterionSpecs",
    # assembly formats (register_assembly_formats)
    "AssemblyFormat",
    "DropoutPolicy",
    # invitation channels (register_invitation_channels, invitation_channel_order)
    "InvitationChannel",
    "Recipient",
    "Invitation",
    "DeliveryResult",
    # a channel keeping files about a person deletes them on erasure
    "ErasableChannel",
    # CSV files people open in a spreadsheet: a cell starting like a formula made text
    "safe_csv_cell",
    # reports (register_reports, evaluation_report_sections)
    "Report",
    "ReportArtifact",
    "ReportSection",
    "TableBlock",
    "FigureBlock",
    # a plugin's settings refused with the setting named
    "PluginError",
    # running plugins as the platform does, for a plugin's own tests
    "PluginHost",
    "RegionConfig",
]
