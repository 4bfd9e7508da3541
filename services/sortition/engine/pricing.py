"""Pricing: find the feasible panel (of types) with the largest total weight.

Column generation asks, for dual weights w_t per type, for a panel x maximising sum_t w_t x_t.
The exact answer is an integer program (HiGHS, solved to a proven bound) and is needed only
to prove that no improving panel exists; most improving panels are found first by a cheap
swap local search over types.
"""
from __future__ import annotations

import numpy as np

from .problem import Problem


class Pricer:
    def __init__(self, problem: Problem):
        self.p = problem
        self.h = problem.panel_ip()
        self.h.setOptionValue("mip_rel_gap", 0.0)
        self.h.setOptionValue("mip_improving_solution_save", True)
        self.T = problem.n_types
        self.A = problem.A.astype(np.float32)
        import highspy

        self.h_min = problem.panel_ip()
        self.h_min.changeObjectiveSense(highspy.ObjSense.kMinimize)
        self.h_min.setOptionValue("mip_rel_gap", 0.0)
        self.h_min.setOptionValue("mip_abs_gap", 0.0)
        self.h_min.setOptionValue("mip_improving_solution_save", True)
        self.ip_calls = 0
        self.ip_seconds = 0.0

    # ---- exact ---------------------------------------------------------------------------
    def exact(self, w: np.ndarray, abs_gap: float):
        """Return (best_x, upper_bound, extra_panels): best panel, a proven upper bound on the
        best weight, and other good panels the solver met on the way."""
        import time

        t0 = time.perf_counter()
        w = np.asarray(w, dtype=float)
        scale = float(np.max(np.abs(w))) if len(w) else 1.0
        if scale <= 0:
            scale = 1.0
        self.h.changeColsCost(self.T, np.arange(self.T, dtype=np.int32), w / scale)
        self.h.setOptionValue("mip_abs_gap", max(abs_gap / scale * 0.5, 1e-12))
        self.h.run()
        self.ip_calls += 1
        status = self.h.getModelStatus()
        import highspy

        if status != highspy.HighsModelStatus.kOptimal:
            self.ip_seconds += time.perf_counter() - t0
            if status == highspy.HighsModelStatus.kInfeasible:
                return None, -np.inf, []
            raise RuntimeError(f"pricing integer program ended with {self.h.modelStatusToString(status)}")
        x = np.rint(np.asarray(self.h.getSolution().col_value)).astype(np.int64)
        info = self.h.getInfo()
        bound = max(float(info.mip_dual_bound), float(info.objective_function_value)) * scale
        extras = []
        try:
            saved = self.h.getSavedMipSolutions()
        except Exception:  # pragma: no cover - older highspy
            saved = []
        for sol in saved:
            xs = np.rint(np.asarray(sol.col_value)).astype(np.int64)
            if self.feasible(xs):
                extras.append(xs)
        self.ip_seconds += time.perf_counter() - t0
        if not self.feasible(x):
            raise RuntimeError("pricing integer program returned an infeasible panel")
        return x, max(bound, float(w @ x)), extras

    def improving(self, w: np.ndarray, threshold: float, max_solutions: int = 0):
        """Panels x with w @ x > threshold, as a decision problem: the MIP is cut off at the
        threshold, so when none exists it proves infeasibility instead of optimising.
        Returns (panels, proven_none)."""
        import time

        import highspy

        t0 = time.perf_counter()
        w = np.asarray(w, dtype=float)
        scale = float(np.max(np.abs(w))) if len(w) else 1.0
        if scale <= 0:
            scale = 1.0
        h = self.h_min
        h.changeColsCost(self.T, np.arange(self.T, dtype=np.int32), -w / scale)
        h.setOptionValue("objective_bound", -threshold / scale)
        h.setOptionValue("mip_max_improving_sols", max_solutions if max_solutions > 0 else 2147483647)
        h.clearSolver()
        h.run()
        self.ip_calls += 1
        status = h.getModelStatus()
        found = []
        info = h.getInfo()
        if info.primal_solution_status == 2:
            cands = [np.asarray(h.getSolution().col_value)]
            try:
                cands += [np.asarray(s.col_value) for s in h.getSavedMipSolutions()]
            except Exception:  # pragma: no cover
                pass
            for c in cands:
                x = np.rint(c).astype(np.int64)
                if float(w @ x) > threshold and self.feasible(x):
                    found.append(x)
        self.ip_seconds += time.perf_counter() - t0
        proven = not found and status in (highspy.HighsModelStatus.kOptimal,
                                          highspy.HighsModelStatus.kInfeasible,
                                          highspy.HighsModelStatus.kObjectiveBound)
        if not found and not proven:
            raise RuntimeError(f"pricing integer program ended with {h.modelStatusToString(status)}")
        return found, proven

    # ---- checks ----------------------------------------------------------------------------
    def feasible(self, x: np.ndarray) -> bool:
        p = self.p
        if x.sum() != p.k or np.any(x < 0) or np.any(x > p.sizes):
            return False
        qc = p.A @ x
        if np.any(qc < p.lo - 1e-9) or np.any(qc > p.hi + 1e-9):
            return False
        for members in p.households:
            if x[members].sum() > 1:
                return False
        return True

    # ---- heuristic ----------------------------------------------------------------------
    def _pair_swap(self, w: np.ndarray, x: np.ndarray, limit: int = 300) -> bool:
        """Best improving exchange of two members for two others with the very same values
        in every category (as a multiset), so every quota count stays as it is. This is the
        move that still works when quotas are exact (min = max), where single swaps are
        nearly always blocked. Applies the move to x in place; True if one was found."""
        p = self.p
        if not hasattr(self, "_type_hash"):
            rng = np.random.default_rng(12345)
            tokens = rng.integers(1, 2**62, size=(len(p.lo) + 1,), dtype=np.int64)
            V = np.where(p.V >= 0, p.V, len(p.lo))
            self._type_hash = tokens[V].sum(axis=1, dtype=np.int64) if V.shape[1] else np.zeros(self.T, np.int64)
        hsh = self._type_hash
        room = p.sizes - x
        if self._pair_table is None:
            cand = np.flatnonzero(room > 0)
            if len(cand) > limit:
                cand = cand[np.argsort(-w[cand])[:limit]]
            if len(cand) == 0:
                return False
            S = hsh[cand][:, None] + hsh[cand][None, :]
            G = w[cand][:, None] + w[cand][None, :]
            iu = np.triu_indices(len(cand))
            ok = (iu[0] != iu[1]) | (room[cand][iu[0]] >= 2)
            sig, gain, bi, bj = S[iu][ok], G[iu][ok], cand[iu[0][ok]], cand[iu[1][ok]]
            order = np.lexsort((-gain, sig))
            sig, gain, bi, bj = sig[order], gain[order], bi[order], bj[order]
            first = np.concatenate([[True], sig[1:] != sig[:-1]])
            self._pair_table = (sig[first], gain[first], bi[first], bj[first])
        usig, ugain, ubi, ubj = self._pair_table
        inside = np.flatnonzero(x > 0)
        iu2 = np.triu_indices(len(inside))
        ok2 = (iu2[0] != iu2[1]) | (x[inside][iu2[0]] >= 2)
        ai, aj = inside[iu2[0][ok2]], inside[iu2[1][ok2]]
        psig = hsh[ai] + hsh[aj]
        pos = np.searchsorted(usig, psig)
        pos = np.minimum(pos, len(usig) - 1)
        match = usig[pos] == psig
        if not match.any():
            return False
        gains = np.where(match, ugain[pos] - (w[ai] + w[aj]), -np.inf)
        best = int(np.argmax(gains))
        if not gains[best] > 1e-12:
            return False
        b1, b2 = ubi[pos[best]], ubj[pos[best]]
        need = np.zeros(self.T, dtype=np.int64)
        np.add.at(need, [b1, b2], 1)
        np.subtract.at(need, [ai[best], aj[best]], 1)
        if np.any(x + need > p.sizes) or np.any(x + need < 0):
            # the cached table went stale for these types: rebuild once
            if self._pair_stale:
                return False
            self._pair_table, self._pair_stale = None, True
            return self._pair_swap(w, x, limit)
        self._pair_stale = False
        x[ai[best]] -= 1
        x[aj[best]] -= 1
        x[ubi[pos[best]]] += 1
        x[ubj[pos[best]]] += 1
        return True
    def local_search(self, w: np.ndarray, x: np.ndarray, max_moves: int = 400) -> np.ndarray:
        """Best-improvement single swaps (one member of type a out, one of type b in) that keep
        every quota and the household rule."""
        p = self.p
        A = self.A
        x = x.copy()
        self._pair_table, self._pair_stale = None, False
        pair_moves = 0
        w = np.asarray(w, dtype=np.float64)
        room = (x < p.sizes)
        hh = p.type_household
        has_hh = len(p.households) > 0
        hh_count = np.zeros(len(p.households), dtype=np.int64)
        if has_hh:
            np.add.at(hh_count, hh[x > 0][hh[x > 0] >= 0], x[x > 0][hh[x > 0] >= 0])
        qc = p.A.astype(np.float64) @ x
        for _ in range(max_moves):
            out_types = np.flatnonzero(x > 0)
            cand_in = np.flatnonzero(room)
            if len(cand_in) == 0:
                break
            gain = w[cand_in][None, :] - w[out_types][:, None]
            if gain.max() <= 1e-12:
                break
            # prune to pairs with positive gain before the feasibility algebra
            ok_rows = gain.max(axis=1) > 1e-12
            out_types = out_types[ok_rows]
            gain = gain[ok_rows]
            blocked_dec = (qc - 1 < p.lo - 1e-9).astype(np.float32)  # cannot lose a member
            blocked_inc = (qc + 1 > p.hi + 1e-9).astype(np.float32)  # cannot gain a member
            Aout = A[:, out_types]  # (Q, P)
            Ain = A[:, cand_in]  # (Q, M)
            bad = (Aout * blocked_dec[:, None]).T @ (1.0 - Ain)
            bad += (1.0 - Aout).T @ (Ain * blocked_inc[:, None])
            gain = np.where(bad > 0.5, -np.inf, gain)
            same = out_types[:, None] == cand_in[None, :]
            gain[same] = -np.inf
            if has_hh:
                hin = hh[cand_in]
                hout = hh[out_types]
                occupied = (hin >= 0) & (hh_count[np.maximum(hin, 0)] > 0)
                conflict = occupied[None, :] & (hin[None, :] != hout[:, None])
                gain[conflict] = -np.inf
            flat = int(np.argmax(gain))
            a_i, b_i = divmod(flat, gain.shape[1])
            if not gain[a_i, b_i] > 1e-12:
                pair_moves += 1
                if has_hh or pair_moves > 60 or not self._pair_swap(w, x):
                    break
                qc = p.A.astype(np.float64) @ x
                room = (x < p.sizes)
                continue
            a = out_types[a_i]
            b = cand_in[b_i]
            x[a] -= 1
            x[b] += 1
            qc += p.A[:, b] - p.A[:, a]
            room[a] = x[a] < p.sizes[a]
            room[b] = x[b] < p.sizes[b]
            if has_hh:
                if hh[a] >= 0:
                    hh_count[hh[a]] -= 1
                if hh[b] >= 0:
                    hh_count[hh[b]] += 1
        return x
