"""The support scale and the tally of a round (pure functions, no I/O).

A scale is a list of levels, most supportive first. Each level says whether it counts as
support; at most one level is the abstention, which is shown in the distribution but left
out of the share, so that abstaining neither helps nor blocks a recommendation.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

from services.common.web import ApiError

DEFAULT_SCALE: list[dict[str, Any]] = [
    {"key": "full_support", "label": {"da": "Fuld opbakning", "en": "Full support"},
     "support": True},
    {"key": "support", "label": {"da": "Opbakning", "en": "Support"}, "support": True},
    {"key": "neutral", "label": {"da": "Neutral", "en": "Neutral"}, "support": False},
    {"key": "reservations", "label": {"da": "Forbehold", "en": "Reservations"},
     "support": False},
    {"key": "opposition", "label": {"da": "Modstand", "en": "Opposition"}, "support": False},
    {"key": "abstain", "label": {"da": "Undlader", "en": "Abstain"}, "support": False,
     "abstain": True},
]


def check_scale(raw: Any, field: str = "scale") -> list[dict[str, Any]]:
    """A validated copy of a scale given through the API."""
    if not isinstance(raw, list) or len(raw) < 2:
        raise ApiError(field, "must be a list of at least two levels")
    levels, keys = [], set()
    for i, item in enumerate(raw):
        where = f"{field}[{i}]"
        if not isinstance(item, Mapping):
            raise ApiError(where, "must be an object with key, label, support")
        key = item.get("key")
        if not isinstance(key, str) or not key.strip() or len(key) > 40:
            raise ApiError(f"{where}.key", "must be a non-empty text of at most 40 characters")
        if key in keys:
            raise ApiError(f"{where}.key", f"{key!r} appears twice")
        keys.add(key)
        label = item.get("label")
        if not (isinstance(label, Mapping) and all(isinstance(label.get(lang), str)
                                                   and label.get(lang) for lang in ("da", "en"))):
            raise ApiError(f"{where}.label", "must give a Danish and an English label (da, en)")
        abstain = bool(item.get("abstain", False))
        support = bool(item.get("support", False))
        if abstain and support:
            raise ApiError(where, "an abstention cannot count as support")
        levels.append({"key": key, "label": {"da": label["da"], "en": label["en"]},
                       "support": support, **({"abstain": True} if abstain else {})})
    if sum(1 for lv in levels if lv.get("abstain")) > 1:
        raise ApiError(field, "at most one level may be the abstention")
    if not any(lv["support"] for lv in levels):
        raise ApiError(field, "at least one level must count as support")
    if not any(not lv["support"] and not lv.get("abstain") for lv in levels):
        raise ApiError(field, "at least one level must count against")
    return levels


def check_threshold(raw: Any, field: str = "threshold") -> float:
    """A threshold as a share (0.75) or a percentage (75)."""
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise ApiError(field, "must be a number: a share (0.75) or a percentage (75)")
    value = float(raw) / 100 if raw > 1 else float(raw)
    if not 0 < value <= 1:
        raise ApiError(field, "must be above 0 and at most 100 percent")
    return value


def _exact(threshold: float) -> Fraction:
    return Fraction(threshold).limit_denominator(10_000)


def tally(scale: Sequence[Mapping[str, Any]], levels: Sequence[str], threshold: float
          ) -> dict[str, Any]:
    """The result of a round: the distribution over the scale, the support share among
    the non-abstaining votes, and whether it reaches the threshold."""
    counts = {lv["key"]: 0 for lv in scale}
    for level in levels:
        counts[level] += 1
    abstain = {lv["key"] for lv in scale if lv.get("abstain")}
    support = {lv["key"] for lv in scale if lv["support"]}
    abstentions = sum(counts[k] for k in abstain)
    votes = len(levels) - abstentions
    supporting = sum(counts[k] for k in support)
    share = supporting / votes if votes else 0.0
    return {
        "distribution": [{"level": lv["key"], "label": lv["label"], "support": lv["support"],
                          "abstain": bool(lv.get("abstain")), "count": counts[lv["key"]]}
                         for lv in scale],
        "ballots": len(levels),
        "votes": votes,
        "abstentions": abstentions,
        "supporting": supporting,
        "support_share": round(share, 6),
        "threshold": threshold,
        # Compared as fractions so that 3 of 4 meets 75 % and 2 of 3 meets 2/3 without
        # floating-point doubt.
        "threshold_met": votes > 0 and Fraction(supporting, votes) >= _exact(threshold),
    }
