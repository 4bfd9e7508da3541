"""Denmark's 98 municipalities and 5 regions, and rollout scopes chosen by name."""
from __future__ import annotations

import csv
import functools
import pathlib
import unicodedata
from dataclasses import dataclass

DATA = pathlib.Path(__file__).parent / "data" / "municipalities.csv"
COUNTRY_NAMES = {"danmark", "denmark", "hele landet", "whole country", "national", "country"}


@dataclass(frozen=True)
class Municipality:
    code: int
    name: str
    region_code: int
    region_name: str


@dataclass(frozen=True)
class Scope:
    kind: str  # "country", "region" or "municipality"
    name: str
    codes: tuple[int, ...]


@functools.cache
def municipalities() -> dict[int, Municipality]:
    with DATA.open(encoding="utf-8", newline="") as f:
        return {int(r["kommunekode"]): Municipality(int(r["kommunekode"]), r["name"],
                                                    int(r["region_code"]), r["region_name"])
                for r in csv.DictReader(f)}


@functools.cache
def place_names() -> dict[str, str]:
    """Municipality names by code as text (``"101"`` -> ``"København"``), for reports."""
    return {str(code): m.name for code, m in municipalities().items()}


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFC", text).casefold().strip()
    for prefix in ("region ", "regions "):
        if text.startswith(prefix):
            text = text[len(prefix):]
    for suffix in (" kommune", " municipality"):
        if text.endswith(suffix):
            text = text[: -len(suffix)]
    return " ".join(text.split())


def resolve_scope(name: str) -> Scope:
    """A region ("Region Hovedstaden", "Hovedstaden"), a municipality ("Rudersdal",
    "Rudersdal Kommune", "230") or the whole country ("Danmark")."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError("is required: a region, a municipality or 'Danmark'")
    wanted = _norm(name)
    table = municipalities()
    if wanted in COUNTRY_NAMES:
        return Scope("country", "Danmark", tuple(sorted(table)))
    regions: dict[str, list[Municipality]] = {}
    for m in table.values():
        regions.setdefault(_norm(m.region_name), []).append(m)
    if wanted in regions:
        ms = regions[wanted]
        return Scope("region", ms[0].region_name, tuple(sorted(m.code for m in ms)))
    for m in table.values():
        if _norm(m.name) == wanted or (wanted.isdigit() and int(wanted) == m.code):
            return Scope("municipality", m.name, (m.code,))
    raise ValueError(f"no region or municipality is called {name!r}")
