"""The "Geographic spread" section of the evaluation report: which of the region's
municipalities the panel reaches.

It reads the ``municipality_code`` feature of the evaluation's representativeness (present
when the draw's quotas used it). The cells are aggregates with small groups already
suppressed by the recommendations service; a suppressed cell reads "< k" here too.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kleroterion.plugin import ReportSection, TableBlock

KEY = "region_geography"
# Between the built-in representativeness (10) and selection (20) sections.
ORDER = 15
FEATURE = "municipality_code"

TEXT = {
    "da": {"title": "Geografisk spredning", "municipality": "Kommune",
           "drawn": "Udtrukne", "seated": "Ved afslutning",
           "reach": "Panelet har medlemmer fra {n} af regionens {m} kommuner."},
    "en": {"title": "Geographic spread", "municipality": "Municipality",
           "drawn": "Drawn", "seated": "At the end",
           "reach": "The panel has members from {n} of the region's {m} municipalities."},
}


def _cell(cell: Mapping[str, Any], min_cell: int) -> str:
    if cell["suppressed"]:
        return f"< {min_cell}"
    return "–" if cell["count"] is None else str(cell["count"])


def _reached(cell: Mapping[str, Any]) -> bool:
    # A suppressed cell hides 1 to k-1 people: zero is never suppressed.
    return bool(cell["suppressed"]) or bool(cell["count"])


def geography_section(evaluation: Mapping[str, Any], language: str,
                      place_names: Mapping[str, str]) -> ReportSection | None:
    """The section, or None when the draw did not use municipalities."""
    text = TEXT.get(language, TEXT["en"])
    features = (evaluation.get("representativeness") or {}).get("features") or []
    feature = next((f for f in features if f["feature"] == FEATURE), None)
    if feature is None or "drawn" not in feature["stages"]:
        return None
    k = int(evaluation["min_cell"])
    rows = sorted(feature["rows"], key=lambda row: place_names.get(row["value"], row["value"]))
    reached = sum(_reached(row["drawn"]) for row in rows)
    table = TableBlock(
        caption=text["title"],
        header=[text["municipality"], text["drawn"], text["seated"]],
        rows=[[place_names.get(row["value"], row["value"]), _cell(row["drawn"], k),
               _cell(row["seated"], k)] for row in rows],
        numeric=(1, 2))
    return ReportSection(KEY, text["title"], ORDER,
                         [text["reach"].format(n=reached, m=len(rows)), table])
