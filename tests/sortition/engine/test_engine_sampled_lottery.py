"""Leximin in one LP over random face panels (the path large pools take): the sampler, the
interior point LP, the reduction to a basic lottery, and the answer against brute force."""
import highspy
import numpy as np
import pytest
from engine_support import all_panels, brute_leximin, inflate_fractional_leximin, synthetic_instance

from services.sortition.engine.face_sampling import FaceSampler
from services.sortition.engine.leximin import ColumnGeneration
from services.sortition.engine.lottery_ipm import basic_lottery, solve_lottery_lp
from services.sortition.engine.pricing import Pricer
from services.sortition.engine.problem import compile_instance


def _face_of_fractional_leximin(problem):
    cg = ColumnGeneration(problem)
    v = cg.frac_leximin(60)[0]
    face, floor, tight = cg._face(v)
    return cg, v, face, floor, tight


def _highs_lottery_lp(P, n, v):
    J, T = P.shape
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    inf = highspy.kHighsInf
    h.addVar(-inf, inf)
    for _ in range(J):
        h.addVar(0.0, inf)
    h.changeColCost(0, 1.0)
    h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    for t in range(T):
        h.addRow(0.0, inf, J + 1, np.arange(J + 1, dtype=np.int32),
                 np.concatenate([[-v[t]], P[:, t] / n[t]]))
    h.addRow(1.0, 1.0, J, np.arange(1, J + 1, dtype=np.int32), np.ones(J))
    h.run()
    return h.getInfo().objective_function_value


def test_face_sampler_draws_feasible_face_panels_around_the_point():
    problem = compile_instance(synthetic_instance(400, 30, 5, 1))
    cg, v, face, floor, tight = _face_of_fractional_leximin(problem)
    assert tight > 0  # the face really is smaller than the polytope here
    xbar = problem.sizes * v
    sampler = FaceSampler(face, floor, xbar, np.random.default_rng(1))
    panels = []
    while len(panels) < 600:
        panels += sampler.batch(10)
    P = np.array(panels)
    check = Pricer(face, floor=floor)
    assert all(check.feasible(x) for x in P)
    # every panel meets each tight quota exactly, as every panel of the lottery must
    q = P @ problem.A.T.astype(np.int64)
    exact = face.lo == face.hi
    assert np.all(q[:, exact] == face.lo[exact])
    # the cloud is centred on the point: average quota counts close to the expected ones
    assert np.abs(q.mean(axis=0) - problem.A @ xbar).max() < 0.35


@pytest.mark.parametrize("seed", [2, 5])
def test_interior_point_lottery_lp_matches_highs_and_its_duals_certify_it(seed):
    problem = compile_instance(synthetic_instance(200, 15, 4, seed))
    cg, v, face, floor, tight = _face_of_fractional_leximin(problem)
    n = problem.sizes.astype(float)
    sampler = FaceSampler(face, floor, n * v, np.random.default_rng(seed))
    P = np.array(sampler.batch(10) + sampler.batch(10) + sampler.batch(10))
    P = np.unique(P, axis=0)
    lp = solve_lottery_lp(P, n, v, target=2.0)  # unreachable target: solve to optimality
    assert lp.converged
    assert lp.z == pytest.approx(_highs_lottery_lp(P, n, v), abs=1e-7)
    assert lp.weights.min() >= 0 and lp.weights.sum() == pytest.approx(1.0)
    p = lp.weights @ P / n
    assert np.all(p >= lp.z * v - 1e-12)
    # weak duality: no panel of the set is worth more than z under the duals (sum y v = 1)
    assert lp.duals @ v == pytest.approx(1.0)
    assert (P @ (lp.duals / n)).max() <= lp.z + 1e-6


def test_basic_lottery_keeps_every_probability_with_few_panels():
    problem = compile_instance(synthetic_instance(200, 15, 4, 4))
    n = problem.sizes.astype(float)
    rng = np.random.default_rng(0)
    P = np.unique(np.array(FaceSampler(problem, np.zeros(problem.n_types), problem.sizes *
                                       (problem.k / problem.sizes.sum()), rng).batch(400)), axis=0)
    w = rng.random(len(P))
    w /= w.sum()
    cols, weights = basic_lottery(P, w, n)
    rank = np.linalg.matrix_rank(np.vstack([(P / n).T, np.ones(len(P))]))
    assert len(P) > rank + 1  # there is something to reduce
    assert len(weights) <= rank + 1
    assert weights.min() > 0 and weights.sum() == pytest.approx(1.0)
    assert np.abs(weights @ cols / n - w @ P / n).max() < 1e-12


@pytest.mark.parametrize("seed", [1, 3, 7])
def test_sampled_leximin_matches_brute_force(seed):
    inst = synthetic_instance(30, 6, 4, seed)
    problem = compile_instance(inst)
    assert len(all_panels(problem)) >= 50
    expected = brute_leximin(problem)
    cg = ColumnGeneration(problem, tolerance=1e-7)
    sol = cg.run()
    assert cg.sampling_lps >= 1
    assert np.allclose(sol.type_prob, expected, atol=1e-5)
    assert abs(sol.weights.sum() - 1) < 1e-9
    for use_face in (True, False):
        cg = ColumnGeneration(problem, tolerance=1e-7)
        cg.use_sampling = False
        cg.use_face = use_face
        assert np.allclose(cg.run().type_prob, expected, atol=1e-5), use_face


def test_sampling_reaches_the_point_on_a_larger_pool_and_falls_back_when_it_cannot(monkeypatch):
    inst = synthetic_instance(600, 30, 5, 9)
    problem = compile_instance(inst)
    ref = ColumnGeneration(problem, tolerance=1e-7)
    ref.use_sampling = False
    expected = ref.run().type_prob
    cg = ColumnGeneration(problem, tolerance=1e-7)
    sol = cg.run()
    assert cg._final is not None, "the sampled LP should reach the fractional leximin here"
    assert np.allclose(np.sort(sol.type_prob), np.sort(expected), atol=1e-5)
    assert np.all(sol.type_prob >= cg.fixed_value - 1e-9)
    # a point no lottery reaches: sampling must give up and the rounds find the leximin
    inflate_fractional_leximin(monkeypatch)
    cg = ColumnGeneration(problem, tolerance=1e-7)
    cg.sampling_rounds = 2
    sol = cg.run()
    assert cg._final is None and cg.frac_fallbacks == 1
    assert np.allclose(np.sort(sol.type_prob), np.sort(expected), atol=1e-5)
