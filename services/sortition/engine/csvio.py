"""CSV in and out, in the conventions pools and quota files come in.

Quota files (first line is the header, names case-insensitive):

* ``feature,value,min,max[,min_flex,max_flex]`` (Sortition Foundation)
* ``category,name,min,max`` (newDemocracy)
* ``category,feature,min,max`` (Flanigan et al.; there "feature" is the value)

Respondent files have one column per quota category, an optional id column (``id``, a name
ending in ``_id`` or containing ``identifier``; failing that the first other column whose
values are unique; failing that the data row number, counted from 0) and any other columns,
which are ignored except for the household key (the given columns' values joined).

Errors name the file, the line (the header is line 1) and the column.
"""
from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from .model import Instance, InstanceError, Person, Quota

# Where a CSV file is (or goes).
FilePath = str | os.PathLike[str]

CONVENTIONS = ("feature,value", "category,name", "category,feature")


def _err(path: FilePath, line: int | None, column: str | None, reason: str) -> InstanceError:
    where = str(path)
    if line is not None:
        where += f" line {line}"
    if column is not None:
        where += f" column {column!r}"
    return InstanceError(where, reason)


def _read(path: FilePath) -> tuple[list[str], list[list[str]]]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.reader(fh))
    except FileNotFoundError:
        raise _err(path, None, None, "file not found") from None
    except UnicodeDecodeError as e:
        raise _err(path, None, None, f"not UTF-8 text ({e.reason})") from None
    except csv.Error as e:
        raise _err(path, None, None, f"not a CSV file ({e})") from None
    # skip blank lines but keep line numbers
    numbered = [(i + 1, [c.strip() for c in r]) for i, r in enumerate(rows)
                if any(c.strip() for c in r)]
    if not numbered:
        raise _err(path, None, None, "empty file")
    header_line, header = numbered[0]
    if header_line != 1:
        pass
    body = []
    for line, r in numbered[1:]:
        if len(r) != len(header):
            raise _err(path, line, None, f"has {len(r)} fields, the header has {len(header)}")
        body.append([str(line)] + r)
    return header, body


def _optional_int(path: FilePath, line: int, column: str, text: str) -> int | None:
    """A whole number >= 0, or None for an empty cell."""
    if text == "":
        return None
    return _int(path, line, column, text)


