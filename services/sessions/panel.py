"""The panel against its quotas, and which substitute may take a vacated seat."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

SEATED = ("offered", "confirmed")


def counts(features: Iterable[Mapping[str, str]]) -> Counter:
    c: Counter = Counter()
    for f in features:
        for key, value in f.items():
            c[(key, str(value))] += 1
    return c


def quota_report(seated_features: Sequence[Mapping[str, str]],
                 quotas: Sequence[Mapping]) -> list[dict]:
    c = counts(seated_features)
    return [{"feature": q["feature"], "value": q["value"], "min": q["min"], "max": q["max"],
             "seated": c[(q["feature"], q["value"])],
             "ok": q["min"] <= c[(q["feature"], q["value"])] <= q["max"]} for q in quotas]


def deviation(seated_features: Sequence[Mapping[str, str]], quotas: Sequence[Mapping]) -> int:
    """How many members the panel is away from its quotas (0: every quota holds)."""
    total = 0
    for row in quota_report(seated_features, quotas):
        total += max(0, row["min"] - row["seated"]) + max(0, row["seated"] - row["max"])
    return total


def choose_substitute(seated_features: Sequence[Mapping[str, str]],
                      substitutes: Sequence[tuple[str, Mapping[str, str]]],
                      quotas: Sequence[Mapping]) -> str | None:
    """The first substitute on the ordered list with whom every quota holds, or None (then
    sortition is asked for a top-up draw). Without quotas the first substitute is next."""
    for member_id, features in substitutes:
        if deviation([*seated_features, features], quotas) == 0:
            return member_id
    return None
