"""Small hand-made instances whose leximin is known in closed form, and random pools with
leximin computed by enumerating every panel."""
import highspy
import numpy as np

from services.sortition.engine.model import Instance, Person, Quota


def people(spec):
    """spec: list of (count, {feature: value}, household or None)"""
    out = []
    for count, feats, hh in spec:
        for _ in range(count):
            out.append(Person(f"p{len(out)}", dict(feats), hh))
    return out


def two_groups(seats_taken=()):
    # 2 men, 6 women, one seat each: leximin gives men 1/2 and women 1/6
    pool = people([(2, {"gender": "m"}, None), (6, {"gender": "f"}, None)])
    quotas = [Quota("gender", "m", 1, 1), Quota("gender", "f", 1, 1)]
    return Instance(pool, quotas, 2, already_selected=tuple(seats_taken))


def crossed():
    # types A=(m,young)x1, B=(m,old)x3, C=(f,young)x2, D=(f,old)x2, 2 seats, one of each
    # gender and age: panels are A+D or B+C. Leximin: P(A+D)=2/5, so A .4, B .2, C .3, D .2
    pool = people([
        (1, {"gender": "m", "age": "young"}, None),
        (3, {"gender": "m", "age": "old"}, None),
        (2, {"gender": "f", "age": "young"}, None),
        (2, {"gender": "f", "age": "old"}, None),
    ])
    quotas = [Quota("gender", "m", 1, 1), Quota("gender", "f", 1, 1),
              Quota("age", "young", 1, 1), Quota("age", "old", 1, 1)]
    return Instance(pool, quotas, 2)


def households():
    # 5 people, 3 seats, people 0 and 1 share a household: they get 1/2, the rest 2/3
    pool = people([(2, {"all": "x"}, "h1"), (1, {"all": "x"}, "h2"), (1, {"all": "x"}, "h3"),
                   (1, {"all": "x"}, None)])
    return Instance(pool, [Quota("all", "x", 0, 3)], 3, one_per_household=True)


# ---- random pools and leximin by enumeration, for checking the solver's speed-ups ----

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


def inflate_fractional_leximin(monkeypatch):
    """Make the fractional leximin promise one type 0.05 more than any lottery gives it (as
    when the relaxation is not exact), so the solver must find out and fall back."""
    from services.sortition.engine.leximin import ColumnGeneration

    real = ColumnGeneration.frac_leximin

    def inflated(self, max_seconds):
        v, levels, y1, z1 = real(self, max_seconds)
        v = v.copy()
        v[np.argmax(v)] += 0.05
        return v, levels, y1, z1

    monkeypatch.setattr(ColumnGeneration, "frac_leximin", inflated)
