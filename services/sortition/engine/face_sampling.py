"""Random panels on the face of the fractional leximin point, for leximin in one LP.

When the fractional leximin's expected counts x = n v are reachable by a lottery, that
lottery uses only panels of the smallest face of the panel polytope that holds x (see
``ColumnGeneration._enter_face``), and x lies in that face's relative interior. A cloud of
random face panels whose average is x therefore surrounds x: with a few times as many panels
as the face has dimensions, x is in their convex hull (for symmetric clouds this is Wendel's
theorem, 1962) and a single LP over them finds the lottery. On a national pool (1,400 types)
that replaces hundreds of column generation iterations, each a degenerate master LP.

Panels are drawn by systematic sampling of x along a random nested order of the categories
(so one category's counts come out exact and the others nearly so), m panels per order at
offsets spread evenly over [0, 1) so that together they hit every type about m x_t times,
and then repaired to the face's quotas by the swaps that remove the most violation, picked at
random among equals so that repair does not tilt the cloud.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from .problem import Problem


class FaceSampler:
    def __init__(self, face: Problem, floor: NDArray[np.integer[Any]],
                 xbar: NDArray[np.float64], rng: np.random.Generator) -> None:
        self.p = face
        self.floor = np.asarray(floor, dtype=np.int64)
        self.sizes = face.sizes.astype(np.int64)
        self.xbar = np.asarray(xbar, dtype=np.float64)
        self.rng = rng
        self.A = face.A.astype(np.float32)  # (Q, T)
        self.AT = np.ascontiguousarray(self.A.T)  # (T, Q)
        self.lo = face.lo.astype(np.float32)
        self.hi = face.hi.astype(np.float32)
        self.k = int(face.k)
        self.repairs = 0
        self.rejected = 0

    def _order(self) -> NDArray[np.intp]:
        C = self.p.V.shape[1]
        cats = self.rng.permutation(C)
        keys = [self.rng.random(len(self.xbar))] + [self.p.V[:, c] for c in cats]
        return np.lexsort(keys)  # the last key sorts first

    def batch(self, m: int) -> list[NDArray[np.int64]]:
        """m face panels sharing one random order, at offsets (u + j) / m."""
        order = self._order()
        cum = np.cumsum(self.xbar[order])
        cum *= self.k / cum[-1]  # round-off must not drop the last seat
        T = len(order)
        offsets = (self.rng.random() + np.arange(m)) / m
        pts = offsets[:, None] + np.arange(self.k)[None, :]  # (m, k)
        pos = np.minimum(np.searchsorted(cum, pts, side="right"), T - 1)
        out = []
        for j in range(m):
            x = self._repair(np.bincount(order[pos[j]], minlength=T).astype(np.int64))
            if x is not None:
                out.append(x)
        return out

    def _fix_count(self, x: NDArray[np.int64]) -> NDArray[np.int64]:
        """Keep every type within [floor, size] and the seat count at k (round-off at the
        ends of the sampling line can break either)."""
        x = np.clip(x, self.floor, self.sizes)
        diff = int(x.sum()) - self.k
        while diff > 0:
            cand = np.flatnonzero(x > self.floor)
            t = cand[self.rng.integers(len(cand))]
            x[t] -= 1
            diff -= 1
        while diff < 0:
            cand = np.flatnonzero(x < self.sizes)
            wts = self.xbar[cand] + 1e-12
            t = cand[self.rng.choice(len(cand), p=wts / wts.sum())]
            x[t] += 1
            diff += 1
        return x

    def _violation(self, c: NDArray[np.float32]) -> NDArray[np.float32]:
        violation: NDArray[np.float32] = np.maximum(c - self.hi, 0) + np.maximum(self.lo - c, 0)
        return violation

    def _repair(self, x: NDArray[np.int64], max_steps: int = 200) -> NDArray[np.int64] | None:
        """Swaps (one member out, one in) that reduce the total quota violation most, chosen
        at random among the best; None if it gets stuck (the caller draws another)."""
        x = self._fix_count(x)
        AT = self.AT
        for _ in range(max_steps):
            qc = AT.T @ x.astype(np.float32)
            v0 = self._violation(qc)
            if not v0.any():
                return x
            self.repairs += 1
            D1 = self._violation(qc - 1) - v0  # change if a member with this value leaves
            D2 = self._violation(qc + 1) - v0  # ... or joins
            # only a swap that takes someone out of an over-full quota or brings someone into
            # an under-full one can reduce the violation
            out = np.flatnonzero(x > self.floor)
            inn = np.flatnonzero(x < self.sizes)
            excess = qc > self.hi
            deficit = qc < self.lo
            out_useful = (AT[out] @ excess.astype(np.float32)) > 0
            inn_useful = (AT[inn] @ deficit.astype(np.float32)) > 0
            best: tuple[float, list[tuple[NDArray[np.intp], NDArray[np.intp],
                                          NDArray[np.float32]]]] | None = None
            for o, i in ((out[out_useful], inn), (out, inn[inn_useful])):
                if len(o) == 0 or len(i) == 0:
                    continue
                a = AT[o] @ D1
                b = AT[i] @ D2
                # a value shared by both members does not change its count
                delta = a[:, None] + b[None, :] - (AT[o] * (D1 + D2)) @ AT[i].T
                delta[o[:, None] == i[None, :]] = np.inf
                mval = float(delta.min())
                if best is None or mval < best[0] - 1e-6:
                    best = (mval, [(o, i, delta)])
                elif mval <= best[0] + 1e-6:
                    best[1].append((o, i, delta))
            if best is None or best[0] >= -1e-6:
                self.rejected += 1
                return None
            moves: list[tuple[np.intp, np.intp]] = []
            for o, i, delta in best[1]:
                ai, bi = np.nonzero(delta <= best[0] + 1e-6)
                moves.extend(zip(o[ai], i[bi], strict=True))
            leaving, joining = moves[self.rng.integers(len(moves))]
            x[leaving] -= 1
            x[joining] += 1
        self.rejected += 1
        return None
