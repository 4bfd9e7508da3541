import numpy as np
import pytest
from engine_support import crossed, households, two_groups

from services.sortition.engine import (
    SolveCancelled,
    check_certificate,
    compute_distribution,
    load_instance,
    verify_distribution,
)
from services.sortition.engine.model import Instance, Quota


def probs_by_id(inst, dist):
    return {p.id: dist.probabilities[i] for i, p in enumerate(inst.people)}


def test_two_groups_leximin_closed_form():
    inst = two_groups()
    d = compute_distribution(inst)
    assert verify_distribution(inst, d) == []
    assert np.allclose(d.probabilities[:2], 0.5, atol=1e-6)
    assert np.allclose(d.probabilities[2:], 1 / 6, atol=1e-6)
    assert d.stats.minimum == pytest.approx(1 / 6, abs=1e-6)
    assert check_certificate(inst, d)
    assert d.certificate.bound == pytest.approx(1 / 6, abs=1e-6)


def test_crossed_leximin_is_not_uniform():
    inst = crossed()
    d = compute_distribution(inst)
    assert verify_distribution(inst, d) == []
    expected = [0.4, 0.2, 0.2, 0.2, 0.3, 0.3, 0.2, 0.2]
    assert np.allclose(d.probabilities, expected, atol=1e-6)
    assert check_certificate(inst, d)
    # weights form a lottery over feasible panels only
    assert abs(d.weights.sum() - 1) < 1e-9
    assert all(len(p) == 2 for p in d.panels)


def test_maximin_reaches_the_same_minimum():
    inst = crossed()
    d = compute_distribution(inst, "maximin")
    assert verify_distribution(inst, d) == []
    assert d.stats.minimum == pytest.approx(0.2, abs=1e-6)
    assert check_certificate(inst, d)


def test_household_rule():
    inst = households()
    d = compute_distribution(inst)
    assert verify_distribution(inst, d) == []
    for panel in d.panels:
        assert not (0 in panel and 1 in panel)
    assert np.allclose(d.probabilities, [0.5, 0.5, 2 / 3, 2 / 3, 2 / 3], atol=1e-6)


def test_top_up_keeps_seated_people():
    inst = two_groups(seats_taken=("p0",))
    d = compute_distribution(inst)
    assert verify_distribution(inst, d) == []
    assert all(0 in panel for panel in d.panels)
    p = d.probabilities
    assert p[0] == pytest.approx(1.0)
    assert p[1] == pytest.approx(0.0)  # the men's seat is taken
    assert np.allclose(p[2:], 1 / 6, atol=1e-6)


def test_example_small_20_is_uniform(shared_instances):
    d0 = shared_instances / "example_small_20"
    inst = load_instance(d0 / "categories.csv", d0 / "respondents.csv", 20)
    d = compute_distribution(inst)
    assert verify_distribution(inst, d) == []
    assert np.allclose(d.probabilities, 0.1, atol=1e-5)
    assert d.stats.gini < 1e-4
    assert check_certificate(inst, d)
    assert d.certificate.bound == pytest.approx(0.1, abs=1e-6)


def test_sf_fixture_maximin_certificate(shared_instances):
    d0 = shared_instances / "sf_fixture_22"
    inst = load_instance(d0 / "categories.csv", d0 / "respondents.csv", 22)
    d = compute_distribution(inst, "maximin")
    assert verify_distribution(inst, d) == []
    # 1/11: the Lothian/Glasgow-style bottleneck of this fixture
    assert d.stats.minimum == pytest.approx(1 / 11, abs=1e-5)
    assert check_certificate(inst, d)


def test_tampered_certificate_is_rejected():
    inst = crossed()
    d = compute_distribution(inst)
    from dataclasses import replace

    d.certificate = replace(d.certificate, bound=d.certificate.bound - 0.05)
    assert not check_certificate(inst, d)


def test_verify_distribution_catches_a_bad_panel():
    inst = crossed()
    d = compute_distribution(inst)
    d.panels[0] = (0, 1)  # two men
    problems = verify_distribution(inst, d)
    assert any("gender=m" in p for p in problems)


def test_progress_and_cancellation():
    inst = crossed()
    calls = []
    compute_distribution(inst, progress=lambda phase, it, z: calls.append((phase, it, z)))
    assert calls and calls[0][0] == "leximin"
    with pytest.raises(SolveCancelled):
        compute_distribution(inst, should_stop=lambda: True)


def test_infeasible_instance_is_an_instance_error():
    from services.sortition.engine.model import InstanceError

    inst = two_groups()
    bad = Instance(inst.people, [Quota("gender", "m", 2, 2), Quota("gender", "f", 1, 1)], 2)
    with pytest.raises(InstanceError) as e:
        compute_distribution(bad)
    assert e.value.field == "quotas"
