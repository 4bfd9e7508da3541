"""Pricing: find the feasible panel (of types) with the largest total weight.

Column generation asks, for dual weights w_t per type, for a panel x maximising sum_t w_t x_t.
The exact answer is an integer program (HiGHS, solved to a proven bound) and is needed only
to prove that no improving panel exists; most improving panels are found first by a cheap
swap local search over types.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from .problem import Problem

# A panel as counts per type.
Counts = NDArray[np.int64]
# The pair index of a weight vector: (signature, gain, first type, second type) per pair.
PairIndex = tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.intp], NDArray[np.intp]]


class Pricer:
    """Pricing over the panels of ``problem``; ``floor`` (per type) is a count every panel
    keeps (the face of the leximin point, where some types sit on every panel in full)."""

    def __init__(self, problem: Problem, floor: NDArray[np.integer[Any]] | None = None) -> None:
        self.p = problem
        self.floor = (np.zeros(problem.n_types, dtype=np.int64) if floor is None
                      else np.asarray(floor, np.int64))
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
        if self.floor.any():
            pinned = np.flatnonzero(self.floor > 0).astype(np.int32)
            for h in (self.h, self.h_min):
                h.changeColsBounds(len(pinned), pinned, self.floor[pinned].astype(float),
                                   problem.sizes[pinned].astype(float))
        self.ip_calls = 0
        self.ip_seconds = 0.0
        self._type_hash: NDArray[np.int64] | None = None
        # the weight vector the pair index was built for
        self._pair_w: NDArray[np.float64] | None = None
        self._pair_idx: PairIndex | None = None
        self._triu_cache: dict[int, tuple[NDArray[np.intp], NDArray[np.intp]]] = {}

    # ---- exact ---------------------------------------------------------------------------
    def exact(self, w: NDArray[np.float64], abs_gap: float,
              ) -> tuple[Counts | None, float, list[Counts]]:
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
            raise RuntimeError("pricing integer program ended with "
                               f"{self.h.modelStatusToString(status)}")
        x = np.rint(np.asarray(self.h.getSolution().col_value)).astype(np.int64)
        info = self.h.getInfo()
        bound = max(float(info.mip_dual_bound), float(info.objective_function_value)) * scale
        extras: list[Counts] = []
        try:
            saved = self.h.getSavedMipSolutions()
        except Exception:  # noqa: BLE001 - older highspy has no saved solutions
            saved = []
        for sol in saved:
            xs = np.rint(np.asarray(sol.col_value)).astype(np.int64)
            if self.feasible(xs):
                extras.append(xs)
        self.ip_seconds += time.perf_counter() - t0
        if not self.feasible(x):
            raise RuntimeError("pricing integer program returned an infeasible panel")
        return x, max(bound, float(w @ x)), extras

    def improving(self, w: NDArray[np.float64], threshold: float,
                  max_solutions: int = 0) -> tuple[list[Counts], bool]:
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
        h.setOptionValue("mip_max_improving_sols",
                         max_solutions if max_solutions > 0 else 2147483647)
        h.clearSolver()
        h.run()
        self.ip_calls += 1
        status = h.getModelStatus()
        found: list[Counts] = []
        info = h.getInfo()
        if info.primal_solution_status == 2:
            cands = [np.asarray(h.getSolution().col_value)]
            try:
                cands += [np.asarray(s.col_value) for s in h.getSavedMipSolutions()]
            except Exception:  # noqa: BLE001 - older highspy has no saved solutions
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
            raise RuntimeError("pricing integer program ended with "
                               f"{h.modelStatusToString(status)}")
        return found, proven

    # ---- checks ----------------------------------------------------------------------------
    def feasible(self, x: Counts) -> bool:
        p = self.p
        if x.sum() != p.k or np.any(x < self.floor) or np.any(x > p.sizes):
            return False
        qc = p.A @ x
        if np.any(qc < p.lo - 1e-9) or np.any(qc > p.hi + 1e-9):
            return False
        for members in p.households:
            if x[members].sum() > 1:
                return False
        return True

    # ---- heuristic ----------------------------------------------------------------------
    def _pair_index(self, w: NDArray[np.float64], limit: int = 300) -> PairIndex:
        """All pairs of types (among the ``limit`` heaviest) that could enter a panel together,
        sorted by signature and then by falling weight. Built once per weight vector and
        shared by every local search on it: rebuilding it per search cost more than the
        searches themselves. Room in the panel is checked when a pair is used."""
        if self._pair_w is not None and self._pair_w is w and self._pair_idx is not None:
            return self._pair_idx
        p = self.p
        hsh = self._type_hashes()
        cand = np.flatnonzero(p.sizes > 0)
        if len(cand) > limit:
            cand = cand[np.argsort(-w[cand], kind="stable")[:limit]]
        iu = np.triu_indices(len(cand))
        ok = (iu[0] != iu[1]) | (p.sizes[cand][iu[0]] >= 2)
        bi, bj = cand[iu[0][ok]], cand[iu[1][ok]]
        sig = hsh[bi] + hsh[bj]
        gain = w[bi] + w[bj]
        order = np.lexsort((-gain, sig))
        self._pair_w = w
        self._pair_idx = (sig[order], gain[order], bi[order], bj[order])
        return self._pair_idx

    def _type_hashes(self) -> NDArray[np.int64]:
        """A random signature per type: equal for two pairs of types exactly when the pairs
        hold the same values in every category (as a multiset). Built once."""
        if self._type_hash is None:
            p = self.p
            rng = np.random.default_rng(12345)
            tokens = rng.integers(1, 2**62, size=(len(p.lo) + 1,), dtype=np.int64)
            V = np.where(p.V >= 0, p.V, len(p.lo))
            self._type_hash = (tokens[V].sum(axis=1, dtype=np.int64) if V.shape[1]
                               else np.zeros(self.T, np.int64))
        return self._type_hash

    def _triu(self, m: int) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
        tri = self._triu_cache.get(m)
        if tri is None:
            tri = self._triu_cache[m] = np.triu_indices(m)
        return tri

    def _pair_swap(self, w: NDArray[np.float64], x: Counts, depth: int = 4) -> bool:
        """Best improving exchange of two members for two others with the very same values
        in every category (as a multiset), so every quota count stays as it is. This is the
        move that still works when quotas are exact (min = max), where single swaps are
        nearly always blocked. Applies the move to x in place; True if one was found.
        For each pair inside the panel only the ``depth`` best outside pairs with its
        signature are looked at (the best ones may lack room in this panel)."""
        p = self.p
        usig, ugain, ubi, ubj = self._pair_index(w)
        if len(usig) == 0:
            return False
        hsh = self._type_hashes()
        spare = x - self.floor  # members that may leave
        inside = np.flatnonzero(spare > 0)
        iu2 = self._triu(len(inside))
        ok2 = (iu2[0] != iu2[1]) | (spare[inside][iu2[0]] >= 2)
        ai, aj = inside[iu2[0][ok2]], inside[iu2[1][ok2]]
        psig = hsh[ai] + hsh[aj]
        pos0 = np.searchsorted(usig, psig)
        room = p.sizes - x
        best_gain, best_move = 1e-12, None
        for r in range(depth):
            pos = np.minimum(pos0 + r, len(usig) - 1)
            b1, b2 = ubi[pos], ubj[pos]
            valid = (usig[pos] == psig) & (pos0 + r < len(usig))
            # room for the incoming pair (ignoring what the outgoing pair frees: conservative)
            valid &= np.where(b1 == b2, room[b1] >= 2, (room[b1] >= 1) & (room[b2] >= 1))
            if not valid.any():
                if not (usig[np.minimum(pos0 + r, len(usig) - 1)] == psig).any():
                    break
                continue
            gains = np.where(valid, ugain[pos] - (w[ai] + w[aj]), -np.inf)
            i = int(np.argmax(gains))
            if gains[i] > best_gain:
                best_gain, best_move = gains[i], (ai[i], aj[i], b1[i], b2[i])
        if best_move is None:
            return False
        a1, a2, b1, b2 = best_move
        x[a1] -= 1
        x[a2] -= 1
        x[b1] += 1
        x[b2] += 1
        return True

    def local_search(self, w: NDArray[np.float64], x: Counts,
                     max_moves: int = 400, top: int = 96) -> Counts:
        """Best-improvement single swaps (one member of type a out, one of type b in) that keep
        every quota and the household rule."""
        p = self.p
        A = self.A
        x = x.copy()
        pair_moves = 0
        w = np.asarray(w, dtype=np.float64)
        room = (x < p.sizes)
        hh = p.type_household
        has_hh = len(p.households) > 0
        hh_count = np.zeros(len(p.households), dtype=np.int64)
        if has_hh:
            np.add.at(hh_count, hh[x > 0][hh[x > 0] >= 0], x[x > 0][hh[x > 0] >= 0])
        qc = p.A.astype(np.float64) @ x
        wide = False
        for _ in range(max_moves):
            out_types = np.flatnonzero(x > self.floor)
            if len(out_types) == 0:
                break
            # only types heavier than the lightest member can gain: on large pools most dual
            # weights are zero, and this cuts the (members x candidates) algebra below
            cand_all = np.flatnonzero(room & (w > w[out_types].min() + 1e-12))
            if len(cand_all) == 0:
                break  # then no exchange of two can gain either
            # On large pools (1,400+ types) the feasibility algebra over every candidate cost
            # ~1 ms a move and dominated column generation; the best swap nearly always
            # brings in one of the heaviest types, so look at those first and at the rest
            # only when none of them fits.
            if len(cand_all) > top and not wide:
                cand_in = cand_all[np.argpartition(-w[cand_all], top)[:top]]
            else:
                cand_in = cand_all
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
                if len(cand_in) < len(cand_all):
                    wide = True
                    continue
                pair_moves += 1
                if has_hh or pair_moves > 60 or not self._pair_swap(w, x):
                    break
                qc = p.A.astype(np.float64) @ x
                room = (x < p.sizes)
                wide = False
                continue
            wide = False
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
