"""The ``typical`` family: generated pools like the ones citizens' assemblies really draw from
(issue 21), written as CSVs in the shared-instances convention (categories.csv:
feature,value,min,max; respondents.csv: id + one column per feature; seats.txt).

Each pool is fixed by its shape (n respondents, k seats, which features, seats of slack,
strength of self-selection) and a seed, so every run of ``make bench-sortition`` sees the
same files. Who answers an invitation is biased (older, more educated, more concerned people
answer more often; employment follows age), and the quotas ask for the *population* shares
of the seats: floor(share * k) - slack .. ceil(share * k) + slack, so the pool
over-represents some groups and the quotas must correct it. Slack 0 is tight (a quota whose
target is a whole number is exact), slack 2 loose.

    .venv/bin/python bench/sortition/typical.py OUT_DIR   # writes every pool of the family
"""
from __future__ import annotations

import csv
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# name -> (values, population shares, relative propensity to answer an invitation)
FEATURES: dict[str, tuple[list[str], list[float], list[float]]] = {
    "sex": (["female", "male"], [0.505, 0.495], [1.1, 0.9]),
    "age": (["16-24", "25-34", "35-44", "45-54", "55-64", "65+"],
            [0.14, 0.16, 0.15, 0.17, 0.16, 0.22], [0.5, 0.75, 0.9, 1.05, 1.3, 1.4]),
    "education": (["primary", "upper secondary", "vocational", "short tertiary",
                   "long tertiary"], [0.22, 0.12, 0.30, 0.22, 0.14], [0.45, 0.9, 0.8, 1.3, 2.0]),
    "area": (["capital", "zealand", "south", "central", "north"],
             [0.32, 0.14, 0.21, 0.23, 0.10], [1.2, 0.9, 0.9, 1.0, 0.85]),
    "concern": (["low", "medium", "high"], [0.30, 0.45, 0.25], [0.5, 1.0, 1.8]),
    "urbanity": (["city", "town", "rural"], [0.45, 0.33, 0.22], [1.15, 0.95, 0.8]),
    "employment": (["employed", "student", "unemployed", "retired"],
                   [0.56, 0.12, 0.05, 0.27], [1.0, 0.8, 0.6, 1.3]),
    "origin": (["danish", "immigrant", "descendant"], [0.86, 0.10, 0.04], [1.05, 0.55, 0.6]),
    "children": (["yes", "no"], [0.35, 0.65], [0.9, 1.05]),
}


@dataclass(frozen=True)
class Shape:
    """One generated pool: n respondents, k seats, its features, seats of slack on every
    quota and how strongly self-selection skews the pool (propensity ** bias)."""

    name: str
    n: int
    k: int
    features: tuple[str, ...]
    slack: int
    seed: int
    bias: float = 1.0

    @property
    def label(self) -> str:
        return "tight" if self.slack == 0 else ("loose" if self.slack >= 2 else "slack 1")


ISSUE_FEATURES = ("sex", "age", "education", "area", "concern")

# n from 150 to 2,000, k from 12 to 99, 4-7 features with 2-6 values, slack 0-2.
FAMILY: tuple[Shape, ...] = (
    Shape("typical_420_30_5f", 420, 30, ISSUE_FEATURES, 1, 21),
    Shape("typical_150_12_4f_tight", 150, 12, ("sex", "age", "education", "area"), 0, 3),
    Shape("typical_250_20_6f_loose", 250, 20, ISSUE_FEATURES + ("urbanity",), 2, 5),
    Shape("typical_300_24_7f_tight", 300, 24,
          ISSUE_FEATURES + ("employment", "origin"), 0, 7, 1.3),
    Shape("typical_600_45_5f_loose", 600, 45, ("sex", "age", "education", "area", "children"),
          2, 11),
    Shape("typical_800_48_6f", 800, 48, ISSUE_FEATURES + ("employment",), 1, 13, 1.2),
    Shape("typical_1200_60_4f_tight", 1200, 60, ("sex", "age", "education", "concern"), 0, 17),
    Shape("typical_2000_99_7f", 2000, 99, ISSUE_FEATURES + ("urbanity", "origin"), 1, 19),
)


def _draw(rng: np.random.Generator, feature: str, n: int, bias: float) -> np.ndarray:
    """Values (indices) of one feature among n respondents who chose to answer."""
    _values, shares, propensity = FEATURES[feature]
    p = np.asarray(shares) * np.asarray(propensity) ** bias
    return rng.choice(len(shares), size=n, p=p / p.sum())


def generate(shape: Shape) -> tuple[list[tuple[str, str, int, int]], list[list[str]]]:
    """The quotas (feature, value, min, max) and the respondents' rows (id first)."""
    for f in shape.features:
        if f not in FEATURES:
            raise ValueError(f"unknown feature {f!r}")
    rng = np.random.default_rng(shape.seed)
    cols = {f: _draw(rng, f, shape.n, shape.bias) for f in shape.features}
    if "age" in cols and "education" in cols:
        # the young have not finished a long education yet
        young = (cols["age"] == 0) & (cols["education"] >= 3) & (rng.random(shape.n) < 0.6)
        cols["education"][young] = 1
    if "age" in cols and "employment" in cols:
        # employment follows age: students are young, the retired old
        old, young = cols["age"] == 5, cols["age"] == 0
        u = rng.random(shape.n)
        emp = cols["employment"]
        emp[~old & (emp == 3) & (u < 0.85)] = 0  # few retire before 65
        emp[old & (emp == 1)] = 0
        emp[old & (u < 0.8)] = 3
        emp[young & (u < 0.55)] = 1
    quotas: list[tuple[str, str, int, int]] = []
    for f in shape.features:
        values, shares, _ = FEATURES[f]
        have = np.bincount(cols[f], minlength=len(values))
        for v, (value, share) in enumerate(zip(values, shares, strict=True)):
            target = share * shape.k
            lo = max(0, math.floor(target + 1e-9) - shape.slack)
            hi = math.ceil(target - 1e-9) + shape.slack
            lo = min(lo, int(have[v]))
            quotas.append((f, value, lo, max(lo, hi)))
    width = len(str(shape.n))
    rows = [[f"r{i:0{width}d}"] + [FEATURES[f][0][cols[f][i]] for f in shape.features]
            for i in range(shape.n)]
    return quotas, rows


def write_pool(folder: Path, shape: Shape) -> tuple[Path, Path]:
    """Write categories.csv, respondents.csv and seats.txt for ``shape`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    quotas, rows = generate(shape)
    cats, resp = folder / "categories.csv", folder / "respondents.csv"
    with open(cats, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["feature", "value", "min", "max"])
        w.writerows(quotas)
    with open(resp, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", *shape.features])
        w.writerows(rows)
    (folder / "seats.txt").write_text(f"{shape.k}\n")
    return cats, resp


def main(argv: list[str]) -> int:
    out = Path(argv[0] if argv else "typical-pools")
    for shape in FAMILY:
        write_pool(out / shape.name, shape)
        print(out / shape.name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
