"""Request parsing: body and query fields into typed values. A refusal raises ``ApiError``
naming the field and the reason (``Refused`` where the members' pages say why in the
member's language)."""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from flask import request

from services.common.web import ApiError

LANGUAGES = ("da", "en")

# The fields of a recommendation's version.
FIELDS = ("title", "text", "rationale", "theme", "values")
ANSWERS = ("accepted", "partly_accepted", "rejected", "under_consideration")
IMPLEMENTATION = ("not_started", "in_progress", "pilot", "done")
BODY_KINDS = ("regional_council", "municipal_council", "municipal_committee", "other")

# No assembly has more members than a national one with its substitutes.
MAX_SUPPORTERS = 1000


class Refused(ApiError):
    """A refused vote or questionnaire answer; ``kind`` lets the members' page say why in
    the member's language."""

    def __init__(self, kind: str, field: str, reason: str, status: int) -> None:
        super().__init__(field, reason, status)
        self.kind = kind


def text(data: Mapping[str, Any], field: str, *, required: bool = True, max_len: int = 10_000,
         default: str = "") -> str:
    value = data.get(field)
    if value is None:
        if required:
            raise ApiError(field, "is required")
        return default
    if not isinstance(value, str):
        raise ApiError(field, "must be a text")
    value = value.strip()
    if required and not value:
        raise ApiError(field, "must not be empty")
    if len(value) > max_len:
        raise ApiError(field, f"must be at most {max_len} characters")
    return value


def a_date(data: Mapping[str, Any], field: str) -> date:
    """A required date, YYYY-MM-DD."""
    value = an_optional_date(data, field)
    if value is None:
        raise ApiError(field, "is required")
    return value


def an_optional_date(data: Mapping[str, Any], field: str) -> date | None:
    value = data.get(field)
    if value is None:
        return None
    # fromisoformat alone would also take 20250601 and week dates.
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ApiError(field, "must be a date YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ApiError(field, "must be a date YYYY-MM-DD") from None


def choice(data: Mapping[str, Any], field: str, options: Sequence[str]) -> str:
    value = data.get(field)
    if value not in options:
        raise ApiError(field, f"must be one of {', '.join(options)}", 422)
    return str(value)


def a_whole_number(value: Any, field: str, low: int, high: int) -> int:
    """A whole number from ``low`` to ``high`` (a JSON true is not 1)."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ApiError(field, f"must be a whole number from {low} to {high}")
    return value


def bilingual(raw: Any, field: str, *, required: bool = False, max_len: int | None = None
              ) -> dict[str, str] | None:
    """A text given in Danish and English, ``{"da": ..., "en": ...}``; None when absent and
    not required."""
    if raw is None and not required:
        return None
    if not (isinstance(raw, dict) and all(isinstance(raw.get(k), str) and raw[k].strip()
                                          for k in LANGUAGES)):
        raise ApiError(field, "must give a Danish and an English text (da, en)")
    if max_len is not None and any(len(raw[k]) > max_len for k in LANGUAGES):
        raise ApiError(field, f"must be at most {max_len} characters in each language")
    return {k: raw[k].strip() for k in LANGUAGES}


def required_bilingual(raw: Any, field: str, *, max_len: int | None = None) -> dict[str, str]:
    """``bilingual`` for a text that must be given."""
    value = bilingual(raw, field, required=True, max_len=max_len)
    assert value is not None  # bilingual refuses a missing required text
    return value


def language() -> str:
    """The page's language, ``?lang=`` (or the form's ``lang``): da unless asked."""
    lang = request.values.get("lang", "da")
    if lang not in LANGUAGES:
        raise ApiError("lang", f"must be one of {', '.join(LANGUAGES)}")
    return lang


def a_language(lang: str) -> str:
    """A language given in the path."""
    if lang not in LANGUAGES:
        raise ApiError("lang", f"must be one of {', '.join(LANGUAGES)}")
    return lang


def a_share(value: Any, field: str) -> float:
    """A share of a population, 0..1."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ApiError(field, "must be a number from 0 to 1")
    return float(value)


def check_shares_add_up(total: float, field: str, what: str) -> None:
    """The shares of one feature's values cover the population (±0.02 for rounding)."""
    if abs(total - 1) > 0.02:
        raise ApiError(field, f"the population shares of {what} add up to {total:.3f}, not 1")


