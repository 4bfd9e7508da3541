"""Sessions seat only the assembly's published run, once: a foreign run's draw changes
nothing (issue 15: a 4-person rerun replaced the quotas and added seats) and its refusal is
on the audit log."""
from __future__ import annotations

import sqlalchemy as sa
from sessions_support import assembly_created, panel_drawn, substitutes_drawn

from services.common.audit import audit_log
from services.contracts.kleroterion.v1.sortition_events_pb2 import LotteryPublished

PANEL = [f"p{i:02d}" for i in range(12)]
QUOTAS = [{"feature": "sex", "value": "female", "min": 5, "max": 7}]


def _composition(sessions):
    return sessions.call("get", "/api/assemblies/a1/composition", role="observer").json


def _refusals(sessions) -> list[str]:
    with sessions.ctx.engine.connect() as conn:
        return sorted(conn.scalars(sa.select(audit_log.c.action)
                                   .where(audit_log.c.action.like("%.refused"))))


def test_a_foreign_runs_draw_changes_nothing_and_the_published_one_applies_once(sessions):
    sessions.deliver(assembly_created())
    sessions.deliver(LotteryPublished(run_id="r1"))
    foreign = panel_drawn(["x1", "x2", "x3", "x4"],
                          quotas=[{"feature": "sex", "value": "male", "min": 0, "max": 4}])
    foreign.run_id = "rerun"
    sessions.deliver(foreign)
    rerun_reserve = substitutes_drawn(["x5"], run_id="rerun")
    rerun_reserve.published_run_id = ""
    sessions.deliver(rerun_reserve)
    before = _composition(sessions)
    assert before["seated"] == 0 and before["members"] == []
    assert _refusals(sessions) == ["event.panel_drawn.refused",
                                   "event.substitutes_drawn.refused"]

    first = sessions.deliver(panel_drawn(PANEL, quotas=QUOTAS))
    sessions.deliver(panel_drawn(PANEL, quotas=QUOTAS), event_id=first)  # redelivered
    sessions.deliver(panel_drawn(["y1", "y2"]))  # a second panel of the run: refused
    sessions.deliver(substitutes_drawn(["s1", "s2"]))
    comp = _composition(sessions)
    assert comp["seated"] == 12
    assert sorted(m["member_id"] for m in comp["members"]) == sorted([*PANEL, "s1", "s2"])
    assert _refusals(sessions) == ["event.panel_drawn.refused", "event.panel_drawn.refused",
                                   "event.substitutes_drawn.refused"]
