"""LEGACY: the greedy procedure panels were drawn with before 2020, estimated by sampling.

One run: while seats are open, take the quota that is furthest from its minimum relative to
the candidates still able to fill it (needed / available, largest first), seat a uniformly
random candidate having that value (a uniformly random candidate once every minimum is met),
then drop candidates who would break a maximum (and, with the household rule, the new
member's household). A run that can no longer meet some minimum is thrown away and
restarted. The distribution is the empirical one over ``runs`` successful runs, so selection
probabilities are estimates; with a ``seed`` everything is reproducible.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from .model import Panel, Progress, ShouldStop
from .problem import Problem, SolveCancelled


def legacy_panels(problem: Problem, *, seed: int | None = None, runs: int = 2000,
                  max_attempts: int | None = None, progress: Progress | None = None,
                  should_stop: ShouldStop | None = None,
                  ) -> tuple[list[Panel], NDArray[np.float64], dict[str, Any]]:
    rng = np.random.default_rng(seed)
    inst = problem.instance
    people = [int(i) for members in problem.type_members for i in members]
    people.sort()
    ptype = problem.person_type()
    # membership of each candidate in quotas (through its type)
    A = problem.A.astype(bool)
    cand = np.array(people, dtype=np.int64)
    M = A[:, ptype[cand]]  # (Q, N) quota membership per candidate
    hh = np.array([hash(inst.people[i].household)
                   if (inst.one_per_household and inst.people[i].household)
                   else -1 - j for j, i in enumerate(cand)], dtype=np.int64)
    lo, hi = problem.lo, problem.hi
    k = problem.k
    seated = [int(i) for i in problem.seated]
    counts: dict[tuple[int, ...], int] = {}
    attempts = 0
    failures = 0
    max_attempts = max_attempts or runs * 50
    done = 0
    while done < runs and attempts < max_attempts:
        attempts += 1
        if should_stop is not None and attempts % 50 == 0 and should_stop():
            raise SolveCancelled(f"legacy cancelled after {attempts} runs")
        panel = _one_run(rng, M, hh, lo, hi, k)
        if panel is None:
            failures += 1
            continue
        key = tuple(sorted([int(cand[j]) for j in panel] + seated))
        counts[key] = counts.get(key, 0) + 1
        done += 1
        if progress is not None and done % 200 == 0:
            progress("legacy", done, 0.0)
    if done == 0:
        raise RuntimeError("the greedy procedure found no panel; the quotas are too tight for it")
    panels = list(counts)
    weights = np.array([counts[p] for p in panels], dtype=float) / done
    return panels, weights, {"runs": done, "failed_runs": failures, "seed": seed}


def _one_run(rng: np.random.Generator, M: NDArray[np.bool_], hh: NDArray[np.int64],
             lo: NDArray[np.float64], hi: NDArray[np.float64], k: int) -> list[int] | None:
    Q, N = M.shape
    alive = np.ones(N, dtype=bool)
    sel = np.zeros(Q, dtype=np.int64)
    panel: list[int] = []
    for _ in range(k):
        avail = M[:, alive].sum(axis=1) if alive.any() else np.zeros(Q)
        need = lo - sel
        if np.any(need > avail):
            return None
        pending = np.flatnonzero(need > 0)
        if len(pending):
            ratio = need[pending] / np.maximum(avail[pending], 1)
            best = pending[ratio == ratio.max()]
            q = best[rng.integers(len(best))]
            pool = np.flatnonzero(alive & M[q])
        else:
            pool = np.flatnonzero(alive)
        if len(pool) == 0:
            return None
        j = int(pool[rng.integers(len(pool))])
        panel.append(j)
        sel += M[:, j]
        alive[j] = False
        alive &= hh != hh[j]
        full = sel >= hi
        if full.any():
            alive &= ~M[full].any(axis=0)
    if np.any(sel < lo) or np.any(sel > hi):
        return None
    return panel
