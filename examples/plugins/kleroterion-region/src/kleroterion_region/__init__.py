"""A region's own kleroterion plugin (an example of a third-party plugin).

It adds two things, through two hooks:

- ``evaluation_report_sections``: a section "Geographic spread" in the evaluation report,
  between the built-in representativeness (order 10) and selection (order 20) sections: how
  many of the region's municipalities the panel reaches, with the municipalities' names from
  the ``place_names`` hook argument;
- ``register_invitation_channels``: the region's SMS provider, a channel named
  ``region_sms``, configured from the region file's ``[plugins.region]`` table.

Everything it needs from kleroterion comes from ``kleroterion.plugin``.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kleroterion.plugin import InvitationChannel, ReportSection, hookimpl
from kleroterion_region.geography import geography_section
from kleroterion_region.sms import RegionSmsChannel


@hookimpl
def evaluation_report_sections(evaluation: Mapping[str, Any], language: str,
                               place_names: Mapping[str, str]) -> list[ReportSection]:
    section = geography_section(evaluation, language, place_names)
    return [section] if section is not None else []


@hookimpl
def register_invitation_channels(settings: Mapping[str, Any]) -> list[InvitationChannel]:
    # Installed is not configured: without a [plugins.region] table, no channel.
    if not settings:
        return []
    return [RegionSmsChannel(settings)]
