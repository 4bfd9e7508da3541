"""Exact LEXIMIN by column generation (after Flanigan, Gölz, Gupta, Hennig, Procaccia,
"Fair algorithms for selecting citizens' assemblies", Nature 596, 2021).

Each round maximises the lowest probability z among the types not yet fixed, subject to
the fixed types keeping their values:

    max z  s.t.  sum_P lam_P c_{P,t}/n_t >= z (t unfixed),  >= v_t (t fixed),
                 sum_P lam_P = 1,  lam >= 0,

over panels P given as counts c_{P,t} per type. The LP is solved over a growing set of
panels; its duals (y_t >= 0 with sum over unfixed = 1, and mu) price new panels: a panel
improves the LP iff sum_t y_t c_{P,t}/n_t > mu. A swap local search finds most improving
panels; an integer program (HiGHS) proves that none is left.

Ending a round: the LP duals y that survive the proof (no panel beats them by more than
tolerance/100) are an optimal dual, so by complementary slackness every type with y_t > 0
has probability exactly z in every optimal solution and may be fixed. We fix the types with
y_t >= 1e-3 (so the proof's round-off, divided by y_t, stays below 1e-5), at least the
largest. A maximum-support dual (``support_dual``, strict complementarity) can fix a whole
level per round, but verifying it costs extra pricing IPs that rarely paid off in our
measurements, so it is off by default (``verify_attempts``). The first round's dual is the
distribution's certificate. ``info["max_excess_over_fixed"]`` reports how far the final
lottery exceeds any fixed value (near 0 means no round fixed a type too early).

The fractional panel polytope (quotas and seat count on expected counts) contains every
lottery's expected counts, so its LP optimum bounds each round from above; a round ends as
soon as the master reaches it (no pricing IP proof), and its dual, then optimal for the
master too, is the smoothing centre and the set of types to fix.

Leximin in one go: on quota-only pools the relaxation is usually exact at the leximin point,
so run() first computes the fractional leximin v (one warm-started LP per level; it is
lexicographically at least any lottery's profile) and looks for a lottery with p_t >= z v_t,
z -> 1. Every panel of such a lottery lies on the smallest face of the panel polytope that
holds x = n v (``_face``: quotas whose expected count is on a bound are met exactly), and x is
in that face's relative interior. So it first tries one LP over a few thousand random face
panels (``face_sampling``; the LP by a dense interior point method, ``lottery_ipm``, reduced
to a basic lottery before people are assigned), adding fresh panels beyond the LP's dual
hyperplane while x is out of their hull; if that does not reach x, column generation prices
on the face towards it, and if pricing proves z < 1 the solve falls back to the rounds. On
the 5,000-person national pool (1,429 types) the sampled LP replaces several hundred
degenerate master solves.

Pricing runs the swap local search (single swaps, then exchanges of two members for two
others with identical values, which survive exact quotas) only while an exact IP costs
clearly more than a master solve, and the IP as a cut-off decision problem.
"""
from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import highspy
import numpy as np
from numpy.typing import NDArray

from ._highs import INF, pass_model, quiet_highs, rows_to_csr
from .face_sampling import FaceSampler
from .lottery_ipm import basic_lottery, solve_lottery_lp
from .model import Progress, ShouldStop
from .pricing import Counts, Pricer
from .problem import Problem, SolveCancelled

Vector = NDArray[np.float64]
Indices = NDArray[np.intp]
# How a round ends: (z, upper bound, dual y, mu, types to fix); only z when it stopped at a
# target (the one-go phase towards the fractional leximin).
RoundEnd = tuple[float, float | None, Vector | None, float | None, Indices | None]


@dataclass
class TypeSolution:
    columns: NDArray[np.integer[Any]]  # (J, T) counts of the panels with positive weight
    weights: Vector  # (J,)
    type_prob: Vector  # (T,)
    cert_weights: Vector | None  # (T,) type weights of the first round's dual, sum 1
    cert_bound: float | None
    info: dict[str, Any] = field(default_factory=dict)


