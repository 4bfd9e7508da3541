"""The engine's entry point: ``compute_distribution`` and independent checks of its output."""
from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import highspy
import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._highs import INF, pass_model, quiet_highs, rows_to_csr
from .expand import expand

# imported with the engine, not inside the first solve: it brings scipy's linear algebra
from .leximin import ColumnGeneration
from .model import (
    Certificate,
    Distribution,
    FairnessStats,
    Instance,
    InstanceError,
    Panel,
    Progress,
    ShouldStop,
)
from .problem import Problem, compile_instance, quota_feature_value

ALGORITHMS = ("leximin", "maximin", "nash", "legacy")


def fairness_stats(p: ArrayLike, k: int) -> FairnessStats:
    values = np.asarray(p, dtype=float)
    n = len(values)
    if n == 0:
        return FairnessStats(0.0, 0.0, 0.0, 0.0)
    s = np.sort(values)
    mean = s.mean()
    if mean > 0:
        idx = np.arange(1, n + 1)
        gini = float(((2 * idx - n - 1) @ s) / (n * n * mean))
    else:
        gini = 0.0
    geo = float(np.exp(np.mean(np.log(s)))) if s[0] > 0 else 0.0
    below = float(np.mean(s < k / n - 1e-6))
    return FairnessStats(float(s[0]), max(gini, 0.0), geo, below)


def free_people(problem: Problem) -> NDArray[np.intp]:
    mask = np.ones(len(problem.instance.people), dtype=bool)
    mask[problem.seated] = False
    mask[problem.excluded] = False
    return np.flatnonzero(mask)


def _person_probabilities(n_people: int, panels: Sequence[Panel],
                          weights: NDArray[np.float64]) -> NDArray[np.float64]:
    prob = np.zeros(n_people)
    # not strict: verify_distribution reports weights and panels of different lengths
    for panel, w in zip(panels, weights, strict=False):
        prob[list(panel)] += w
    return prob


def build_distribution(problem: Problem, algorithm: str, panels: Sequence[Panel],
                       weights: ArrayLike, *, certificate: Certificate | None = None,
                       info: dict[str, Any] | None = None) -> Distribution:
    n = len(problem.instance.people)
    w = np.asarray(weights, dtype=float)
    prob = _person_probabilities(n, panels, w)
    free = free_people(problem)
    stats = fairness_stats(prob[free], problem.k)
    return Distribution(algorithm=algorithm, panels=list(panels), weights=w,
                        probabilities=prob, stats=stats, certificate=certificate,
                        info=dict(info or {}))


def compute_distribution(
    instance: Instance,
    algorithm: str = "leximin",
    *,
    tolerance: float = 1e-6,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
    seed: int | None = None,
) -> Distribution:
    """A lottery over feasible panels for ``instance``.

    ``leximin`` (default) maximises the lowest selection probability, then the second
    lowest, and so on, exactly (up to ``tolerance``); ``maximin`` only the lowest; ``nash``
    the product of probabilities; ``legacy`` estimates the pre-2020 greedy procedure by
    sampling. Raises InstanceError for bad or infeasible instances and SolveCancelled when
    ``should_stop()`` returns True.
    """
    from .feasibility import check_feasibility
    from .validation import validate_instance

    if algorithm not in ALGORITHMS:
        raise InstanceError("algorithm",
                            f"unknown algorithm {algorithm!r}; choose one of {ALGORITHMS}")
    if not tolerance > 0:
        raise InstanceError("tolerance", "must be positive")
    t0 = time.perf_counter()
    validate_instance(instance)
    problem = compile_instance(instance)
    report = check_feasibility(instance, problem=problem)
    if not report.feasible:
        raise InstanceError("quotas", "no panel satisfies the quotas: " + report.summary())
    if problem.k == 0 or problem.n_types == 0:
        panel = tuple(int(i) for i in problem.seated)
        return build_distribution(problem, algorithm, [panel], [1.0],
                                  info={"seconds": time.perf_counter() - t0,
                                        "tolerance": tolerance})
    if algorithm in ("leximin", "maximin"):
        cg = ColumnGeneration(problem, tolerance=tolerance, progress=progress,
                              should_stop=should_stop, seed=seed, phase=algorithm)
        sol = cg.run(max_rounds=1 if algorithm == "maximin" else None)
        panels, weights = expand(sol.columns, sol.weights, problem.type_members, problem.seated)
        cert = None
        if sol.cert_weights is not None and sol.cert_bound is not None:
            y = np.zeros(len(instance.people))
            for t, members in enumerate(problem.type_members):
                y[members] = sol.cert_weights[t] / len(members)
            y = y / y.sum()
            cert = Certificate(agent_weights=y, bound=float(sol.cert_bound), tolerance=tolerance)
        info = dict(sol.info)
    elif algorithm == "nash":
        from .nash import nash_types

        sol = nash_types(problem, tolerance=tolerance, progress=progress,
                         should_stop=should_stop, seed=seed)
        panels, weights = expand(sol.columns, sol.weights, problem.type_members, problem.seated)
        cert = None
        info = dict(sol.info)
    else:
        from .legacy import legacy_panels

        panels, weights, info = legacy_panels(problem, seed=seed, progress=progress,
                                              should_stop=should_stop)
        cert = None
    info["seconds"] = round(time.perf_counter() - t0, 4)
    info["tolerance"] = tolerance
    info["panels"] = len(panels)
    return build_distribution(problem, algorithm, panels, weights, certificate=cert, info=info)