def draft_fields(data: Mapping[str, Any], *, partial: bool = False, prefix: str = ""
                 ) -> dict[str, Any]:
    """Title, text, rationale, theme and values from a request (all, or those present)."""
    out: dict[str, Any] = {}
    limits = {"title": 300, "text": 20_000, "rationale": 20_000, "theme": 200}
    for f, limit in limits.items():
        if partial and f not in data:
            continue
        try:
            out[f] = text(data, f, required=f in ("title", "text"), max_len=limit)
        except ApiError as exc:
            raise ApiError(prefix + exc.field, exc.reason, exc.status) from None
    if not partial or "values" in data:
        values = data.get("values", [])
        if not isinstance(values, list) or not all(isinstance(v, str) and v.strip()
                                                    for v in values):
            raise ApiError(prefix + "values", "must be a list of non-empty texts")
        out["values"] = [v.strip() for v in values]
    return out


def report_input(data: Mapping[str, Any]) -> dict[str, Any]:
    """The report input: title, composition rows, experts heard, a process summary.

    ``composition`` is one row per feature and category: ``population_share`` is the
    category's share of the population (0..1), ``panel_count`` the members of the panel in
    it; the shares of one feature must add up to 1 (±0.02)."""
    out: dict[str, Any] = {}
    if "title" in data:
        out["title"] = bilingual(data["title"], "title", required=True)
    rows = data.get("composition", [])
    if not isinstance(rows, list):
        raise ApiError("composition", "must be a list of rows")
    checked: list[dict[str, Any]] = []
    sums: dict[str, float] = {}
    seen: set[tuple[str, str]] = set()
    for i, row in enumerate(rows):
        where = f"composition[{i}]"
        if not isinstance(row, dict):
            raise ApiError(where, "must be an object")
        for key in ("feature", "category"):
            if not isinstance(row.get(key), str) or not row[key].strip():
                raise ApiError(f"{where}.{key}", "is required")
        if (row["feature"], row["category"]) in seen:
            raise ApiError(where, f"{row['feature']}/{row['category']} appears twice")
        seen.add((row["feature"], row["category"]))
        share = a_share(row.get("population_share"), f"{where}.population_share")
        count = row.get("panel_count")
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ApiError(f"{where}.panel_count", "must be a whole number of at least 0")
        sums[row["feature"]] = sums.get(row["feature"], 0) + share
        checked.append({"feature": row["feature"], "category": row["category"],
                        "feature_label": bilingual(row.get("feature_label"),
                                                   f"{where}.feature_label"),
                        "label": bilingual(row.get("label"), f"{where}.label"),
                        "population_share": share, "panel_count": count})
    for feature, total in sums.items():
        check_shares_add_up(total, "composition", repr(feature))
    out["composition"] = checked
    experts = data.get("experts_heard", [])
    if not isinstance(experts, list):
        raise ApiError("experts_heard", "must be a list")
    heard: list[dict[str, Any]] = []
    for i, e in enumerate(experts):
        if not isinstance(e, dict) or not isinstance(e.get("name"), str) or not e["name"].strip():
            raise ApiError(f"experts_heard[{i}].name", "is required")
        heard.append({"name": e["name"].strip(),
                      "role": bilingual(e.get("role"), f"experts_heard[{i}].role")})
    out["experts_heard"] = heard
    if "process_summary" in data:
        out["process_summary"] = bilingual(data["process_summary"], "process_summary",
                                           required=True)
    return out


def population_targets(raw: Any) -> dict[str, dict[str, float]]:
    """``{feature: {value: share}}``; the shares of a feature add up to 1 (±0.02)."""
    if not isinstance(raw, dict) or not raw:
        raise ApiError("population_targets", "must be an object of feature -> {value: share}")
    out: dict[str, dict[str, float]] = {}
    for feature, shares in raw.items():
        where = f"population_targets.{feature}"
        if not feature.strip() or len(feature) > 64:
            raise ApiError(where, "a feature name must be 1 to 64 characters")
        if not isinstance(shares, dict) or not shares:
            raise ApiError(where, "must be an object of value -> share")
        out[feature] = {str(v): a_share(s, f"{where}.{v}") for v, s in shares.items()}
        check_shares_add_up(sum(out[feature].values()), where, repr(feature))
    return out