def _int(path: FilePath, line: int, column: str, text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        try:
            f = float(text)
        except ValueError:
            raise _err(path, line, column, f"not a whole number: {text!r}") from None
        if not f.is_integer():
            raise _err(path, line, column, f"not a whole number: {text!r}") from None
        v = int(f)
    if v < 0:
        raise _err(path, line, column, f"must not be negative: {text!r}")
    return v


def load_quotas(path: FilePath) -> tuple[list[Quota], str]:
    """Read a quota file; return the quotas and the convention it used."""
    header, body = _read(path)
    lower = [h.lower() for h in header]
    col = {h: i for i, h in enumerate(lower)}
    if "category" in col and "name" in col:
        fcol, vcol, conv = "category", "name", "category,name"
    elif "category" in col and "feature" in col:
        fcol, vcol, conv = "category", "feature", "category,feature"
    elif "category" in col and "value" in col:
        fcol, vcol, conv = "category", "value", "feature,value"
    elif "feature" in col and "value" in col:
        fcol, vcol, conv = "feature", "value", "feature,value"
    else:
        raise _err(path, 1, None, "header must be feature,value,min,max[,min_flex,max_flex] or "
                   "category,name,min,max or category,feature,min,max; got " + ",".join(header))
    for need in ("min", "max"):
        if need not in col:
            raise _err(path, 1, need, "column missing from the header")
    quotas: list[Quota] = []
    seen: dict[tuple[str, str], int] = {}
    for r in body:
        line = int(r[0])
        cells = r[1:]
        feature, value = cells[col[fcol]], cells[col[vcol]]
        if not feature:
            raise _err(path, line, header[col[fcol]], "empty")
        if not value:
            raise _err(path, line, header[col[vcol]], "empty")
        lo = _int(path, line, header[col["min"]], cells[col["min"]])
        hi = _int(path, line, header[col["max"]], cells[col["max"]])
        if lo > hi:
            raise _err(path, line, header[col["min"]], f"min {lo} exceeds max {hi}")
        mnf = (_optional_int(path, line, "min_flex", cells[col["min_flex"]])
               if "min_flex" in col else None)
        mxf = (_optional_int(path, line, "max_flex", cells[col["max_flex"]])
               if "max_flex" in col else None)
        if mnf is not None and mnf > lo:
            raise _err(path, line, "min_flex", f"min_flex {mnf} exceeds min {lo}")
        if mxf is not None and mxf < hi:
            raise _err(path, line, "max_flex", f"max_flex {mxf} is below max {hi}")
        if (feature, value) in seen:
            raise _err(path, line, header[col[vcol]],
                       f"{feature}={value} already given on line {seen[(feature, value)]}")
        seen[(feature, value)] = line
        quotas.append(Quota(feature, value, lo, hi, mnf, mxf))
    if not quotas:
        raise _err(path, None, None, "no quotas")
    return quotas, conv


def _match_column(header: list[str], name: str) -> int | None:
    if name in header:
        return header.index(name)
    norm = [h.strip().lower() for h in header]
    key = name.strip().lower()
    return norm.index(key) if key in norm else None


def _detect_id_column(header: list[str], body: list[list[str]],
                      feature_cols: set[int]) -> int | None:
    lower = [h.lower() for h in header]
    candidates = [i for i, h in enumerate(lower) if h == "id"]
    candidates += [i for i, h in enumerate(lower)
                   if (h.endswith("_id") or "identifier" in h) and i not in candidates]
    candidates = [i for i in candidates if i not in feature_cols]
    if candidates:
        return candidates[0]
    for i in range(len(header)):
        if i in feature_cols:
            continue
        values = [r[1 + i] for r in body]
        if all(values) and len(set(values)) == len(values):
            return i
    return None


def load_people(path: FilePath, categories: Sequence[str], *, id_column: str | None = None,
                household_columns: Sequence[str] | None = None,
                allowed_values: dict[str, set[str]] | None = None) -> list[Person]:
    """Read a respondents file. ``allowed_values`` (category -> quota values), when given,
    makes a value outside the quota file an error naming line and column."""
    header, body = _read(path)
    feature_idx = {}
    for cat in categories:
        i = _match_column(header, cat)
        if i is None:
            raise _err(path, 1, cat, f"no column for quota category {cat!r} "
                                     f"(columns: {', '.join(header)})")
        feature_idx[cat] = i
    if id_column is not None:
        id_idx = _match_column(header, id_column)
        if id_idx is None:
            raise _err(path, 1, id_column, "id column not found")
    else:
        id_idx = _detect_id_column(header, body, set(feature_idx.values()))
    hh_idx = []
    for hc in household_columns or ():
        i = _match_column(header, hc)
        if i is None:
            raise _err(path, 1, hc, "household column not found")
        hh_idx.append(i)
    people: list[Person] = []
    seen: dict[str, int] = {}
    for row_no, r in enumerate(body):
        line = int(r[0])
        cells = r[1:]
        pid = cells[id_idx] if id_idx is not None else str(row_no)
        if not pid:  # (only read from the id column: a row number is never empty)
            raise _err(path, line, header[id_idx] if id_idx is not None else None, "empty id")
        if pid in seen:
            raise _err(path, line, header[id_idx] if id_idx is not None else None,
                       f"duplicate id {pid!r} (first on line {seen[pid]})")
        seen[pid] = line
        feats = {}
        for cat, i in feature_idx.items():
            v = cells[i]
            if not v:
                raise _err(path, line, header[i], "empty value")
            if allowed_values is not None and v not in allowed_values.get(cat, ()):
                raise _err(path, line, header[i], f"value {v!r} has no quota in category {cat!r}")
            feats[cat] = v
        household = None
        if hh_idx:
            parts = [cells[i].strip().lower() for i in hh_idx]
            if any(parts):
                household = "|".join(parts)
        people.append(Person(pid, feats, household))
    if not people:
        raise _err(path, None, None, "no respondents")
    return people


def load_instance(categories_path: FilePath, respondents_path: FilePath, seats: int, *,
                  household_columns: Sequence[str] | None = None, id_column: str | None = None,
                  already_selected: Sequence[str] = (), strict_values: bool = True) -> Instance:
    """Load a quota file and a respondents file into an Instance. With ``household_columns``
    the one-per-household rule is on. ``strict_values`` rejects a respondent value that has no
    quota in its category (such a person would escape that category's quotas)."""
    quotas, _ = load_quotas(categories_path)
    categories: list[str] = []
    allowed: dict[str, set[str]] = {}
    for q in quotas:
        if q.feature not in categories:
            categories.append(q.feature)
        allowed.setdefault(q.feature, set()).add(q.value)
    people = load_people(respondents_path, categories, id_column=id_column,
                         household_columns=household_columns,
                         allowed_values=allowed if strict_values else None)
    if isinstance(seats, bool) or not isinstance(seats, int) or seats <= 0:
        raise InstanceError("seats", f"must be a positive integer, got {seats!r}")
    inst = Instance(people=people, quotas=quotas, seats=seats,
                    already_selected=tuple(already_selected),
                    one_per_household=bool(household_columns))
    from .validation import validate_instance

    validate_instance(inst)
    return inst


# ---- writers ------------------------------------------------------------------------------

def _atomic_write(to: FilePath, header: list[str], rows: Iterable[Sequence[object]]) -> None:
    path = Path(to)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(header)
            for r in rows:
                w.writerow(r)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_quotas(path: FilePath, quotas: Sequence[Quota], convention: str = "feature,value", *,
                 flex: bool | None = None) -> None:
    """Write quotas in one of CONVENTIONS; flex columns (only in the feature,value convention)
    are written when any quota has them, or when ``flex`` is True."""
    if convention not in CONVENTIONS:
        raise InstanceError("convention",
                            f"unknown convention {convention!r}; choose one of {CONVENTIONS}")
    header = convention.split(",") + ["min", "max"]
    if flex is None:
        flex = any(q.min_flex is not None or q.max_flex is not None for q in quotas)
    if flex and convention != "feature,value":
        raise InstanceError("convention", "flex columns need the feature,value convention")
    if flex:
        header += ["min_flex", "max_flex"]
    rows = []
    for q in quotas:
        r: list[str | int] = [q.feature, q.value, q.min, q.max]
        if flex:
            r += ["" if q.min_flex is None else q.min_flex,
                  "" if q.max_flex is None else q.max_flex]
        rows.append(r)
    _atomic_write(path, header, rows)


def write_people(path: FilePath, people: Sequence[Person], *, id_column: str = "id",
                 categories: Sequence[str] | None = None,
                 household_column: str | None = None) -> None:
    """Write respondents: id, one column per category (default: all features seen, in order
    of first appearance) and optionally the household key."""
    if categories is None:
        seen: list[str] = []
        for p in people:
            for c in p.features:
                if c not in seen:
                    seen.append(c)
        categories = seen
    header = [id_column] + list(categories) + ([household_column] if household_column else [])
    rows = []
    for p in people:
        r = [p.id] + [p.features.get(c, "") for c in categories]
        if household_column:
            r.append(p.household or "")
        rows.append(r)
    _atomic_write(path, header, rows)


def write_selected(path: FilePath, instance: Instance, panel: Sequence[int], *,
                   id_column: str = "id") -> None:
    """The people on ``panel`` (person indices), in the respondents convention."""
    chosen = sorted(set(int(i) for i in panel))
    write_people(path, [instance.people[i] for i in chosen], id_column=id_column,
                 categories=_categories(instance))


def write_remaining(path: FilePath, instance: Instance, panel: Sequence[int], *,
                    id_column: str = "id") -> None:
    """Everyone not on ``panel`` (the reserve list), in the respondents convention."""
    chosen = set(int(i) for i in panel)
    write_people(path, [p for i, p in enumerate(instance.people) if i not in chosen],
                 id_column=id_column, categories=_categories(instance))


def _categories(instance: Instance) -> list[str]:
    cats: list[str] = []
    for q in instance.quotas:
        if q.feature not in cats:
            cats.append(q.feature)
    return cats
