"""Deterministic synthetic pools with realistic self-selection bias, written as CSVs in the
shared-instances convention (categories.csv: feature,value,min,max; respondents.csv: id +
one column per feature).

Each feature has a population share per value; who volunteers is biased (older and more
educated people answer more often, like real invitation lotteries), and the quotas ask for
the population shares of the seats, rounded down/up, so that the pool over-represents some
groups and the quotas must correct it.
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

# name, values, population shares, self-selection propensity (relative)
FEATURES = [
    ("gender", ["female", "male", "other"], [0.50, 0.48, 0.02], [1.1, 0.9, 1.0]),
    ("age", ["16-29", "30-44", "45-59", "60+"], [0.22, 0.25, 0.26, 0.27], [0.55, 0.8, 1.1, 1.5]),
    ("education", ["none", "secondary", "vocational", "university"], [0.15, 0.35, 0.25, 0.25],
     [0.4, 0.8, 1.0, 1.9]),
    ("region", ["north", "south", "east", "west", "capital"], [0.18, 0.22, 0.17, 0.2, 0.23],
     [0.9, 1.0, 0.8, 1.1, 1.3]),
    ("urban", ["city", "town", "rural"], [0.45, 0.3, 0.25], [1.2, 1.0, 0.8]),
    ("tenure", ["owner", "renter", "other"], [0.55, 0.38, 0.07], [1.2, 0.8, 0.7]),
    ("origin", ["native", "immigrant", "descendant"], [0.82, 0.12, 0.06], [1.1, 0.6, 0.7]),
]


def generate(n: int, k: int, n_features: int, seed: int):
    if not 1 <= n_features <= len(FEATURES):
        raise ValueError(f"n_features must be 1..{len(FEATURES)}")
    rng = np.random.default_rng(seed)
    feats = FEATURES[:n_features]
    columns = []
    for _name, values, shares, bias in feats:
        p = np.array(shares) * np.array(bias)
        p /= p.sum()
        columns.append(rng.choice(len(values), size=n, p=p))
    # mild correlation: educated people skew older, like in real pools
    if n_features >= 3:
        flip = (columns[1] == 0) & (columns[2] == 3) & (rng.random(n) < 0.4)
        columns[2][flip] = 1
    quotas = []
    for (name, values, shares, _), col in zip(feats, columns, strict=True):
        have = np.bincount(col, minlength=len(values))
        for v, (value, share) in enumerate(zip(values, shares, strict=True)):
            target = share * k
            lo = int(np.floor(target * 0.9))
            hi = int(np.ceil(target * 1.1))
            lo = min(lo, int(have[v]))
            quotas.append((name, value, lo, max(hi, lo)))
    rows = [[f"s{i:06d}"] + [feats[f][1][columns[f][i]] for f in range(n_features)]
            for i in range(n)]
    return quotas, rows, [f[0] for f in feats]


def write_synthetic(dirpath, n: int, k: int, n_features: int, seed: int) -> Path:
    """Write categories.csv and respondents.csv for a synthetic pool into ``dirpath``."""
    d = Path(dirpath)
    d.mkdir(parents=True, exist_ok=True)
    quotas, rows, names = generate(n, k, n_features, seed)
    with open(d / "categories.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["feature", "value", "min", "max"])
        w.writerows(quotas)
    with open(d / "respondents.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id"] + names)
        w.writerows(rows)
    (d / "seats.txt").write_text(f"{k}\n")
    return d
