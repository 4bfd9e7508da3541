"""The lottery LP over a fixed set of panels, by a dense primal-dual interior point method.

    max z  s.t.  sum_j lam_j c_j / n >= z v,  sum_j lam_j = 1,  lam >= 0, z >= 0

for a few thousand panels c_j over a thousand or more types. HiGHS's simplex stalls on this
LP (it is dense, and at z = 1 massively degenerate) and its interior point solver, which
solves the normal equations iteratively, stops imprecise; here the normal equations are
formed densely with BLAS and factored by Cholesky, about a second per iteration for 6,000
panels over 1,400 types. The solution is interior: every panel that can carry weight in
some optimal lottery carries some, which is what decomposing a point needs.

Mehrotra's predictor-corrector in standard form min c'u, Bu = b, u >= 0 with
u = (lam, s, z), B = [[C'/n, -I, -v], [1', 0, 0]], b = (0, 1), c = (0, 0, -1).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.linalg import LinAlgError, cho_factor, cho_solve

log = logging.getLogger(__name__)

Vector = NDArray[np.float64]
# A step direction: (lam, s, z, y, and the duals of lam, s and z).
Direction = tuple[Vector, Vector, float, Vector, Vector, Vector, float]


@dataclass
class LotteryLP:
    z: float  # the best z found (from the cleaned weights)
    weights: Vector  # (J,) >= 0, sum 1
    # (T,) >= 0 type duals, sum_t y_t v_t = 1 (the hyperplane cutting v off if z < 1)
    duals: Vector
    iterations: int
    converged: bool


def solve_lottery_lp(cols: NDArray[np.integer[Any]], n: Vector, v: Vector, *,
                     target: float = 1.0, max_iterations: int = 60, tol: float = 1e-9,
                     on_iteration: Callable[[float], None] | None = None) -> LotteryLP:
    """Maximise z over lotteries of ``cols`` (J, T) with p >= z v. Stops as soon as the cleaned
    weights reach ``target`` (no need to polish further), or at convergence.
    ``on_iteration(z)`` hears the best z so far after each iteration (and may raise to stop)."""
    C = np.asarray(cols, dtype=np.float64)
    J, T = C.shape
    M = np.ascontiguousarray((C / n).T)  # (T, J): probabilities per unit weight
    v = np.asarray(v, dtype=np.float64)

    def Bu(lam: Vector, s: Vector, z: float) -> Vector:
        return np.concatenate([M @ lam - s - v * z, [lam.sum()]])

    def BTy(y: Vector) -> tuple[Vector, Vector, float]:
        yt, yc = y[:T], y[T]
        return M.T @ yt + yc, -yt, -float(v @ yt)

    b = np.zeros(T + 1)
    b[T] = 1.0
    # start: uniform lottery, z at half its level, slacks of the size of the probabilities
    lam = np.full(J, 1.0 / J)
    z = 0.5 * float(np.min((M @ lam)[v > 0] / v[v > 0])) if np.any(v > 0) else 0.5
    z = max(z, 1e-3)
    s = np.maximum(M @ lam - v * z, 0.0) + 1e-2 * (v + 1e-3)
    y = np.zeros(T + 1)
    wl = np.ones(J)
    ws = np.ones(T)
    wz = 1.0
    best: tuple[float, Vector] | None = None
    it = 0
    converged = False
    for it in range(1, max_iterations + 1):
        # residuals
        rp = b - Bu(lam, s, z)
        gl, gs, gz = BTy(y)
        rdl = 0.0 - gl - wl
        rds = 0.0 - gs - ws
        rdz = -1.0 - gz - wz
        mu = (lam @ wl + s @ ws + z * wz) / (J + T + 1)
        # the current weights, cleaned: does this lottery already do?
        lc = np.maximum(lam, 0.0)
        lc /= lc.sum()
        p = M @ lc
        pos = v > 0
        zc = float(np.min(p[pos] / v[pos])) if pos.any() else 1.0
        if best is None or zc > best[0]:
            best = (zc, lc)
        if on_iteration is not None:
            on_iteration(best[0])
        if zc >= target:
            converged = True
            break
        pinf = np.linalg.norm(rp) / (1.0 + np.linalg.norm(b))
        dinf = max(np.abs(rdl).max(), np.abs(rds).max(), abs(rdz))
        # complementarity left, relative to z: past ~1e-9 the iterates only trade
        # complementarity for round-off in the primal residual
        gap = mu * (J + T + 1) / max(1.0, abs(z))
        log.debug("iteration %d: z %.10f (cleaned %.10f), primal %.1e, dual %.1e, mu %.1e",
                  it, z, zc, pinf, dinf, mu)
        if pinf < tol and dinf < tol and gap < tol:
            converged = True
            break
        dl = lam / wl
        ds = s / ws
        dz = z / wz
        # normal equations B D B'
        N = np.empty((T + 1, T + 1))
        N[:T, :T] = (M * dl) @ M.T
        N[np.diag_indices(T)] += ds
        N[:T, :T] += dz * np.outer(v, v)
        md = M @ dl
        N[:T, T] = md
        N[T, :T] = md
        N[T, T] = dl.sum()
        reg = 1e-14 * max(1.0, float(np.trace(N)) / (T + 1))
        N[np.diag_indices(T + 1)] += reg
        try:
            factor = cho_factor(N, lower=True, check_finite=False)
        except LinAlgError:
            N[np.diag_indices(T + 1)] += 1e-8 * max(1.0, float(np.trace(N)) / (T + 1))
            try:
                factor = cho_factor(N, lower=True, check_finite=False)
            except LinAlgError:
                break

        step = _Step(factor, Bu, BTy, rp, dl, ds, dz, wl, ws, wz, rdl, rds, rdz)
        # predictor
        aff = step.direction(-lam * wl, -s * ws, -z * wz)
        ap = min(_step(lam, aff[0]), _step(s, aff[1]), _step(np.array([z]), np.array([aff[2]])))
        ad = min(_step(wl, aff[4]), _step(ws, aff[5]), _step(np.array([wz]), np.array([aff[6]])))
        mu_aff = ((lam + ap * aff[0]) @ (wl + ad * aff[4]) + (s + ap * aff[1]) @ (ws + ad * aff[5])
                  + (z + ap * aff[2]) * (wz + ad * aff[6])) / (J + T + 1)
        sigma = (mu_aff / mu) ** 3 if mu > 0 else 0.0
        # corrector
        d = step.direction(sigma * mu - lam * wl - aff[0] * aff[4],
                      sigma * mu - s * ws - aff[1] * aff[5],
                      sigma * mu - z * wz - aff[2] * aff[6])
        ap = 0.995 * min(_step(lam, d[0]), _step(s, d[1]), _step(np.array([z]), np.array([d[2]])))
        ad = 0.995 * min(_step(wl, d[4]), _step(ws, d[5]), _step(np.array([wz]), np.array([d[6]])))
        lam = lam + ap * d[0]
        s = s + ap * d[1]
        z = z + ap * d[2]
        y = y + ad * d[3]
        wl = wl + ad * d[4]
        ws = ws + ad * d[5]
        wz = wz + ad * d[6]
    # the type rows' duals: prices, >= 0 at optimum (v'y >= 1 is the z column's dual row)
    yt = y[:T]
    yt = np.maximum(yt, 0.0)
    scale = float(yt @ v)
    duals = yt / scale if scale > 0 else yt
    zc, lc = best if best is not None else (0.0, np.full(J, 1.0 / J))
    return LotteryLP(z=zc, weights=lc, duals=duals, iterations=it, converged=converged)


@dataclass(frozen=True)
class _Step:
    """One iteration's factored normal equations with the iterate's scalings (d = u / w)
    and dual residuals: the predictor and the corrector directions both solve with them."""

    factor: tuple[Any, bool]
    Bu: Callable[[Vector, Vector, float], Vector]
    BTy: Callable[[Vector], tuple[Vector, Vector, float]]
    rp: Vector
    dl: Vector
    ds: Vector
    dz: float
    wl: Vector
    ws: Vector
    wz: float
    rdl: Vector
    rds: Vector
    rdz: float

    def solve(self, rhs: Vector) -> Vector:
        solved: Vector = cho_solve(self.factor, rhs, check_finite=False)
        return solved

    def direction(self, rcl: Vector, rcs: Vector, rcz: float) -> Direction:
        # r = rp - B W^-1 rc + B D rd
        tl = rcl / self.wl - self.dl * self.rdl
        ts = rcs / self.ws - self.ds * self.rds
        tz = rcz / self.wz - self.dz * self.rdz
        rhs = self.rp - self.Bu(tl, ts, tz)
        dy = self.solve(rhs)
        gl_, gs_, gz_ = self.BTy(dy)
        dlam = tl + self.dl * gl_
        dsv = ts + self.ds * gs_
        dzv = tz + self.dz * gz_
        dwl = self.rdl - gl_
        dws = self.rds - gs_
        dwz = self.rdz - gz_
        return dlam, dsv, dzv, dy, dwl, dws, dwz


def _step(x: Vector, dx: Vector) -> float:
    """The longest step in [0, 1] along dx that keeps x >= 0."""
    neg = dx < 0
    if not np.any(neg):
        return 1.0
    return float(min(1.0, np.min(-x[neg] / dx[neg])))


def basic_lottery(cols: NDArray[np.integer[Any]], weights: Vector, n: Vector, *,
                  refactor_every: int = 200,
                  ) -> tuple[NDArray[np.integer[Any]], Vector] | None:
    """The same probabilities from at most rank + 1 of the panels (Caratheodory).

    An interior point solution spreads weight over every panel that can carry some, several
    thousand on a national pool; each becomes ~100 person-level panels when types are
    expanded into people. Here, with a basis of linearly independent panels, every other
    panel's weight is moved onto the basis (a_j = B u) until it or a basic panel reaches zero
    (a simplex pivot without objective), so each step removes one panel. Returns (cols,
    weights), or None if round-off would move a probability by over 1e-12."""
    from scipy.linalg import qr

    C = np.asarray(cols, dtype=np.float64)
    lam = np.asarray(weights, dtype=np.float64).copy()
    J, T = C.shape
    M = np.vstack([(C / n).T, np.ones((1, J))])  # (T+1, J)
    p0 = M @ lam
    _, R, piv = qr(M, pivoting=True, mode="economic", check_finite=False)
    d = np.abs(np.diag(R))
    r = int((d > d[0] * 1e-10).sum()) if len(d) else 0
    if r == 0 or J <= r:
        return cols, weights
    basis = list(piv[:r])
    # r independent rows of the basis columns: the other rows follow from them
    _, _, rpiv = qr(M[:, basis].T, pivoting=True, mode="economic", check_finite=False)
    rows = np.sort(rpiv[:r])
    Mr = M[rows]
    Binv = np.linalg.inv(Mr[:, basis])
    in_basis = np.zeros(J, dtype=bool)
    in_basis[basis] = True
    pos_of = {j: i for i, j in enumerate(basis)}
    updates = 0
    for j in np.flatnonzero(~in_basis):
        if lam[j] <= 0:
            lam[j] = 0.0
            continue
        a = Mr[:, j]
        nz = np.flatnonzero(a)
        u = Binv[:, nz] @ a[nz]
        lb = lam[basis]
        neg = u < -1e-14
        # moving theta of weight from j onto the basis changes basic weights by +theta u
        theta, leave = lam[j], -1
        if neg.any():
            ratios = lb[neg] / -u[neg]
            k = int(np.argmin(ratios))
            if ratios[k] < theta:
                theta, leave = float(ratios[k]), int(np.flatnonzero(neg)[k])
        lam[basis] = np.maximum(lb + theta * u, 0.0)
        lam[j] -= theta
        if leave < 0:
            lam[j] = 0.0
            continue
        # column j replaces basic column `leave` (which is now at zero)
        out = basis[leave]
        lam[out] = 0.0
        in_basis[out] = False
        in_basis[j] = True
        basis[leave] = j
        pos_of.pop(out, None)
        pos_of[j] = leave
        updates += 1
        if updates % refactor_every == 0:
            Binv = np.linalg.inv(Mr[:, basis])
        else:
            # product-form update of the inverse for the replaced column
            piv_row = Binv[leave] / u[leave]
            Binv -= np.outer(u, piv_row)
            Binv[leave] = piv_row
    keep = lam > 0
    lam_k = lam[keep] / lam[keep].sum()
    if np.abs(M[:, keep] @ lam_k - p0).max() > 1e-12:
        return None
    return cols[keep], lam_k
