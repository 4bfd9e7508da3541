"""The solver's speed-ups (master pruning, dual smoothing, the pair-exchange index) must not
change the answer: checked against leximin computed independently, by enumerating every
feasible panel of a small pool and fixing one level at a time with one LP per type."""
import itertools

import highspy
import numpy as np
import pytest

from services.sortition.engine import compute_distribution, verify_distribution
from services.sortition.engine.leximin import ColumnGeneration
from services.sortition.engine.model import Instance, Person, Quota
from services.sortition.engine.problem import compile_instance


def synthetic_instance(n, k, n_features, seed):
    """A skewed random pool; quotas ask for roughly equal shares of each feature's values
    (so they bind: the pool is not balanced)."""
    rng = np.random.default_rng(seed)
    names = [f"f{c}" for c in range(n_features)]
    n_values = [2 + c % 2 for c in range(n_features)]
    cols = []
    for m in n_values:
        p = rng.dirichlet(np.full(m, 1.5))
        cols.append(rng.choice(m, size=n, p=p))
    people = [Person(f"p{i}", {names[c]: f"v{cols[c][i]}" for c in range(n_features)})
              for i in range(n)]
    quotas = []
    for c, m in enumerate(n_values):
        have = np.bincount(cols[c], minlength=m)
        for v in range(m):
            lo = min(int(np.floor(k / m * 0.8)), int(have[v]))
            hi = max(int(np.ceil(k / m * 1.2)), lo)
            quotas.append(Quota(names[c], f"v{v}", lo, hi))
    return Instance(people, quotas, k)


def all_panels(problem):
    """Every feasible panel as counts per type: all count vectors summing to k, filtered."""
    sizes = [int(v) for v in problem.sizes]
    out = []

    def rec(t, left, prefix):
        if t == len(sizes):
            if left == 0:
                out.append(prefix)
            return
        if left > sum(sizes[t:]):
            return
        for c in range(min(sizes[t], left) + 1):
            rec(t + 1, left - c, prefix + [c])

    rec(0, problem.k, [])
    X = np.array(out, dtype=np.int64).reshape(-1, len(sizes))
    q = X @ problem.A.T.astype(np.int64)
    ok = np.all((q >= problem.lo) & (q <= problem.hi), axis=1)
    return X[ok]


def _lp_max(P, n, fixed, values, target):
    """max over lotteries lam on panels P of min_{t unfixed} p_t (target None) or of p_target,
    subject to p_t >= values[t] for fixed t and (for a target) p_t >= values z for the rest."""
    J, T = P.shape
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    inf = highspy.kHighsInf
    h.addVar(-inf, inf)  # z
    for _ in range(J):
        h.addVar(0.0, inf)
    h.changeColCost(0, 1.0)
    h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    for t in range(T):
        idx = list(range(1, J + 1))
        vals = list(P[:, t] / n[t])
        if fixed[t]:
            h.addRow(values[t] - 1e-9, inf, len(idx), np.array(idx, np.int32), np.array(vals))
        elif target is None:
            h.addRow(0.0, inf, J + 1, np.array([0] + idx, np.int32), np.array([-1.0] + vals))
        elif t == target:
            h.addRow(0.0, inf, J + 1, np.array([0] + idx, np.int32), np.array([-1.0] + vals))
        else:
            h.addRow(values[t] - 1e-9, inf, len(idx), np.array(idx, np.int32), np.array(vals))
    h.addRow(1.0, 1.0, J, np.arange(1, J + 1, dtype=np.int32), np.ones(J))
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return h.getInfo().objective_function_value


def brute_leximin(problem):
    P = all_panels(problem)
    n = problem.sizes.astype(float)
    T = problem.n_types
    fixed = np.zeros(T, dtype=bool)
    values = np.zeros(T)
    reachable = P.max(axis=0) > 0
    fixed[~reachable] = True  # never on any panel: probability 0
    while not fixed.all():
        z = _lp_max(P, n, fixed, values, None)
        values[~fixed] = z
        stuck = [t for t in np.flatnonzero(~fixed) if _lp_max(P, n, fixed, values, t) <= z + 1e-7]
        assert stuck, "some type must be stuck at the level"
        fixed[stuck] = True
    return values