class ColumnGeneration:
    def __init__(self, problem: Problem, *, tolerance: float = 1e-6,
                 progress: Progress | None = None, should_stop: ShouldStop | None = None,
                 seed: int | None = None, phase: str = "leximin") -> None:
        self.p = problem
        self.T = problem.n_types
        self.n = problem.sizes.astype(np.float64)
        self.tol = float(tolerance)
        self.fix_slack = self.tol * 0.1
        self.progress = progress
        self.should_stop = should_stop
        self.phase = phase
        self.rng = np.random.default_rng(seed if seed is not None else 0)
        self.pricer = Pricer(problem)
        self.max_solutions = 0
        self.verify_ips = 0
        self.verify_attempts = 0
        self.use_heuristic = True
        self.use_frac_bound = True
        # try leximin in one column generation towards the fractional leximin (run() only)
        self.use_frac_leximin = True
        self.use_face = True  # price the one-go phase on the face of the leximin point
        self.face_quotas = 0
        self.face_types = 0
        # reach the fractional leximin with one LP over random face panels (run() only)
        self.use_sampling = True
        self.sampling_rounds = 6
        self.sampled_panels = 0
        self.sampling_lps = 0
        self.sampled_z = 0.0
        self._final: tuple[NDArray[np.integer[Any]], Vector] | None = None
        self.frac_fallbacks = 0
        self._target: float | None = None
        self.frac_rounds = 0  # rounds ended by reaching the fractional bound
        self.smoothing = 0.5  # weight of the previous search point in dual smoothing
        self.ip_time = 1.0  # running averages (s), start by trusting the heuristic
        self.master_time = 0.0
        self.ls_time = 0.0  # running average of one local search (s)
        self.cols = np.zeros((64, self.T), dtype=np.int32)
        self.J = 0
        self.keys: set[bytes] = set()
        self.fixed = np.zeros(self.T, dtype=bool)
        self.fixed_value = np.zeros(self.T)
        self.iterations = 0
        # the master's simplex slows down with its width (per iteration ~0.06 ms at 400
        # panels, ~0.5 ms at 1,800 on an 815-person pool): past prune_at panels, nonbasic ones
        # with the worst reduced costs go, down to prune_keep; pricing brings back any needed
        self.prune_at = 2 * (self.T + 1) + 200
        self.prune_keep = self.T + 1 + 100
        self.pruned = 0
        self.slack_relaxed = False
        self.t0 = time.perf_counter()
        self._build_master()

    # ---- master LP -------------------------------------------------------------------------
    def _build_master(self) -> None:
        T = self.T
        h = quiet_highs()
        # column 0 is z; rows 0..T-1 are types, row T is sum lam = 1
        starts = np.zeros(T + 2, dtype=np.int64)
        starts[1:T + 1] = np.arange(1, T + 1)
        starts[T + 1] = T
        idx = np.zeros(T, dtype=np.int64)
        val = -np.ones(T)
        rlo = np.concatenate([np.zeros(T), [1.0]])
        rhi = np.concatenate([np.full(T, INF), [1.0]])
        pass_model(h, np.array([1.0]), np.array([-INF]), np.array([INF]), rlo, rhi,
                   starts, idx, val, maximize=True)
        h.setOptionValue("solver", "simplex")
        # new panels keep the basis primal feasible: primal simplex continues from it
        h.setOptionValue("simplex_strategy", 4)
        self.master = h

    def add_columns(self, xs: Iterable[NDArray[np.integer[Any]] | None]) -> int:
        new = []
        for x in xs:
            if x is None:
                continue
            x = np.asarray(x, dtype=np.int32)
            key = x.tobytes()
            if key in self.keys:
                continue
            self.keys.add(key)
            new.append(x)
        if not new:
            return 0
        while self.J + len(new) > len(self.cols):
            self.cols = np.concatenate([self.cols, np.zeros_like(self.cols)])
        starts: list[int] = []
        indices: list[NDArray[Any] | list[int]] = []
        values: list[Vector | list[float]] = []
        nnz = 0
        for x in new:
            self.cols[self.J] = x
            self.J += 1
            nz = np.flatnonzero(x)
            starts.append(nnz)
            indices.append(nz)
            indices.append([self.T])
            values.append(x[nz] / self.n[nz])
            values.append([1.0])
            nnz += len(nz) + 1
        m = len(new)
        self.master.addCols(m, np.zeros(m), np.zeros(m), np.full(m, INF), nnz,
                            np.array(starts, dtype=np.int32),
                            np.concatenate(indices).astype(np.int32),
                            np.concatenate(values).astype(np.float64))
        return m

    def solve_master(self) -> tuple[float, Vector, float, Vector, Vector]:
        h = self.master
        t_m = time.perf_counter()
        h.run()
        self.master_time = 0.7 * self.master_time + 0.3 * (time.perf_counter() - t_m)
        st = h.getModelStatus()
        if st != highspy.HighsModelStatus.kOptimal:
            # a fresh start from scratch sometimes cures numerical trouble
            h.clearSolver()
            h.run()
            st = h.getModelStatus()
            if (st == highspy.HighsModelStatus.kInfeasible and self.fixed.any()
                    and self.fix_slack < self.tol):
                # The last solution met every fixed row to within the feasibility tolerance
                # (1e-7), the very size of fix_slack: after another basis path (pruning) the
                # final LP can come out infeasible by round-off. Give fixed rows the solve's
                # tolerance instead; the lottery then stays within it of the fixed levels.
                self.fix_slack = self.tol
                self.slack_relaxed = True
                for t in np.flatnonzero(self.fixed):
                    h.changeRowBounds(int(t), float(self.fixed_value[t] - self.fix_slack), INF)
                h.clearSolver()
                h.run()
                st = h.getModelStatus()
            if st != highspy.HighsModelStatus.kOptimal:
                raise RuntimeError(f"master LP ended with {h.modelStatusToString(st)}")
        sol = h.getSolution()
        rd = np.asarray(sol.row_dual)
        y = rd[:self.T]
        unfixed = ~self.fixed
        sgn = 1.0 if y[unfixed].sum() >= 0 else -1.0
        y = np.maximum(sgn * y, 0.0)
        z = float(np.asarray(sol.col_value)[0])
        lam = np.asarray(sol.col_value)[1:1 + self.J]
        w = y / self.n
        values = self.cols[:self.J] @ w
        mu = float(values[lam > 1e-12].max()) if np.any(lam > 1e-12) else float(values.max())
        if self.J > self.prune_at:
            keep = self._prune(lam, values)
            lam, values = lam[keep], values[keep]
        return z, y, mu, lam, values

    def _prune(self, lam: Vector, values: Vector) -> NDArray[np.bool_]:
        """Drop nonbasic panels with the lowest reduced cost; returns the mask kept. Only
        nonbasic columns go, so the basis (and the solution) stays optimal."""
        J = self.J
        status = list(self.master.getBasis().col_status)[1:1 + J]
        basic = np.fromiter((s == highspy.HighsBasisStatus.kBasic for s in status), bool, J)
        keep = basic | (lam > 1e-12)
        room = self.prune_keep - int(keep.sum())
        if room > 0:
            cand = np.flatnonzero(~keep)
            keep[cand[np.argsort(-values[cand], kind="stable")[:room]]] = True
        drop = np.flatnonzero(~keep)
        if len(drop) == 0:
            return keep
        self.master.deleteCols(len(drop), (drop + 1).astype(np.int32))
        for j in drop:
            self.keys.discard(self.cols[j].tobytes())
        kept = np.flatnonzero(keep)
        self.cols[:len(kept)] = self.cols[kept]
        self.J = len(kept)
        self.pruned += len(drop)
        if hasattr(self, "sup"):
            del self.sup  # its rows follow the column order: rebuilt on next use
        return keep

    def _check(self, z: float) -> None:
        self.iterations += 1
        if self.should_stop is not None and self.should_stop():
            raise SolveCancelled(f"{self.phase} cancelled after {self.iterations} iterations")
        if self.progress is not None:
            if self._target is not None:
                z = z * self._target_vmin  # towards v, z is a scale: report the lowest p_t
            self.progress(self.phase, self.iterations, float(z))

    # ---- fractional bound ------------------------------------------------------------------
    def _build_frac(self) -> None:
        """The round's LP over fractional panels: max z over x in the relaxed panel polytope
        (seat count, quotas, households, 0 <= x_t <= n_t) with x_t >= n_t z for unfixed types
        and x_t >= n_t v_t for fixed ones. Every lottery's expected counts lie in it, so its
        optimum bounds the round from above; on quota-only pools it is usually exact."""
        T = self.T
        rows, rlo, rhi = self.p.panel_rows()
        self.frac_row0 = len(rows)
        all_rows = list(rows) + [(np.array([t, T]), np.array([1.0, -self.n[t]]))
                                 for t in range(T)]
        rlo = np.concatenate([rlo, np.zeros(T)])
        rhi = np.concatenate([rhi, np.full(T, INF)])
        starts, idx, val = rows_to_csr(all_rows)
        cost = np.zeros(T + 1)
        cost[T] = 1.0
        h = quiet_highs()
        pass_model(h, cost, np.zeros(T + 1), np.concatenate([self.n, [INF]]), rlo, rhi,
                   starts, idx, val, maximize=True)
        self.frac = h
        self.frac_fixed = np.zeros(T, dtype=bool)

    def frac_bound(self, fixed: NDArray[np.bool_] | None = None,
                   fixed_value: Vector | None = None,
                   slack: float | None = None) -> tuple[float, Vector] | None:
        """(z_LP, y) for the current round (or for the given fixed types): the fractional
        optimum and its dual, scaled like the master's duals (sum over unfixed types 1);
        None if the LP fails. Types stay fixed in the LP once fixed."""
        fixed = self.fixed if fixed is None else fixed
        fixed_value = self.fixed_value if fixed_value is None else fixed_value
        slack = self.fix_slack if slack is None else slack
        if not hasattr(self, "frac"):
            self._build_frac()
        h, T, r0 = self.frac, self.T, self.frac_row0
        for t in np.flatnonzero(fixed & ~self.frac_fixed):
            h.changeCoeff(r0 + int(t), T, 0.0)
            h.changeRowBounds(r0 + int(t), float(self.n[t] * (fixed_value[t] - slack)), INF)
            self.frac_fixed[t] = True
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        sol = h.getSolution()
        # the master's row t is this LP's row divided by n_t, so its dual is n_t times this one
        y = np.asarray(sol.row_dual)[r0:r0 + T] * self.n
        U = ~fixed
        sgn = 1.0 if y[U].sum() >= 0 else -1.0
        y = np.maximum(sgn * y, 0.0)
        tot = y[U].sum()
        if not tot > 0:
            return None
        y[fixed] = 0.0
        return float(np.asarray(sol.col_value)[T]), y / tot

    def frac_leximin(self, max_seconds: float,
                     ) -> tuple[Vector, list[tuple[float, int]], Vector, float] | None:
        """Leximin over the fractional panel polytope, by the same rounds as the master's
        (types with dual weight >= 1e-3 fixed per round, exact for that LP by complementary
        slackness) but each round one warm-started LP. Returns (values, levels, y1, z1) with
        the first round's dual and bound, or None if an LP fails or time runs out."""
        ff = self.fixed.copy()
        fv = self.fixed_value.copy()
        levels: list[tuple[float, int]] = []
        first: tuple[Vector, float] | None = None
        t0 = time.perf_counter()
        while not ff.all():
            if time.perf_counter() - t0 > max_seconds:
                return None
            # no slack for fixed rows: a slack would let each later level creep above what
            # lotteries reach (by the slack times a ratio of sizes, round after round)
            r = self.frac_bound(ff, fv, slack=0.0)
            if r is None:
                return None
            zl, y = r
            U = ~ff
            support = np.flatnonzero(U & (y >= 1e-3))
            if len(support) == 0:
                support = np.flatnonzero(U)[[int(np.argmax(y[U]))]]
            if first is None:
                first = (y, zl)
            ff[support] = True
            fv[support] = zl
            levels.append((float(zl), int(len(support))))
        assert first is not None  # nothing fixed yet (the caller checks), so one round ran
        return fv, levels, first[0], first[1]

    def _reset_frac(self) -> None:
        if hasattr(self, "frac"):
            del self.frac

    def _frac_shortcut(self) -> tuple[Vector, float, list[tuple[float, int]]] | None:
        """Leximin in one column generation when the fractional leximin is reachable.

        The fractional leximin v is lexicographically at least any lottery's profile (the
        polytope contains every lottery's expected counts), so a lottery with p_t >= v_t for
        every type is leximin-optimal. One master run, maximising z with p_t >= z v_t, tells:
        z reaching 1 gives that lottery; if pricing proves z < 1, the relaxation is not
        exact here and the caller falls back to the master's own rounds (columns kept).
        Returns (cert_y, cert_bound, levels) or None."""
        if self.fixed.any():
            return None
        fl = self.frac_leximin(max_seconds=max(5.0, 0.02 * self.T))
        self._reset_frac()
        if fl is None:
            return None
        v, levels, y1, z1 = fl
        if not v.max() > 0:
            return None
        for t in range(self.T):
            self.master.changeCoeff(t, 0, -float(v[t]))
        # p_t >= z v_t with z this close to 1 keeps every p_t within tol/2 of v_t
        target = 1.0 - 0.5 * self.tol / float(v.max())
        face, floor, tight = self._face(v)
        warm: list[NDArray[np.integer[Any]]] = []
        # (the LP's dense algebra grows with T^2 times the panels: past a few thousand types
        # column generation is the better bet)
        if self.use_sampling and not self.p.households and self.T <= 4000:
            self._target_vmin = float(v.min())
            self._target = target  # progress reports z v_min
            try:
                lottery, warm = self._sampled_lottery(v, face, floor, tight, target)
            finally:
                self._target = None
            if lottery is not None:
                self._final = lottery
                self.fixed[:] = True
                self.fixed_value[:] = v * min(1.0, self.sampled_z)
                return y1, z1 + self.tol * 0.01, levels
        full_pricer = self.pricer
        if self.use_face:
            self._enter_face(face, floor)
            self.add_columns(warm)
        self._target = target
        self._target_vmin = float(v.min())
        # the first fractional round's dual, scaled so that sum_t y_t v_t = 1 like the
        # master's duals here, supports the polytope at v: an optimal dual if v is reached
        yv = float(y1 @ v)
        self._target_center = y1 / yv if yv > 0 else None  # a first level of 0 supports nothing
        try:
            z = self._solve_round()[0]
        finally:
            self._target = None
            self.pricer = full_pricer
        if z < target:
            self.frac_fallbacks += 1
            for t in range(self.T):
                self.master.changeCoeff(t, 0, -1.0)
            return None
        self.fixed[:] = True
        self.fixed_value[:] = np.minimum(z, 1.0) * v  # what the lottery provably reaches
        for t in range(self.T):
            self.master.changeCoeff(t, 0, 0.0)
            self.master.changeRowBounds(t, float(self.fixed_value[t] - self.fix_slack), INF)
        return y1, z1 + self.tol * 0.01, levels

    def _face(self, v: Vector) -> tuple[Problem, NDArray[np.int64], int]:
        """The smallest face of the panel polytope that holds the expected counts x = n v,
        as (problem with the face's quotas and sizes, floor per type, tight quota count).

        A quota whose expected count sits on its bound must be met with equality by every
        panel of any lottery with those expected counts (each panel meets the bound, the
        average equals it); likewise a type with v_t = 1 is on every panel in full and one
        with v_t = 0 on none. So a lottery reaching v uses face panels only, and restricting
        pricing to them loses nothing, while the master no longer wanders among panels that
        the final lottery cannot use."""
        p = self.p
        xbar = self.n * v
        q = p.A.astype(np.float64) @ xbar
        lo, hi = p.lo.copy(), p.hi.copy()
        at_lo = np.abs(q - p.lo) <= 1e-6
        at_hi = ~at_lo & (np.abs(q - p.hi) <= 1e-6)
        hi[at_lo] = p.lo[at_lo]
        lo[at_hi] = p.hi[at_hi]
        sizes = np.where(v <= 1e-9, 0, p.sizes)
        floor = np.where(v >= 1 - 1e-9, p.sizes, 0)
        self.face_types = int((sizes < p.sizes).sum() + (floor > 0).sum())
        self.face_quotas = int(at_lo.sum() + at_hi.sum())
        return replace(p, lo=lo, hi=hi, sizes=sizes), floor, self.face_quotas

    def _enter_face(self, face: Problem, floor: NDArray[np.int64]) -> bool:
        """Price only on the face (see _face) and start the master afresh with panels from
        it. If the face has no panel, pricing stays as it was."""
        pricer = Pricer(face, floor=floor)
        saved = (self.pricer, self.cols.copy(), self.J, set(self.keys))
        self.pricer = pricer
        J = self.J
        self.master.deleteCols(J, np.arange(1, J + 1, dtype=np.int32))
        self.J = 0
        self.keys.clear()
        if hasattr(self, "sup"):
            del self.sup
        if not self.initial_columns():
            # no panel on the face: v is out of reach; put the old panels back
            self.master.deleteCols(self.J, np.arange(1, self.J + 1, dtype=np.int32))
            self.pricer, cols, J, _ = saved
            self.J, self.keys = 0, set()
            self.add_columns(cols[:J])
            return False
        return True

    def _sampled_lottery(self, v: Vector, face: Problem, floor: NDArray[np.int64], tight: int,
                         target: float,
                         ) -> tuple[tuple[NDArray[np.integer[Any]], Vector] | None,
                                    list[NDArray[np.integer[Any]]]]:
        """A lottery reaching z v (z >= target) over random face panels, or None; and the
        panels of the last LP's lottery, to start column generation with if it fails.

        Rounds: draw about three panels per face dimension, solve the lottery LP (interior
        point, see lottery_ipm); if v is not yet in the panels' hull, the LP's duals are a
        hyperplane separating it, and only fresh panels beyond that hyperplane are added."""
        xbar = self.n * v
        sampler = FaceSampler(face, floor, xbar, self.rng)
        dim = max(1, int((xbar > 0).sum()) - tight)
        pool: list[NDArray[np.int64]] = []
        seen: set[bytes] = set()

        best = [0.0]

        def report(z: float) -> None:
            best[0] = max(best[0], z)
            self._check(best[0])  # progress, and the place a cancellation stops the solve

        def draw(count: int, limit: int, w: Vector | None = None, bar: float = 0.0) -> None:
            drawn = 0
            while count > 0 and drawn < limit:
                if drawn % 200 == 0:
                    report(best[0])
                for x in sampler.batch(10):
                    drawn += 1
                    key = x.tobytes()
                    if key in seen or (w is not None and not float(w @ x) > bar):
                        continue
                    seen.add(key)
                    pool.append(x)
                    count -= 1
            self.sampled_panels += drawn

        draw(3 * dim, 6 * dim)
        warm: list[NDArray[np.integer[Any]]] = []
        last_z = 0.0
        for _ in range(self.sampling_rounds):
            cols = np.array(pool, dtype=np.int32)
            lp = solve_lottery_lp(cols, self.n, v, target=target, on_iteration=report)
            self.sampling_lps += 1
            warm = list(cols[lp.weights > 1e-9])
            if lp.z >= target:
                # the interior solution spreads over thousands of panels: keep a basic one
                # (thousands of panels would each become ~100 panels of people)
                basic = basic_lottery(cols, lp.weights, self.n)
                if basic is None:
                    break  # round-off: let column generation finish from these panels
                bc, bw = basic
                pb = (bw @ bc) / self.n
                zb = float(np.min(pb[v > 0] / v[v > 0]))
                if zb >= target:
                    self.sampled_z = zb
                    return (bc, bw), warm
            if lp.z - last_z < 0.1 * (1.0 - last_z):
                break  # closing under a tenth of the gap per round: v looks out of reach
            last_z = lp.z
            before = len(pool)
            draw(dim // 2, 4 * dim, lp.duals / self.n, lp.z + 1e-12)
            if len(pool) == before:
                break
        return None, warm

    # ---- maximum-support dual ------------------------------------------------------------------
    def _build_support(self) -> None:
        """The persistent LP behind support_dual (rows for panels are added as they come)."""
        T = self.T
        h = quiet_highs()
        # Columns: y (T), mu, s (T).
        cost = np.concatenate([np.zeros(T + 1), np.ones(T)])
        lo = np.concatenate([np.zeros(T), [-INF], np.zeros(T)])
        hi = np.concatenate([np.full(T, INF), [INF], np.zeros(T)])
        rows = [(np.array([T]), np.array([1.0])), (np.arange(T), np.ones(T))]
        rows += [(np.array([T + 1 + t, t]), np.array([1.0, -1.0])) for t in range(T)]
        starts, idx, val = rows_to_csr(rows)
        rlo = np.concatenate([[-INF, 1.0], np.full(T, -INF)])
        rhi = np.concatenate([[0.0, 1.0], np.zeros(T)])
        pass_model(h, cost, lo, hi, rlo, rhi, starts, idx, val, maximize=True)
        h.setOptionValue("primal_feasibility_tolerance", 1e-9)
        h.setOptionValue("dual_feasibility_tolerance", 1e-9)
        h.setOptionValue("solver", "simplex")
        self.sup = h
        self.sup_rows = 0
        self.sup_fixed = np.zeros(T, dtype=bool)

    def support_dual(self, z: float) -> tuple[Vector, float, Indices] | None:
        """An optimal dual of the current restricted master with as many unfixed types as
        possible carrying real weight: over duals (y, mu) with sum_U y = 1 and value <= z,
        maximise sum_U min(y_t, delta). Only types with y_t >= delta/10 are returned in the
        support, so that the verification's round-off (divided by y_t) stays negligible."""
        if not hasattr(self, "sup"):
            self._build_support()
        h, T = self.sup, self.T
        if self.sup_rows < self.J:
            cols = self.cols[self.sup_rows:self.J]
            inv_n = 1.0 / self.n
            rows = []
            for c in cols:
                nz = np.flatnonzero(c)
                rows.append((np.concatenate([nz, [T]]),
                             np.concatenate([c[nz] * inv_n[nz], [-1.0]])))
            starts, idx, val = rows_to_csr(rows)
            m = len(rows)
            h.addRows(m, np.full(m, -INF), np.zeros(m), len(idx), starts[:-1].astype(np.int32),
                      idx.astype(np.int32), val)
            self.sup_rows = self.J
        for t in np.flatnonzero(self.fixed & ~self.sup_fixed):
            h.changeCoeff(0, int(t), -(self.fixed_value[t] - self.fix_slack))
            h.changeCoeff(1, int(t), 0.0)
            self.sup_fixed[t] = True
        U = np.flatnonzero(~self.fixed)
        delta = 1.0 / (4 * len(U))
        ub = np.where(self.fixed, 0.0, delta)
        h.changeColsBounds(T, np.arange(T + 1, 2 * T + 1, dtype=np.int32), np.zeros(T), ub)
        h.changeRowBounds(0, -INF, z + self.tol * 0.01)
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            h.clearSolver()
            h.run()
            if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                return None
        v = np.asarray(h.getSolution().col_value)
        y = np.maximum(v[:T], 0.0)
        y = y / y[U].sum()
        mu = float(v[T])
        support = U[y[U] >= delta * 0.1]
        if len(support) == 0:
            return None
        return y, mu, support

    # ---- rounds --------------------------------------------------------------------------
    def initial_columns(self) -> bool:
        """Start with panels that between them include every type that can be included:
        until then the lowest probability is 0 and column generation crawls."""
        x, _, extra = self.pricer.exact(1.0 / self.n, abs_gap=1e-3)
        if x is None:
            return False
        cols: list[Counts] = [x] + list(extra)
        covered = np.zeros(self.T, dtype=bool)
        for c in cols:
            covered |= c > 0
        for _ in range(self.T):
            if covered.all():
                break
            w = (~covered).astype(float) + 1e-3 * self.rng.random(self.T)
            x = self.pricer.local_search(w, cols[-1])
            if not np.any((x > 0) & ~covered):
                x, _, _ = self.pricer.exact(w, abs_gap=0.5)
                if x is None or not np.any((x > 0) & ~covered):
                    break  # the rest cannot sit on any panel
            cols.append(x)
            covered |= x > 0
        self.add_columns(cols)
        return True

    def heuristic_columns(self, w: Vector, mu: float, values: Vector, lam: Vector,
                          tries: int = 1, w_search: Vector | None = None) -> int:
        """Local search from the best and from random basic panels; keeps the panels that
        beat mu under w. ``w_search`` (smoothed duals) steers the search when given; the
        test is still against w, the master's own duals."""
        ws = w if w_search is None else w_search
        order = np.argsort(-values)
        starts = list(order[:tries])
        basic = np.flatnonzero(lam > 1e-12)
        if len(basic):
            starts.extend(self.rng.choice(basic, size=min(max(2, tries // 2), len(basic)),
                                          replace=False).tolist())
        found: list[NDArray[np.integer[Any]] | None] = []
        thr = mu + self.tol
        t_ls = time.perf_counter()
        starts = list(dict.fromkeys(starts))
        for j in starts:
            x = self.pricer.local_search(ws, self.cols[j].astype(np.int64))
            if float(w @ x) > thr:
                found.append(x)
        self.ls_time = (0.7 * self.ls_time
                        + 0.3 * (time.perf_counter() - t_ls) / max(1, len(starts)))
        return self.add_columns(found)

    def _tries(self) -> int:
        """Local searches per pricing round: 4, or more while a master solve costs more than
        them. On 1,400 types a wide degenerate master needs ~1,000 simplex iterations (up to
        seconds) per solve whatever the number of new panels, so more panels per solve
        is what pays."""
        if self.ls_time <= 0:
            return 4
        return int(np.clip(self.master_time / (2 * self.ls_time), 4, 24))

    def _lagrangian(self, ys: Vector, bound: float) -> float:
        """Upper bound on this round's optimum from any dual y (sum over unfixed = 1)."""
        F = self.fixed
        return bound - float((self.fixed_value[F] - self.fix_slack) @ ys[F])

    def _solve_round(self) -> RoundEnd:
        """Column generation for one round, then the types to fix.

        The LP duals y0 that end column generation are proven optimal (no panel beats them),
        so the types carrying real weight in y0 may be fixed. To fix a whole level at once we
        try a maximum-support dual first; verifying it costs a pricing IP, and when it fails
        repeatedly we settle for y0's support (the next round then starts almost solved)."""
        vtol = self.tol * 0.01  # proof tolerance for fixing types
        center = None
        target = self._target
        fb = self.frac_bound() if self.use_frac_bound and target is None else None
        if target is not None:
            center = self._target_center
        if fb is not None:
            # the fractional optimum's dual is a near-optimal dual of the full master: a
            # good centre for smoothing from the first iteration on
            center = fb[1]
        while True:
            z, y, mu, lam, values = self.solve_master()
            self._check(z)
            if target is not None and z >= target:
                return z, None, None, None, None
            if fb is not None and z >= fb[0] - vtol:
                # The master reached the fractional bound, so the bound is the round's
                # optimum (within vtol) and the fractional dual is an optimal dual of the
                # full master (weak duality: no panel beats it): no pricing IP is needed to
                # prove it, and its support may be fixed like a proven master dual's.
                yf = fb[1]
                support = np.flatnonzero(~self.fixed & (yf >= 1e-3))
                if len(support) == 0:
                    support = np.flatnonzero(~self.fixed)[[int(np.argmax(yf[~self.fixed]))]]
                self.frac_rounds += 1
                return z, fb[0] + vtol, yf, fb[0] + vtol, support
            wy = y / self.n
            # the swap heuristic pays only when an exact pricing IP costs clearly more than
            # a master LP solve (tight quotas, many types); otherwise the IP's columns are better
            # (or when the IP is slow in itself: on 1,400 types each IP call adds a panel or
            # two, the local searches several in the same time)
            if self.use_heuristic and (self.ip_time > 3.0 * self.master_time
                                       or self.ip_time > 0.1):
                # Dual smoothing: the master's duals jump between far-apart vertices late in a
                # round, and panels priced there are soon useless; searching at a point between
                # the last search point and the new duals damps that. Panels still have to beat
                # the master's own duals, and a miss there falls back to those duals.
                a = self.smoothing
                if center is not None and a > 0:
                    ys = a * center + (1 - a) * y
                    if self.heuristic_columns(wy, mu, values, lam, tries=self._tries(),
                                              w_search=ys / self.n):
                        center = ys
                        continue
                center = y
                if self.heuristic_columns(wy, mu, values, lam, tries=self._tries()):
                    continue
            t_ip = time.perf_counter()
            found, _ = self.pricer.improving(wy, mu + vtol, self.max_solutions)
            self.ip_time = 0.7 * self.ip_time + 0.3 * (time.perf_counter() - t_ip)
            if found:
                self.add_columns(found)
                continue
            # no panel beats mu + vtol: y proves the round's optimum within vtol
            break
        if target is not None:
            return z, None, None, None, None
        U = ~self.fixed
        y0, mu0, z0 = y, mu, z
        theta = max(1e-3, 0.0)
        support0 = np.flatnonzero(U & (y0 >= theta))
        if len(support0) == 0:
            support0 = np.flatnonzero(U)[[int(np.argmax(y0[U]))]]
        attempts = 0
        while attempts < self.verify_attempts:
            z = max(z0, self.solve_master()[0])
            sd = self.support_dual(z)
            if sd is None:
                break
            ys, mus, support = sd
            if len(support) <= len(support0):
                break
            w = ys / self.n
            values = self.cols[:self.J] @ w
            attempts += 1
            if self.heuristic_columns(w, mus + vtol, values, np.zeros(self.J), tries=3):
                continue
            found, _ = self.pricer.improving(w, mus + vtol, self.max_solutions)
            self.verify_ips += 1
            if not found:
                return z, mus + vtol, ys, mus, support
            if not self.add_columns(found):
                break
        return z0, mu0 + vtol, y0, mu0, support0

    def run(self, max_rounds: int | None = None,
            stop_when_positive: bool = False) -> TypeSolution:
        if not self.initial_columns():
            raise RuntimeError("no feasible panel")  # callers check feasibility first
        cert_y: Vector | None = None
        cert_bound: float | None = None
        rounds = 0
        z = 0.0
        lam = None
        levels: list[tuple[float, int]] = []
        if self.use_frac_leximin and max_rounds is None and not stop_when_positive:
            short = self._frac_shortcut()
            if short is not None:
                cert_y, cert_bound, levels = short
                rounds = len(levels)
        while not self.fixed.all():
            z, bound, ys, mus, support = self._solve_round()
            # without a target a round always ends with its bound, dual and support
            assert bound is not None and ys is not None and mus is not None
            assert support is not None
            if len(support) == 0:
                support = np.flatnonzero(~self.fixed)[np.argmax(ys[~self.fixed])].reshape(1)
            if rounds == 0:
                cert_y = ys.copy()
                cert_bound = float(max(bound, mus))
            rounds += 1
            levels.append((float(z), int(len(support))))
            self.fixed[support] = True
            self.fixed_value[support] = z
            for t in support:
                self.master.changeCoeff(int(t), 0, 0.0)
                self.master.changeRowBounds(int(t), z - self.fix_slack, INF)
            if max_rounds is not None and rounds >= max_rounds:
                break
            if stop_when_positive and z > self.tol:
                break
        if self._final is not None:
            cols, weights = self._final  # the sampled lottery
        else:
            # final distribution: the master with every round's constraints
            if self.fixed.all():
                self.master.changeColCost(0, 0.0)
            z_final, _, _, lam, _ = self.solve_master()
            keep = lam > 1e-12
            cols = self.cols[:self.J][keep]
            weights = lam[keep] / lam[keep].sum()
        type_prob = (weights @ cols) / self.n
        info = {
            "rounds": rounds,
            "iterations": self.iterations,
            "columns": int(self.J),
            "columns_pruned": int(self.pruned),
            "fixed_slack_relaxed": bool(self.slack_relaxed),
            "pricing_ips": self.pricer.ip_calls,
            "verify_ips": self.verify_ips,
            "frac_rounds": self.frac_rounds,
            "frac_leximin_fallbacks": self.frac_fallbacks,
            "face_quotas": self.face_quotas,
            "sampled_panels": self.sampled_panels,
            "sampling_lps": self.sampling_lps,
            "face_types": self.face_types,
            "pricing_ip_seconds": round(self.pricer.ip_seconds, 3),
            "types": int(self.T),
            "levels": levels,
            # > 0 would mean a round fixed a type below what it can reach (a wrong fix)
            "max_excess_over_fixed": (float(np.max(type_prob - self.fixed_value))
                                      if self.fixed.all() else None),
        }
        return TypeSolution(cols, weights, type_prob, cert_y, cert_bound, info)