# ---- independent checks --------------------------------------------------------------------

def _person_ip(instance: Instance, weights: NDArray[np.float64]) -> float | None:
    """max weights @ x over feasible panels of people (binary per person), built straight
    from the instance without the type aggregation the solvers use."""
    people = instance.people
    n = len(people)
    categories, index = quota_feature_value(instance)
    rows: list[tuple[NDArray[Any], NDArray[np.float64]]] = [(np.arange(n), np.ones(n))]
    rlo: list[float] = [instance.seats]
    rhi: list[float] = [instance.seats]
    members: dict[int, list[int]] = {qi: [] for qi in range(len(instance.quotas))}
    for i, p in enumerate(people):
        for cat in categories:
            value = p.features.get(cat)
            qi = None if value is None else index.get((cat, value))
            if qi is not None:
                members[qi].append(i)
    for qi, q in enumerate(instance.quotas):
        idx = np.array(members[qi], dtype=np.int64)
        rows.append((idx, np.ones(len(idx))))
        rlo.append(q.min)
        rhi.append(q.max)
    if instance.one_per_household:
        groups: dict[str, list[int]] = {}
        for i, p in enumerate(people):
            if p.household:
                groups.setdefault(p.household, []).append(i)
        for g in groups.values():
            if len(g) > 1:
                rows.append((np.array(g), np.ones(len(g))))
                rlo.append(-INF)
                rhi.append(1)
    lower = np.zeros(n)
    id_pos = {p.id: i for i, p in enumerate(people)}
    for sid in instance.already_selected:
        lower[id_pos[sid]] = 1
    starts, indices, values = rows_to_csr(rows)
    h = quiet_highs()
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("mip_abs_gap", 1e-10)
    pass_model(h, np.asarray(weights, float), lower, np.ones(n), np.array(rlo, float),
               np.array(rhi, float), starts, indices, values, integer=np.ones(n, dtype=bool),
               maximize=True)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    info = h.getInfo()
    return max(float(info.mip_dual_bound), float(info.objective_function_value))


def check_certificate(instance: Instance, distribution: Distribution,
                      tol: float | None = None) -> bool:
    """Re-verify the certificate: y is a probability vector, no feasible panel has y-sum
    above the bound (one exact IP over people), and the distribution's minimum probability
    among the people competing for seats reaches the bound."""
    cert = distribution.certificate
    if cert is None:
        return False
    tol = cert.tolerance * 10 if tol is None else tol
    y = np.asarray(cert.agent_weights, dtype=float)
    if len(y) != len(instance.people) or np.any(y < -1e-12) or abs(y.sum() - 1) > 1e-9:
        return False
    best = _person_ip(instance, y)
    if best is None or best > cert.bound + tol:
        return False
    problem = compile_instance(instance)
    free = free_people(problem)
    return bool(distribution.probabilities[free].min() >= cert.bound - tol)


def verify_distribution(instance: Instance, distribution: Distribution,
                        tol: float = 1e-6) -> list[str]:
    """Every panel in the support is a feasible panel (seat count, quotas, one per household,
    includes the already-selected people), the weights are a probability vector and the
    probabilities match the weights. Returns the problems found (empty when all is well)."""
    problems: list[str] = []
    people = instance.people
    n = len(people)
    categories, index = quota_feature_value(instance)
    # a person without a value in a category (or with an unquoted one) counts for no quota there
    pq = [[index[(c, p.features[c])] for c in categories
           if c in p.features and (c, p.features[c]) in index]
          for p in people]
    id_pos = {p.id: i for i, p in enumerate(people)}
    seated = {id_pos[s] for s in instance.already_selected if s in id_pos}
    w = np.asarray(distribution.weights, dtype=float)
    if len(w) != len(distribution.panels):
        problems.append("weights and panels differ in length")
    if np.any(w < -1e-12) or abs(w.sum() - 1) > 1e-9:
        problems.append(f"weights are not a probability vector (sum {w.sum():.12f})")
    for j, panel in enumerate(distribution.panels):
        if list(panel) != sorted(set(panel)):
            problems.append(f"panel {j}: not a sorted tuple of distinct people")
            continue
        if any(i < 0 or i >= n for i in panel):
            problems.append(f"panel {j}: person index out of range")
            continue
        if len(panel) != instance.seats:
            problems.append(f"panel {j}: {len(panel)} people for {instance.seats} seats")
        counts = np.zeros(len(instance.quotas), dtype=np.int64)
        for i in panel:
            for qi in pq[i]:
                counts[qi] += 1
        for qi, q in enumerate(instance.quotas):
            if not q.min <= counts[qi] <= q.max:
                problems.append(f"panel {j}: quota {q.feature}={q.value} has {counts[qi]}, "
                                f"needs {q.min}..{q.max}")
        if not seated <= set(panel):
            problems.append(f"panel {j}: misses already-selected people")
        if instance.one_per_household:
            hh = [people[i].household for i in panel if people[i].household]
            if len(hh) != len(set(hh)):
                problems.append(f"panel {j}: two people from one household")
        if len(problems) > 20:
            break
    prob = _person_probabilities(n, distribution.panels, w)
    if np.max(np.abs(prob - distribution.probabilities), initial=0.0) > tol:
        problems.append("probabilities do not match the panel weights")
    return problems