@pytest.mark.parametrize("seed", [1, 3, 7])
def test_leximin_matches_brute_force_with_and_without_speedups(seed):
    inst = synthetic_instance(30, 6, 4, seed)
    problem = compile_instance(inst)
    assert len(all_panels(problem)) >= 50  # a real choice of panels, not a forced one
    expected = brute_leximin(problem)
    assert len(np.unique(np.round(expected, 6))) >= 3  # several levels: the leximin part matters
    frac_rounds = 0
    for prune, smoothing, frac, shortcut in [
            (None, 0.5, True, True), (0, 0.0, True, True), (0, 0.5, True, True),
            (None, 0.5, True, False), (None, 0.5, False, False), (0, 0.5, False, False)]:
        cg = ColumnGeneration(problem, tolerance=1e-7)
        if prune is not None:
            # prune on every master solve, down to the basis
            cg.prune_at, cg.prune_keep = prune, 0
        cg.smoothing = smoothing
        cg.use_frac_bound = frac
        cg.use_frac_leximin = shortcut
        sol = cg.run()
        assert np.allclose(sol.type_prob, expected, atol=1e-5), (prune, smoothing, frac, shortcut)
        assert sol.info["max_excess_over_fixed"] < 1e-6
        if prune is not None:
            assert cg.pruned > 0
        if not frac:
            assert cg.frac_rounds == 0
        frac_rounds += cg.frac_rounds
    # rounds that end at the fractional bound (no pricing proof) must occur here, or the
    # brute-force comparison would not check them
    assert frac_rounds > 0
    d = compute_distribution(inst)
    assert verify_distribution(inst, d) == []
    person = problem.person_type()
    assert np.allclose(d.probabilities, expected[person], atol=1e-5)


def test_pruned_master_reaches_the_same_minimum_on_a_larger_pool():
    inst = synthetic_instance(300, 20, 5, 7)
    problem = compile_instance(inst)
    base = ColumnGeneration(problem).run(max_rounds=1)
    cg = ColumnGeneration(problem)
    cg.prune_at, cg.prune_keep = problem.n_types // 2, 0
    pruned = cg.run(max_rounds=1)
    assert cg.pruned > 0
    assert pruned.type_prob.min() == pytest.approx(base.type_prob.min(), abs=1e-6)


def test_pruning_that_once_left_the_final_master_infeasible(shared_instances):
    # these settings made the final LP infeasible by round-off when fixed rows had a slack
    # as small as the feasibility tolerance; the solver must finish with a valid lottery
    from services.sortition.engine import load_instance

    d = shared_instances / "newdemocracy_20"
    inst = load_instance(d / "categories.csv", d / "respondents.csv", 20)
    problem = compile_instance(inst)
    cg = ColumnGeneration(problem)
    cg.prune_at, cg.prune_keep = 400, 300
    sol = cg.run()
    assert cg.pruned > 0
    assert sol.type_prob.min() == pytest.approx(1 / 16, abs=1e-5)
    assert np.all(sol.type_prob >= cg.fixed_value - 2 * cg.tol)
    assert abs(sol.weights.sum() - 1) < 1e-9


def test_fractional_bound_bounds_every_round_from_above():
    # the relaxed-polytope LP must never promise less than the true leximin levels: a
    # round ended at a bound below its optimum would fix types too low
    inst = synthetic_instance(30, 6, 4, 3)
    problem = compile_instance(inst)
    expected = brute_leximin(problem)
    cg = ColumnGeneration(problem, tolerance=1e-7)
    cg.initial_columns()
    z_lp, y = cg.frac_bound()
    assert z_lp >= expected.min() - 1e-9
    assert y.min() >= 0 and y.sum() == pytest.approx(1.0)


def test_fractional_leximin_shortcut_and_its_fallback(monkeypatch):
    inst = synthetic_instance(30, 6, 4, 7)
    problem = compile_instance(inst)
    expected = brute_leximin(problem)
    cg = ColumnGeneration(problem, tolerance=1e-7)
    sol = cg.run()
    assert cg.frac_fallbacks == 0 and cg.fixed.all()
    assert np.allclose(sol.type_prob, expected, atol=1e-5)
    # a target above what lotteries reach (as when the relaxation is not exact): pricing
    # must prove z < 1, and the rounds must still find the true leximin
    real = ColumnGeneration.frac_leximin

    def inflated(self, max_seconds):
        v, levels, y1, z1 = real(self, max_seconds)
        v = v.copy()
        v[np.argmax(v)] += 0.05
        return v, levels, y1, z1

    monkeypatch.setattr(ColumnGeneration, "frac_leximin", inflated)
    cg = ColumnGeneration(problem, tolerance=1e-7)
    sol = cg.run()
    assert cg.frac_fallbacks == 1
    assert np.allclose(sol.type_prob, expected, atol=1e-5)


def test_progress_reports_probabilities_during_the_fractional_shortcut():
    # towards the fractional leximin the master's z is a scale factor near 1, not a
    # probability; progress must still report the lowest probability reached
    inst = synthetic_instance(30, 6, 2, 3)
    seen = []
    d = compute_distribution(inst, progress=lambda phase, it, z: seen.append(z))
    assert d.info["frac_leximin_fallbacks"] == 0 and "frac_rounds" in d.info
    assert all(z <= 6 / 30 + 1e-9 for z in seen)  # the lowest probability is at most k/n
    assert min(abs(z - d.stats.minimum) for z in seen) < 1e-5
