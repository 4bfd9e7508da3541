"""Reserve lists that keep the quotas, and top-ups that keep the seated."""
from __future__ import annotations

import numpy as np
import pytest
from sortition_support import small_instance

from services.sortition import draw as drawing
from services.sortition.engine import InstanceError, compute_distribution
from services.sortition.substitutes import (
    draw_substitutes,
    next_substitute,
    panel_problems,
    suitability,
    top_up_instance,
)


def _drawn_panel(inst, seed="public seed"):
    dist = compute_distribution(inst, "leximin")
    lottery = drawing.make_lottery(inst, dist, 200, time_budget=1).lottery
    result = drawing.draw(lottery, seed)
    position = {p.id: i for i, p in enumerate(inst.people)}
    return [position[i] for i in result.panel], lottery


@pytest.mark.parametrize("households", [False, True])
def test_every_single_dropout_is_replaced_within_the_quotas(households):
    inst = small_instance(households=households)
    panel, lottery = _drawn_panel(inst)
    reserve = draw_substitutes(inst, panel, depth=2, seed_material=lottery.sha256)
    _, candidates, S = suitability(inst, panel)
    assert reserve.uncovered == [j for a, j in enumerate(sorted(panel)) if not S[a].any()]
    replaced = 0
    for j in panel:
        sub = next_substitute(inst, panel, j, reserve.substitutes)
        assert sub == reserve.first_replacement[j]
        if sub is None:
            continue
        replaced += 1
        new_panel = (set(panel) - {j}) | {sub}
        assert panel_problems(inst, new_panel) == []
    assert replaced == len(panel) - len(reserve.uncovered) > 0


def test_reserve_is_reproducible_and_depends_on_the_seed():
    inst = small_instance()
    panel, lottery = _drawn_panel(inst)
    a = draw_substitutes(inst, panel, count=12, seed_material="x")
    b = draw_substitutes(inst, panel, count=12, seed_material="x")
    assert a.substitutes == b.substitutes and len(a.substitutes) == 12
    assert not set(a.substitutes) & set(panel)
    others = {tuple(draw_substitutes(inst, panel, count=12, seed_material=str(s)).substitutes)
              for s in range(5)}
    assert len(others) > 1


def test_sequential_dropouts_keep_the_quotas():
    inst = small_instance()
    panel, _ = _drawn_panel(inst, "another seed")
    reserve = draw_substitutes(inst, panel, count=20, seed_material="s")
    current, used = set(panel), []
    for dropout in sorted(panel)[:4]:
        sub = next_substitute(inst, current, dropout, reserve.substitutes, used)
        if sub is None:
            continue
        current = (current - {dropout}) | {sub}
        used.append(sub)
        assert panel_problems(inst, current) == []


def test_invalid_panel_is_refused():
    inst = small_instance()
    with pytest.raises(InstanceError, match="panel"):
        draw_substitutes(inst, list(range(inst.seats - 1)))


def test_top_up_keeps_the_seated_and_drops_the_withdrawn():
    inst = small_instance()
    panel, _ = _drawn_panel(inst)
    ids = [inst.people[i].id for i in sorted(panel)]
    withdrawn, seated = ids[:2], ids[2:]
    topped = top_up_instance(inst, seated, withdrawn)
    assert {p.id for p in topped.people} == {p.id for p in inst.people} - set(withdrawn)
    dist = compute_distribution(topped, "leximin")
    seated_pos = [i for i, p in enumerate(topped.people) if p.id in set(seated)]
    np.testing.assert_allclose(dist.probabilities[seated_pos], 1.0, atol=1e-9)
    for p in dist.panels:
        assert set(seated_pos) <= set(p)
        assert panel_problems(topped, p) == []
    with pytest.raises(InstanceError, match=r"withdrawn\[0\]"):
        top_up_instance(inst, seated, ["ghost"])
