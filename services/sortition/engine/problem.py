"""An Instance compiled for the solvers: people aggregated into types, quotas as a matrix.

People with identical quota-relevant features are interchangeable (any permutation of them
maps feasible panels to feasible panels), so every fair objective gives them the same
probability and the solvers work with counts per type. With the one-per-household rule,
members of a household of size > 1 are kept apart as singleton types, because the household
constraint breaks the symmetry.

Already-selected people are taken out: they sit on every panel, the quotas are reduced by
what they already contribute and the seat count by their number; with the household rule
their household mates cannot be selected at all.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np
from numpy.typing import NDArray

from ._highs import INF, pass_model, quiet_highs, rows_to_csr
from .model import Instance, InstanceError


class SolveCancelled(RuntimeError):
    """``should_stop()`` asked the solver to stop (deadline or cancellation)."""


@dataclass
class Problem:
    instance: Instance
    k: int  # seats still to fill
    seated: NDArray[np.int64]  # person indices forced onto every panel
    # person indices that can never be selected (household of a seated one)
    excluded: NDArray[np.int64]
    lo: NDArray[np.float64]  # per quota, after subtracting the seated people
    hi: NDArray[np.float64]
    type_members: list[NDArray[np.int64]]  # person indices per type
    sizes: NDArray[np.int64]  # n_t
    A: NDArray[np.int8]  # (Q, T) 0/1: type t counts towards quota q
    categories: list[str]
    V: NDArray[np.int64]  # (T, C) quota index of the type's value in category c, -1 if unquoted
    households: list[NDArray[np.int64]]  # type indices that share a household (size > 1)
    type_household: NDArray[np.int64]  # (T,) household group index or -1

    @property
    def n_types(self) -> int:
        return len(self.sizes)

    def person_type(self) -> NDArray[np.int64]:
        out = np.full(len(self.instance.people), -1, dtype=np.int64)
        for t, members in enumerate(self.type_members):
            out[members] = t
        return out

    # ---- integer programs over types ---------------------------------------------------
    def panel_rows(self, lo: NDArray[np.float64] | None = None,
                   hi: NDArray[np.float64] | None = None,
                   ) -> tuple[list[tuple[NDArray[Any], NDArray[np.float64]]],
                              NDArray[np.float64], NDArray[np.float64]]:
        """Constraint rows of 'x is a feasible panel of types': seats, quotas, households."""
        lo = self.lo if lo is None else lo
        hi = self.hi if hi is None else hi
        T = self.n_types
        rows: list[tuple[NDArray[Any], NDArray[np.float64]]] = [(np.arange(T), np.ones(T))]
        rlo: list[float] = [self.k]
        rhi: list[float] = [self.k]
        for q in range(len(lo)):
            idx = np.flatnonzero(self.A[q])
            rows.append((idx, np.ones(len(idx))))
            rlo.append(lo[q])
            rhi.append(hi[q])
        for members in self.households:
            rows.append((members, np.ones(len(members))))
            rlo.append(-INF)
            rhi.append(1)
        return rows, np.array(rlo, dtype=float), np.array(rhi, dtype=float)

    def panel_ip(self, weights: NDArray[np.float64] | None = None) -> highspy.Highs:
        """A HiGHS model maximising weights @ x over feasible type panels x."""
        rows, rlo, rhi = self.panel_rows()
        s, i, v = rows_to_csr(rows)
        T = self.n_types
        h = quiet_highs()
        cost = np.zeros(T) if weights is None else np.asarray(weights, float)
        pass_model(h, cost, np.zeros(T), self.sizes.astype(float), rlo, rhi, s, i, v,
                   integer=np.ones(T, dtype=bool), maximize=True)
        return h


def quota_feature_value(instance: Instance) -> tuple[list[str], dict[tuple[str, str], int]]:
    categories: list[str] = []
    index: dict[tuple[str, str], int] = {}
    for qi, q in enumerate(instance.quotas):
        if q.feature not in categories:
            categories.append(q.feature)
        index[(q.feature, q.value)] = qi
    return categories, index


def compile_instance(instance: Instance) -> Problem:
    people = instance.people
    quotas = instance.quotas
    n = len(people)
    categories, index = quota_feature_value(instance)
    Q = len(quotas)
    C = len(categories)

    id_pos = {p.id: i for i, p in enumerate(people)}
    seated: list[int] = []
    for sid in instance.already_selected:
        if sid not in id_pos:
            raise InstanceError("already_selected", f"unknown person id {sid!r}")
        seated.append(id_pos[sid])
    seated_arr = np.array(sorted(set(seated)), dtype=np.int64)
    k = instance.seats - len(seated_arr)

    # person x category -> quota index (or -1)
    PV = np.full((n, C), -1, dtype=np.int64)
    for i, p in enumerate(people):
        feats = p.features
        for c, cat in enumerate(categories):
            val = feats.get(cat)
            if val is not None:
                PV[i, c] = index.get((cat, val), -1)

    lo = np.array([q.min for q in quotas], dtype=float)
    hi = np.array([q.max for q in quotas], dtype=float)
    for i in seated_arr:
        for c in range(C):
            if PV[i, c] >= 0:
                lo[PV[i, c]] -= 1
                hi[PV[i, c]] -= 1
    lo = np.maximum(lo, 0)

    excluded_mask = np.zeros(n, dtype=bool)
    excluded_mask[seated_arr] = True
    excluded: list[int] = []
    hh_groups: dict[str, list[int]] = {}
    if instance.one_per_household:
        seated_hh = {people[i].household for i in seated_arr if people[i].household}
        for i, p in enumerate(people):
            if excluded_mask[i]:
                continue
            if p.household and p.household in seated_hh:
                excluded_mask[i] = True
                excluded.append(i)
                continue
            if p.household:
                hh_groups.setdefault(p.household, []).append(i)
    multi = {h: m for h, m in hh_groups.items() if len(m) > 1}
    singleton_people: set[int] = set()
    for m in multi.values():
        singleton_people.update(m)

    free = np.flatnonzero(~excluded_mask)
    type_members: list[NDArray[np.int64]] = []
    type_keys: list[NDArray[np.int64]] = []
    type_of_person: dict[int, int] = {}
    if len(free):
        aggregable = np.array([i for i in free if i not in singleton_people], dtype=np.int64)
        if len(aggregable):
            keys, inverse = np.unique(PV[aggregable], axis=0, return_inverse=True)
            inverse = inverse.reshape(-1)
            order = np.argsort(inverse, kind="stable")
            bounds = np.searchsorted(inverse[order], np.arange(len(keys) + 1))
            for t in range(len(keys)):
                type_members.append(aggregable[order[bounds[t]:bounds[t + 1]]])
                type_keys.append(keys[t])
        for i in sorted(singleton_people):
            type_of_person[i] = len(type_members)
            type_members.append(np.array([i], dtype=np.int64))
            type_keys.append(PV[i])
    T = len(type_members)
    V = np.array(type_keys, dtype=np.int64).reshape(T, C)
    A = np.zeros((Q, T), dtype=np.int8)
    for c in range(C):
        has = V[:, c] >= 0
        A[V[has, c], np.flatnonzero(has)] = 1
    households = [np.array([type_of_person[i] for i in m], dtype=np.int64) for m in multi.values()]
    type_household = np.full(T, -1, dtype=np.int64)
    for g, members in enumerate(households):
        type_household[members] = g
    return Problem(
        instance=instance, k=k, seated=seated_arr,
        excluded=np.array(sorted(excluded), dtype=np.int64),
        lo=lo, hi=hi, type_members=type_members,
        sizes=np.array([len(m) for m in type_members], dtype=np.int64), A=A,
        categories=categories, V=V, households=households, type_household=type_household,
    )
