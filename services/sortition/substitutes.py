"""Substitutes for a drawn panel, and top-ups that keep the people already seated.

Reserve list (``draw_substitutes``). A pool member c is *suitable* for panel member j when
the panel with j replaced by c still meets every quota (and, under the household rule, c
shares no household with the others on the panel). The list is built greedily:

* every step picks, among the pool members not on the panel and not yet listed, those who
  are suitable for the most panel members that still have fewer than ``depth`` suitable
  substitutes ahead of them (ties: the ones adding most to the least-covered members,
  scored sum 1/(1 + cover_j)); so the features most likely to be needed — those of the
  members few others can replace — come first;
* among the equally good, one is chosen uniformly at random with a generator seeded from
  the lottery hash and the public draw seed, so the list is reproducible by anyone and
  people with the same features have the same chance of a reserve place.

It stops when every member that can be replaced at all has ``depth`` suitable substitutes
(or when ``count`` substitutes are listed, if a fixed length is asked for, e.g. 99 for a
borgerting). On a dropout the seat goes to the first unused substitute on the list that is
suitable for the panel as it is now (``next_substitute``); for a single dropout that is
always the member's listed first replacement.

Top-up (``top_up_instance``): people who withdrew leave the pool, the seated stay as
``Instance.already_selected``, and the engine computes a fresh fair distribution for the
open seats, which then goes through the same published lottery and draw.
"""
from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray

from services.sortition.engine import Instance, InstanceError


def _quota_matrix(instance: Instance) -> NDArray[np.int64]:
    """(people x quotas) 0/1: person i counts towards quota q."""
    index = {(q.feature, q.value): qi for qi, q in enumerate(instance.quotas)}
    A = np.zeros((len(instance.people), len(instance.quotas)), dtype=np.int64)
    for i, p in enumerate(instance.people):
        for feature, value in p.features.items():
            qi = index.get((feature, value))
            if qi is not None:
                A[i, qi] = 1
    return A


def panel_problems(instance: Instance, panel: Collection[int]) -> list[str]:
    """What is wrong with ``panel`` (person indices) as a panel of ``instance``."""
    out = []
    members = sorted(set(int(i) for i in panel))
    if len(members) != instance.seats:
        out.append(f"{len(members)} members for {instance.seats} seats")
    counts = (_quota_matrix(instance)[members].sum(axis=0) if members
              else np.zeros(len(instance.quotas)))
    for qi, q in enumerate(instance.quotas):
        if not q.min <= counts[qi] <= q.max:
            out.append(f"{q.feature}={q.value}: {int(counts[qi])} not in {q.min}..{q.max}")
    if instance.one_per_household:
        hh = [instance.people[i].household for i in members if instance.people[i].household]
        if len(hh) != len(set(hh)):
            out.append("two members share a household")
    ids = {instance.people[i].id for i in members}
    missing = [s for s in instance.already_selected if s not in ids]
    if missing:
        out.append(f"{len(missing)} already-seated people are missing")
    return out


def suitability(instance: Instance, panel: Sequence[int], A: NDArray[np.int64] | None = None
                ) -> tuple[list[int], NDArray[np.intp], NDArray[np.bool_]]:
    """(members, candidates, S) with S[a, b] True when candidates[b] can replace members[a]
    without breaking a quota or the household rule."""
    A = _quota_matrix(instance) if A is None else A
    members = sorted(set(int(i) for i in panel))
    on_panel = np.zeros(len(instance.people), dtype=bool)
    on_panel[members] = True
    candidates = np.flatnonzero(~on_panel)
    lo = np.array([q.min for q in instance.quotas], dtype=np.int64)
    hi = np.array([q.max for q in instance.quotas], dtype=np.int64)
    counts = A[members].sum(axis=0)
    Ac = A[candidates]
    S = np.zeros((len(members), len(candidates)), dtype=bool)
    for a, j in enumerate(members):
        after = counts - A[j] + Ac
        S[a] = np.all((after >= lo) & (after <= hi), axis=1)
    if instance.one_per_household:
        panel_hh: dict[str, list[int]] = {}
        for a, j in enumerate(members):
            h = instance.people[j].household
            if h:
                panel_hh.setdefault(h, []).append(a)
        for b, c in enumerate(candidates):
            mates = panel_hh.get(instance.people[int(c)].household or "", [])
            if len(mates) > 1:
                S[:, b] = False
            elif len(mates) == 1:
                # only replacing that household mate keeps one person per household
                keep = S[mates[0], b]
                S[:, b] = False
                S[mates[0], b] = keep
    return members, candidates, S


