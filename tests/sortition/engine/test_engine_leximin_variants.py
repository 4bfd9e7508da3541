"""The solver's speed-ups (master pruning, dual smoothing, the pair-exchange index) must not
change the answer: checked against leximin computed independently, by enumerating every
feasible panel of a small pool and fixing one level at a time with one LP per type."""
import numpy as np
import pytest
from engine_support import all_panels, brute_leximin, inflate_fractional_leximin, synthetic_instance

from services.sortition.engine import compute_distribution, verify_distribution
from services.sortition.engine.leximin import ColumnGeneration
from services.sortition.engine.problem import compile_instance


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
        cg.use_sampling = False  # the column generation's own speed-ups are under test
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
    cg.use_sampling = False
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
    inflate_fractional_leximin(monkeypatch)
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
