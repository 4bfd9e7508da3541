"""The invitation lottery: who in the scope gets an invitation.

Invitations are allocated to municipalities in proportion to their eligible population
(largest remainders, so the total is exact), then drawn inside each municipality by
weighted sampling without replacement (Efraimidis–Spirakis keys ``u ** (1 / w)``), where a
person's weight is the product of the configured weights of their feature values — groups
that respond less are over-sampled. With one-per-household, the draw walks the keys in
order and skips a household already drawn. Everything follows from the recorded seed and
the persons' ids, so a rollout can be re-drawn and checked.
"""
from __future__ import annotations

import secrets
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

FEATURES = ("age_band", "sex")
# No 0/O, 1/I/L: a code is typed from a letter.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(raw: str) -> str:
    return "".join(ch for ch in raw.upper() if ch not in string.whitespace + "-")


def new_seed() -> str:
    return secrets.token_hex(16)


@dataclass(frozen=True)
class Candidate:
    person_id: int
    municipality_code: int
    age_band: str
    sex: str
    household: str | None


def check_weights(weights: object) -> dict[str, dict[str, float]]:
    """``{"age_band": {"18-29": 2.0}, "sex": {"male": 1.2}}``; unnamed values weigh 1."""
    if weights is None:
        return {}
    if not isinstance(weights, dict):
        raise ValueError("weights: must be an object of feature -> {value: weight}")
    out: dict[str, dict[str, float]] = {}
    for feature, values in weights.items():
        if feature not in FEATURES:
            raise ValueError(f"weights.{feature}: unknown feature "
                             f"(features: {', '.join(FEATURES)})")
        if not isinstance(values, dict):
            raise ValueError(f"weights.{feature}: must be an object of value -> weight")
        for value, weight in values.items():
            if (isinstance(weight, bool) or not isinstance(weight, (int, float))
                    or not 0 < weight <= 100):
                raise ValueError(f"weights.{feature}.{value}: must be a number above 0 and at "
                                 f"most 100")
        out[feature] = {str(k): float(v) for k, v in values.items()}
    return out


def allocate(size: int, populations: Mapping[int, int]) -> dict[int, int]:
    """Proportional allocation with largest remainders, never more than a municipality has."""
    total = sum(populations.values())
    if size > total:
        raise ValueError(f"size: {size} invitations asked but only {total} eligible people "
                         f"in scope")
    alloc = {code: 0 for code in populations}
    remaining = size
    open_codes = {c for c, n in populations.items() if n > 0}
    while remaining > 0:
        base = sum(populations[c] for c in open_codes)
        quotas = {c: remaining * populations[c] / base for c in open_codes}
        add = {c: int(q) for c, q in quotas.items()}
        left = remaining - sum(add.values())
        # Largest remainder first; the code breaks ties so the result is reproducible.
        for c in sorted(open_codes, key=lambda c: (-(quotas[c] - add[c]), c))[:left]:
            add[c] += 1
        for c, n in add.items():
            room = populations[c] - alloc[c]
            alloc[c] += min(n, room)
            remaining -= min(n, room)
            if alloc[c] >= populations[c]:
                open_codes.discard(c)
    return alloc


def draw(candidates: Sequence[Candidate], size: int, seed: str,
         weights: Mapping[str, Mapping[str, float]], one_per_household: bool
         ) -> tuple[list[Candidate], dict[int, int]]:
    """The drawn candidates (in draw order) and the allocation per municipality."""
    by_municipality: dict[int, list[Candidate]] = {}
    for c in sorted(candidates, key=lambda c: c.person_id):
        by_municipality.setdefault(c.municipality_code, []).append(c)
    populations = {code: (len({c.household for c in group}) if one_per_household else len(group))
                   for code, group in by_municipality.items()}
    allocation = allocate(size, populations)
    rng = np.random.Generator(np.random.PCG64(int(seed, 16)))
    chosen: list[Candidate] = []
    for code in sorted(by_municipality):
        group = by_municipality[code]
        u = rng.random(len(group))
        want = allocation[code]
        if want == 0:
            continue
        w = np.ones(len(group))
        for feature, table in weights.items():
            w *= np.array([table.get(getattr(c, feature), 1.0) for c in group])
        keys = np.log(u) / w  # log of u ** (1/w): same order, no underflow
        order = np.argsort(-keys, kind="stable")
        households: set = set()
        for i in order:
            c = group[i]
            if one_per_household:
                if c.household in households:
                    continue
                households.add(c.household)
            chosen.append(c)
            want -= 1
            if want == 0:
                break
    return chosen, allocation