@dataclass
class ReserveList:
    """The ordered reserve list for one panel (person indices of the instance)."""

    substitutes: list[int]
    # member -> the substitute who takes the seat if that member alone drops out (None: no
    # one in the pool can replace them without breaking a quota).
    first_replacement: dict[int, int | None] = field(default_factory=dict)

    @property
    def uncovered(self) -> list[int]:
        return sorted(j for j, s in self.first_replacement.items() if s is None)


def _rng(seed_material: str) -> np.random.Generator:
    digest = hashlib.sha256(f"kleroterion-substitutes/1\n{seed_material}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest, "big"))


def draw_substitutes(instance: Instance, panel: Sequence[int], *, depth: int = 1,
                     count: int | None = None, seed_material: str = "") -> ReserveList:
    """The reserve list for ``panel`` (see the module docstring for the method)."""
    if depth < 1:
        raise InstanceError("depth", f"must be at least 1, got {depth}")
    if count is not None and count < 0:
        raise InstanceError("count", f"must not be negative, got {count}")
    problems = panel_problems(instance, panel)
    if problems:
        raise InstanceError("panel", "is not a valid panel: " + "; ".join(problems))
    members, candidates, S = suitability(instance, panel)
    rng = _rng(seed_material)
    coverable = S.any(axis=1)
    cover = np.zeros(len(members), dtype=np.int64)
    free = np.ones(len(candidates), dtype=bool)
    chosen: list[int] = []
    while free.any():
        if count is not None:
            if len(chosen) >= count:
                break
        elif not np.any(coverable & (cover < depth)):
            break
        needy = coverable & (cover < depth)
        primary = S[needy].sum(axis=0)
        secondary = (S * (1.0 / (1.0 + cover))[:, None]).sum(axis=0)
        primary = np.where(free, primary, -1)
        best_p = primary.max()
        if best_p <= 0 and count is None:
            break  # the members still short of `depth` have no one else who fits
        tied = np.flatnonzero(primary == best_p)
        best_s = secondary[tied].max()
        tied = tied[secondary[tied] >= best_s - 1e-12]
        b = int(tied[rng.integers(len(tied))])
        free[b] = False
        chosen.append(b)
        cover += S[:, b]
    first: dict[int, int | None] = {}
    for a, j in enumerate(members):
        hit = next((b for b in chosen if S[a, b]), None)
        first[j] = None if hit is None else int(candidates[hit])
    return ReserveList([int(candidates[b]) for b in chosen], first)


def next_substitute(instance: Instance, panel: Sequence[int], dropout: int,
                    reserve: Sequence[int], used: Sequence[int] = ()) -> int | None:
    """Who takes ``dropout``'s seat on ``panel`` as it is now: the first substitute on the
    reserve list, not used yet, with whom the panel still meets every quota."""
    members = set(int(i) for i in panel)
    if dropout not in members:
        raise InstanceError("dropout", f"person {dropout} is not on the panel")
    taken = set(used) | members
    for c in reserve:
        if c in taken:
            continue
        if not panel_problems(replace(instance, already_selected=()), (members - {dropout}) | {c}):
            return int(c)
    return None


def top_up_instance(instance: Instance, seated_ids: Sequence[str],
                    withdrawn_ids: Sequence[str] = ()) -> Instance:
    """The instance for filling the open seats: those who withdrew leave the pool and the
    seated are kept on every panel."""
    known = {p.id for p in instance.people}
    for n, pid in enumerate(withdrawn_ids):
        if pid not in known:
            raise InstanceError(f"withdrawn[{n}]", f"unknown person id {pid!r}")
    gone = set(withdrawn_ids)
    for n, pid in enumerate(seated_ids):
        if pid in gone:
            raise InstanceError(f"seated[{n}]", f"{pid!r} is also listed as withdrawn")
    people = [p for p in instance.people if p.id not in gone]
    return replace(instance, people=people, already_selected=tuple(seated_ids))
