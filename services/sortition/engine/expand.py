"""Turn a lottery over panels of *types* into a lottery over panels of *people*.

The type-level lottery is laid out on a time line [0, 1): panel j occupies an interval of
length equal to its weight. For each type t independently we decide, at every moment s,
which c_t(s) members sit, such that every member sits for exactly pi_t of the time
(McNaughton's wrap-around rule: the members are laid along the concatenated "slot" tapes,
each member owning a stretch of length pi_t). If a member would sit twice at the same moment
(possible when a high count occurs only briefly), that type falls back to systematic
rotation inside each panel (member m sits during [frac(m c/n), frac(m c/n) + c/n) of the
panel's interval), which is always valid. Cutting the time line at every change gives
concrete panels; every member of a type gets exactly the same probability.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from .model import Panel

_EPS = 1e-13


# (start, end, member) of every stretch a type's members sit, on the lottery's time line.
Stretches = tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]


def _mcnaughton(c: NDArray[Any], starts: NDArray[np.float64], w: NDArray[np.float64],
                n_t: int) -> Stretches | None:
    total = float(w @ c)
    if total <= 0:
        return np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.int64)
    pi = total / n_t
    cmax = int(c.max())
    seg_piece = np.concatenate([np.flatnonzero(c > i) for i in range(cmax)])
    seg_len = w[seg_piece]
    seg_tape0 = np.concatenate([[0.0], np.cumsum(seg_len)[:-1]])
    points = np.unique(np.concatenate([seg_tape0, [total], np.arange(1, n_t) * pi]))
    a, b = points[:-1], points[1:]
    keep = (b - a) > _EPS
    a, b = a[keep], b[keep]
    mid = 0.5 * (a + b)
    seg = np.searchsorted(seg_tape0, mid, side="right") - 1
    member = np.minimum((mid / pi).astype(np.int64), n_t - 1)
    t0 = starts[seg_piece[seg]] + (a - seg_tape0[seg])
    t1 = starts[seg_piece[seg]] + (b - seg_tape0[seg])
    # a member must never hold two seats at once
    order = np.lexsort((t0, member))
    m_s, t0_s, t1_s = member[order], t0[order], t1[order]
    same = m_s[1:] == m_s[:-1]
    if np.any(same & (t0_s[1:] < t1_s[:-1] - 1e-12)):
        return None
    return t0, t1, member


def _rotation(c: NDArray[Any], starts: NDArray[np.float64], w: NDArray[np.float64],
              n_t: int) -> Stretches:
    t0s: list[NDArray[np.float64]] = []
    t1s: list[NDArray[np.float64]] = []
    ms: list[NDArray[np.int64]] = []
    m = np.arange(n_t)
    for j in np.flatnonzero(c):
        frac = c[j] / n_t
        u0 = np.mod(m * frac, 1.0)
        u1 = u0 + frac
        wrap = u1 > 1.0 + 1e-15
        # part inside [u0, min(u1,1)) and, when wrapping, [0, u1-1)
        t0s.append(starts[j] + w[j] * u0)
        t1s.append(starts[j] + w[j] * np.minimum(u1, 1.0))
        ms.append(m)
        if np.any(wrap):
            t0s.append(np.full(int(wrap.sum()), starts[j]))
            t1s.append(starts[j] + w[j] * (u1[wrap] - 1.0))
            ms.append(m[wrap])
    if not t0s:
        return np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.int64)
    return np.concatenate(t0s), np.concatenate(t1s), np.concatenate(ms)


def expand(columns: NDArray[Any], weights: NDArray[np.float64],
           type_members: list[NDArray[np.int64]], seated: NDArray[np.int64],
           ) -> tuple[list[Panel], NDArray[np.float64]]:
    """Return (panels, weights) over people; panels are sorted tuples of person indices."""
    J, T = columns.shape
    w = np.asarray(weights, dtype=np.float64)
    starts = np.concatenate([[0.0], np.cumsum(w)[:-1]])
    all_t0: list[NDArray[np.float64]] = []
    all_t1: list[NDArray[np.float64]] = []
    all_person: list[NDArray[np.int64]] = []
    for t in range(T):
        c = columns[:, t]
        if not c.any():
            continue
        members = type_members[t]
        n_t = len(members)
        res = _mcnaughton(c, starts, w, n_t)
        if res is None:
            res = _rotation(c, starts, w, n_t)
        t0, t1, m = res
        all_t0.append(t0)
        all_t1.append(t1)
        all_person.append(members[m])
    t0 = np.concatenate(all_t0) if all_t0 else np.zeros(0)
    t1 = np.concatenate(all_t1) if all_t1 else np.zeros(0)
    person = np.concatenate(all_person) if all_person else np.zeros(0, dtype=np.int64)
    cuts = np.unique(np.concatenate([starts, [1.0], t0, t1]))
    cuts = cuts[(cuts >= 0) & (cuts <= 1.0)]
    a, b = cuts[:-1], cuts[1:]
    good = (b - a) > 1e-12
    a, b = a[good], b[good]
    mids = 0.5 * (a + b)
    lo = np.searchsorted(mids, t0)
    hi = np.searchsorted(mids, t1)
    lengths = np.maximum(hi - lo, 0)
    total = int(lengths.sum())
    offsets = np.repeat(np.cumsum(lengths) - lengths, lengths)
    e_idx = np.repeat(lo, lengths) + (np.arange(total) - offsets)
    p_idx = np.repeat(person, lengths)
    order = np.lexsort((p_idx, e_idx))
    e_idx, p_idx = e_idx[order], p_idx[order]
    bounds = np.searchsorted(e_idx, np.arange(len(mids) + 1))
    seated_t = tuple(int(i) for i in seated)
    merged: dict[tuple[int, ...], float] = {}
    lengths_e = b - a
    for e in range(len(mids)):
        on_panel: list[int] = p_idx[bounds[e]:bounds[e + 1]].tolist()
        if seated_t:
            on_panel = sorted(on_panel + list(seated_t))
        key = tuple(on_panel)
        merged[key] = merged.get(key, 0.0) + float(lengths_e[e])
    panels = list(merged.keys())
    pw = np.array([merged[k] for k in panels])
    pw = pw / pw.sum()
    return panels, pw
