import time

import pytest
from engine_support import people

from services.sortition.engine import (
    Instance,
    InstanceError,
    Quota,
    QuotaChange,
    apply_relaxation,
    check_feasibility,
    compute_distribution,
    load_instance,
    verify_distribution,
)


def conflict_instance(young_max_flex=0):
    # 2 men needed, no young person allowed, but only one old man exists
    pool = people([
        (2, {"gender": "m", "age": "young"}, None),
        (1, {"gender": "m", "age": "old"}, None),
        (2, {"gender": "f", "age": "old"}, None),
        (1, {"gender": "f", "age": "young"}, None),
    ])
    quotas = [
        Quota("gender", "m", 2, 2, min_flex=0, max_flex=2),
        Quota("gender", "f", 0, 2, min_flex=0, max_flex=2),
        Quota("age", "young", 0, 0, min_flex=0, max_flex=young_max_flex),
        Quota("age", "old", 0, 2, min_flex=0, max_flex=2),
    ]
    return Instance(pool, quotas, 2)


def test_feasible_with_example_panel():
    inst = conflict_instance()
    ok = Instance(inst.people, [Quota("gender", "m", 1, 1), Quota("gender", "f", 1, 1)], 2)
    r = check_feasibility(ok)
    assert r.feasible and r.trivial == [] and r.conflicting == []
    assert len(r.example_panel) == 2


def test_conflicting_quotas_are_named():
    r = check_feasibility(conflict_instance())
    assert not r.feasible
    assert r.trivial == []
    assert sorted(r.conflicting) == [("age", "young"), ("gender", "m")]


def test_minimal_relaxation_respects_flex():
    r = check_feasibility(conflict_instance(young_max_flex=0))
    assert r.relaxation == [QuotaChange("gender", "m", 2, 1, 2, 2)]
    fixed = apply_relaxation(conflict_instance(), r.relaxation)
    assert check_feasibility(fixed).feasible
    d = compute_distribution(fixed)
    assert verify_distribution(fixed, d) == []


def test_minimal_relaxation_changes_one_unit():
    r = check_feasibility(conflict_instance(young_max_flex=2))
    # either lower the men's min or allow one young person: both cost 1
    assert len(r.relaxation) == 1
    c = r.relaxation[0]
    assert (c.old_min - c.new_min) + (c.new_max - c.old_max) == 1


def test_no_relaxation_within_flex():
    inst = conflict_instance()
    rigid = Instance(inst.people, [Quota(q.feature, q.value, q.min, q.max, q.min, q.max)
                                   for q in inst.quotas], 2)
    r = check_feasibility(rigid)
    assert not r.feasible and r.relaxation is None
    assert "no relaxation" in r.summary()


def test_trivial_problems_are_named_without_solver():
    pool = people([(3, {"gender": "m"}, None), (3, {"gender": "f"}, None)])
    inst = Instance(pool, [Quota("gender", "m", 3, 4), Quota("gender", "f", 2, 4)], 4)
    r = check_feasibility(inst)
    assert not r.feasible
    assert any("mins add up to 5" in t for t in r.trivial)
    inst2 = Instance(pool, [Quota("gender", "m", 4, 4), Quota("gender", "f", 0, 4)], 4)
    r2 = check_feasibility(inst2)
    assert any("gender=m" in t and "only 3" in t for t in r2.trivial)
    inst3 = Instance(pool, [Quota("gender", "m", 0, 1), Quota("gender", "f", 0, 2)], 4)
    r3 = check_feasibility(inst3)
    assert any("maxes add up to 3" in t for t in r3.trivial)
    assert r3.relaxation is not None
    assert sum(c.new_max - c.old_max for c in r3.relaxation) == 1


def test_validation_errors():
    pool = people([(2, {"gender": "m"}, None)])
    with pytest.raises(InstanceError) as e:
        check_feasibility(Instance(pool, [Quota("gender", "m", 2, 1)], 1))
    assert e.value.field == "quotas[0].min"
    with pytest.raises(InstanceError) as e:
        check_feasibility(Instance(pool, [Quota("gender", "m", 0, 1)], 0))
    assert e.value.field == "seats"
    with pytest.raises(InstanceError) as e:
        check_feasibility(Instance(pool, [Quota("gender", "m", 0, 1)], 1,
                                   already_selected=("nobody",)))
    assert e.value.field == "already_selected[0]"


def test_values_without_pool_members_are_allowed(shared_instances):
    d0 = shared_instances / "sf_fixture_22"
    inst = load_instance(d0 / "categories.csv", d0 / "respondents.csv", 22)
    t = time.perf_counter()
    r = check_feasibility(inst)
    assert r.feasible
    assert time.perf_counter() - t < 5  # generous; the benchmark measures the real speed


def test_geneva_exact_quotas_feasible(shared_instances):
    d0 = shared_instances / "geneva_30"
    inst = load_instance(d0 / "categories.csv", d0 / "respondents.csv", 30)
    r = check_feasibility(inst)
    assert r.feasible and len(r.example_panel) == 30
    # one seat fewer cannot meet the exact quotas: gender needs 15 + 15
    r2 = check_feasibility(Instance(inst.people, inst.quotas, 29))
    assert not r2.feasible
    assert any("genre" in t for t in r2.trivial)
