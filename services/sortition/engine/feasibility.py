"""Can any panel meet the quotas? If not, which quotas conflict and what is the least change
that would make them satisfiable?

One integer program over types (HiGHS) decides feasibility. When it fails, a deletion filter
over the quotas finds an irreducible conflicting set (dropping any one of its quotas makes
the rest satisfiable), and a second integer program computes the minimal total change of
mins and maxes, within each quota's flex bounds (down to 0 / up to the seat count when a
quota has none), returned as ``QuotaChange`` records that a caller can show and accept.
Trivial problems (sum of mins above the seats, too few pool members for a min, ...) are
named without a solver.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

import highspy
import numpy as np
from numpy.typing import NDArray

from ._highs import INF, pass_model, quiet_highs, rows_to_csr
from .model import Instance
from .problem import Problem, compile_instance


@dataclass(frozen=True)
class QuotaChange:
    feature: str
    value: str
    old_min: int
    new_min: int
    old_max: int
    new_max: int


@dataclass
class FeasibilityReport:
    feasible: bool
    # Problems visible without a solver, in words.
    trivial: list[str] = field(default_factory=list)
    # (feature, value) of quotas that cannot be met together (irreducible).
    conflicting: list[tuple[str, str]] = field(default_factory=list)
    # The minimal relaxation within the flex bounds, or None if none exists / not needed.
    relaxation: list[QuotaChange] | None = None
    # Person indices of one feasible panel (when feasible).
    example_panel: tuple[int, ...] | None = None
    seconds: float = 0.0

    def summary(self) -> str:
        if self.feasible:
            return "feasible"
        parts = list(self.trivial)
        if self.conflicting:
            parts.append("conflicting quotas: "
                         + ", ".join(f"{f}={v}" for f, v in self.conflicting))
        if self.relaxation:
            parts.append("minimal relaxation: " + "; ".join(
                f"{c.feature}={c.value} min {c.old_min}->{c.new_min} max {c.old_max}->{c.new_max}"
                for c in self.relaxation))
        elif self.relaxation is None:
            parts.append("no relaxation within the flex bounds")
        return "; ".join(parts) or "infeasible"


def apply_relaxation(instance: Instance, changes: list[QuotaChange]) -> Instance:
    """The instance with the accepted quota changes applied."""
    by_key = {(c.feature, c.value): c for c in changes}
    quotas = []
    for q in instance.quotas:
        c = by_key.get((q.feature, q.value))
        quotas.append(replace(q, min=c.new_min, max=c.new_max) if c else q)
    return replace(instance, quotas=quotas)


def _trivial_problems(problem: Problem) -> list[str]:
    inst = problem.instance
    out = []
    k = problem.k
    free_sizes = problem.sizes
    pool = int(free_sizes.sum())
    if k < 0:
        out.append(f"{len(problem.seated)} people already seated for {inst.seats} seats")
        return out
    if pool < k:
        out.append(f"only {pool} people can be selected for {k} open seats")
    avail = problem.A.astype(np.int64) @ free_sizes
    raw_lo = (np.array([q.min for q in inst.quotas])
              - (np.array([q.min for q in inst.quotas]) - problem.lo))
    for qi, q in enumerate(inst.quotas):
        if problem.hi[qi] < 0:
            out.append(f"{q.feature}={q.value}: already-seated people exceed max {q.max}")
        elif problem.lo[qi] > avail[qi]:
            out.append(f"{q.feature}={q.value}: min {q.min} but only {int(avail[qi])} pool members "
                       f"have it" + (" besides those seated" if len(problem.seated) else ""))
    for c, cat in enumerate(problem.categories):
        qidx = [qi for qi, q in enumerate(inst.quotas) if q.feature == cat]
        lo_sum = problem.lo[qidx].sum()
        if lo_sum > k:
            out.append(f"{cat}: the mins add up to {int(lo_sum) + _seated_in(problem, qidx)} "
                       f"for {inst.seats} seats")
        covered = bool(np.all(problem.V[:, c] >= 0)) if problem.n_types else True
        if covered:
            cap = np.minimum(np.maximum(problem.hi[qidx], 0), avail[qidx]).sum()
            if cap < k:
                hi_sum = int(np.maximum(problem.hi[qidx], 0).sum()) + _seated_in(problem, qidx)
                out.append(f"{cat}: at most {int(cap) + _seated_in(problem, qidx)} seats can be "
                           f"filled (maxes add up to {hi_sum}) for {inst.seats} seats")
    del raw_lo
    return out


def _seated_in(problem: Problem, qidx: list[int]) -> int:
    inst = problem.instance
    return int(sum(inst.quotas[qi].max - problem.hi[qi] for qi in qidx))


class _QuotaIP:
    """The panel IP with switchable quota rows (for the deletion filter)."""

    def __init__(self, problem: Problem, time_limit: float) -> None:
        self.p = problem
        self.h = problem.panel_ip()
        self.h.setOptionValue("time_limit", time_limit)
        self.Q = len(problem.lo)

    def feasible(self, active: NDArray[np.bool_]) -> bool | None:
        for q in range(self.Q):
            lo = self.p.lo[q] if active[q] else 0.0
            hi = self.p.hi[q] if active[q] else INF
            self.h.changeRowBounds(1 + q, lo, hi)
        self.h.clearSolver()
        self.h.run()
        st = self.h.getModelStatus()
        if st == highspy.HighsModelStatus.kOptimal:
            return True
        if st == highspy.HighsModelStatus.kInfeasible:
            return False
        return None  # unknown (time limit)


def _relaxation(problem: Problem, time_limit: float) -> list[QuotaChange] | None:
    inst = problem.instance
    T = problem.n_types
    Q = len(inst.quotas)
    seated_q = np.array([q.max for q in inst.quotas]) - problem.hi
    raw_lo = np.array([q.min for q in inst.quotas], dtype=float) - seated_q
    dmin_ub = np.array([q.min - (q.min_flex if q.min_flex is not None else 0)
                        for q in inst.quotas], float)
    dmax_ub = np.array([max((q.max_flex if q.max_flex is not None else inst.seats) - q.max, 0)
                        for q in inst.quotas], float)
    # columns: x (T), dmin (Q), dmax (Q)
    rows: list[tuple[NDArray[Any], NDArray[np.float64]]] = [(np.arange(T), np.ones(T))]
    rlo: list[float] = [problem.k]
    rhi: list[float] = [problem.k]
    for q in range(Q):
        idx = np.flatnonzero(problem.A[q])
        rows.append((np.concatenate([idx, [T + q]]),
                     np.concatenate([np.ones(len(idx)), [1.0]])))
        rlo.append(raw_lo[q])
        rhi.append(INF)
        rows.append((np.concatenate([idx, [T + Q + q]]),
                     np.concatenate([np.ones(len(idx)), [-1.0]])))
        rlo.append(-INF)
        rhi.append(problem.hi[q])
    for members in problem.households:
        rows.append((members, np.ones(len(members))))
        rlo.append(-INF)
        rhi.append(1)
    s, i, v = rows_to_csr(rows)
    cost = np.concatenate([np.zeros(T), np.ones(2 * Q)])
    lower = np.zeros(T + 2 * Q)
    upper = np.concatenate([problem.sizes.astype(float), dmin_ub, dmax_ub])
    h = quiet_highs()
    h.setOptionValue("time_limit", time_limit)
    h.setOptionValue("mip_rel_gap", 0.0)
    pass_model(h, cost, lower, upper, np.array(rlo, float), np.array(rhi, float), s, i, v,
               integer=np.ones(T + 2 * Q, dtype=bool))
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    sol = np.rint(np.asarray(h.getSolution().col_value))
    dmin, dmax = sol[T:T + Q], sol[T + Q:]
    changes = []
    for q, quota in enumerate(inst.quotas):
        if dmin[q] > 0 or dmax[q] > 0:
            changes.append(QuotaChange(quota.feature, quota.value,
                                       quota.min, int(quota.min - dmin[q]),
                                       quota.max, int(quota.max + dmax[q])))
    return changes


def check_feasibility(instance: Instance, *, problem: Problem | None = None,
                      diagnose: bool = True, time_limit: float = 30.0) -> FeasibilityReport:
    """Decide whether some panel meets every quota; diagnose when none does."""
    t0 = time.perf_counter()
    if problem is None:
        from .validation import validate_instance

        validate_instance(instance)
        problem = compile_instance(instance)
    trivial = _trivial_problems(problem)
    if problem.k < 0:
        return FeasibilityReport(False, trivial, seconds=time.perf_counter() - t0)
    if problem.k == 0 and not trivial:
        return FeasibilityReport(True, example_panel=tuple(int(i) for i in problem.seated),
                                 seconds=time.perf_counter() - t0)
    ip = _QuotaIP(problem, time_limit)
    Q = len(problem.lo)
    feasible = None if trivial else ip.feasible(np.ones(Q, dtype=bool))
    if feasible:
        x = np.rint(np.asarray(ip.h.getSolution().col_value)).astype(np.int64)
        chosen = sorted(int(i) for t in np.flatnonzero(x)
                        for i in problem.type_members[t][:x[t]])
        panel = tuple(sorted(chosen + [int(i) for i in problem.seated]))
        return FeasibilityReport(True, example_panel=panel, seconds=time.perf_counter() - t0)
    report = FeasibilityReport(False, trivial)
    if diagnose:
        report.relaxation = _relaxation(problem, time_limit)
        report.conflicting = _conflicts(problem, ip, report.relaxation)
    report.seconds = time.perf_counter() - t0
    return report


def _conflicts(problem: Problem, ip: _QuotaIP,
               relaxation: list[QuotaChange] | None) -> list[tuple[str, str]]:
    inst = problem.instance
    Q = len(inst.quotas)
    active = np.ones(Q, dtype=bool)
    if ip.feasible(np.zeros(Q, dtype=bool)) is False:
        return []  # the seat count / households alone cannot be met
    if relaxation:
        # quotas in the features the relaxation touches usually contain a conflict
        feats = {c.feature for c in relaxation}
        guess = np.array([q.feature in feats for q in inst.quotas])
        if ip.feasible(guess) is False:
            active = guess
    for q in np.flatnonzero(active):
        active[q] = False
        if ip.feasible(active) is not False:
            active[q] = True
    return [(inst.quotas[int(q)].feature, inst.quotas[int(q)].value)
            for q in np.flatnonzero(active)]
