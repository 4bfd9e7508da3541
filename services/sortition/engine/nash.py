"""NASH: maximise the sum of log selection probabilities (the geometric mean).

Method: outer linearisation (Kelley's cutting planes) combined with column generation, every
master an LP solved by HiGHS. Each type t gets a variable u_t <= log(pi_t) enforced by
tangent cuts u_t <= log(a) - 1 + pi_t / a added at the current pi_t whenever u_t overshoots
log(pi_t); pi_t is the type's probability under the lottery over known panels. The duals of
the pi rows price new panels exactly as in leximin (swap local search first, a cut-off
integer program to prove that no improving panel is left). Types that no panel can include
are first found by leximin rounds at level 0 and kept at probability 0.
"""
from __future__ import annotations

from typing import Any

import highspy
import numpy as np
from numpy.typing import NDArray

from ._highs import INF, quiet_highs
from .leximin import ColumnGeneration, TypeSolution
from .model import Progress, ShouldStop
from .problem import Problem, SolveCancelled


def nash_types(problem: Problem, *, tolerance: float = 1e-6, progress: Progress | None = None,
               should_stop: ShouldStop | None = None, seed: int | None = None,
               max_iterations: int = 2000) -> TypeSolution:
    # Which types can be selected at all, and a set of starting panels.
    cg = ColumnGeneration(problem, tolerance=tolerance, seed=seed, phase="nash")
    cg.run(stop_when_positive=True)
    T = problem.n_types
    n = problem.sizes.astype(float)
    zero = cg.fixed & (cg.fixed_value <= tolerance)
    live = np.flatnonzero(~zero)
    cols: list[NDArray[np.integer[Any]]] = [cg.cols[j].copy() for j in range(cg.J)]
    keys = {c.tobytes() for c in cols}
    pricer = cg.pricer

    # LP: columns lam_j (J), pi_t (live), u_t (live). Rows: pi rows (live), convexity, cuts.
    L = len(live)
    h = quiet_highs()
    h.setOptionValue("solver", "simplex")
    h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    # pi and u variables first
    h.addVars(L, np.zeros(L), np.ones(L))  # pi
    h.addVars(L, np.full(L, -50.0), np.zeros(L))  # u = log pi <= 0
    h.changeColsCost(L, np.arange(L, 2 * L, dtype=np.int32), n[live])
    # pi_t - sum_j c_jt/n_t lam_j = 0
    for i in range(L):
        h.addRow(0.0, 0.0, 1, np.array([i], dtype=np.int32), np.array([1.0]))
    h.addRow(1.0, 1.0, 0, np.zeros(0, dtype=np.int32), np.zeros(0))
    conv_row = L
    live_pos = np.full(T, -1)
    live_pos[live] = np.arange(L)

    def add_cols(new: list[NDArray[np.integer[Any]]]) -> None:
        for c in new:
            nz = [t for t in np.flatnonzero(c) if live_pos[t] >= 0]
            idx = np.array([live_pos[t] for t in nz] + [conv_row], dtype=np.int32)
            val = np.array([-c[t] / n[t] for t in nz] + [1.0])
            h.addCol(0.0, 0.0, INF, len(idx), idx, val)

    add_cols(cols)

    def add_cuts(points: dict[int, float]) -> None:
        for i, a in points.items():
            # u_i - pi_i / a <= log(a) - 1
            h.addRow(-INF, float(np.log(a) - 1.0), 2, np.array([L + i, i], dtype=np.int32),
                     np.array([1.0, -1.0 / a]))

    k_over_n = problem.k / n.sum()
    add_cuts({i: k_over_n for i in range(L)})
    add_cuts({i: k_over_n * 0.25 for i in range(L)})
    add_cuts({i: min(1.0, k_over_n * 4) for i in range(L)})
    it = 0
    vtol = tolerance * 0.01
    objective = -np.inf
    while it < max_iterations:
        it += 1
        if should_stop is not None and should_stop():
            raise SolveCancelled(f"nash cancelled after {it} iterations")
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            h.clearSolver()
            h.run()
            if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                raise RuntimeError("nash master LP ended with "
                                   f"{h.modelStatusToString(h.getModelStatus())}")
        sol = h.getSolution()
        v = np.asarray(sol.col_value)
        pi, u = v[:L], v[L:2 * L]
        lam = v[2 * L:]
        objective = float(n[live] @ np.log(np.maximum(pi, 1e-300)))
        if progress is not None:
            progress("nash", it, float(pi.min()) if L else 0.0)
        # cuts where u overshoots log(pi)
        logpi = np.log(np.maximum(pi, 1e-12))
        viol = u - logpi
        # stop cutting once the linearisation error is below tolerance in objective terms
        cut_at: dict[int, float] = {}
        if float(n[live] @ np.maximum(viol, 0)) > tolerance * max(1.0, abs(objective)):
            cut_at = {int(i): float(max(pi[i], 1e-9))
                      for i in np.flatnonzero(viol > tolerance * 0.1)}
        rd = np.asarray(sol.row_dual)[:L]
        sgn = 1.0 if rd.sum() >= 0 else -1.0
        wl = np.maximum(sgn * rd, 0.0)
        w = np.zeros(T)
        w[live] = wl / n[live]
        colmat = np.array(cols)
        values = colmat @ w
        basic = lam > 1e-12
        mu = float(values[basic].max()) if basic.any() else float(values.max())
        scale = max(1.0, float(np.abs(w).max()))
        new: list[NDArray[np.integer[Any]]] = []
        order = np.argsort(-values)[:3]
        for j in order:
            x = pricer.local_search(w, cols[j].astype(np.int64))
            if float(w @ x) > mu + vtol * scale and x.tobytes() not in keys:
                keys.add(x.tobytes())
                new.append(x)
        if not new and not cut_at:
            found, _ = pricer.improving(w, mu + vtol * scale)
            for x in found:
                if x.tobytes() not in keys:
                    keys.add(x.tobytes())
                    new.append(x)
            if not new:
                break
        if new:
            add_cols(new)
            cols.extend(new)
        if cut_at:
            add_cuts(cut_at)
    v = np.asarray(h.getSolution().col_value)
    lam = v[2 * L:]
    keep = lam > 1e-12
    colmat = np.array(cols)[keep]
    weights = lam[keep] / lam[keep].sum()
    type_prob = (weights @ colmat) / n
    info = {"iterations": it, "columns": len(cols), "pricing_ips": pricer.ip_calls,
            "log_objective": objective, "types": T}
    return TypeSolution(colmat, weights, type_prob, None, None, info)
