"""Recommendations count as seated only the published run's panel, once: a foreign run's
``panel_drawn`` (issue 15: 38 seated instead of 36) changes nothing and is audited."""
from __future__ import annotations

import sqlalchemy as sa
from recommendations_support import ASSEMBLY, MEMBERS

from services.common.audit import audit_log
from services.contracts.kleroterion.v1.sortition_events_pb2 import LotteryPublished, PanelDrawn


def _seated(service) -> list[str]:
    r = service.call("get", f"/assemblies/{ASSEMBLY}/members", role="facilitator")
    assert r.status_code == 200, r.json
    return sorted(m["member_id"] for m in r.json["members"] if m["seated"])


def test_a_foreign_runs_panel_changes_nothing(make_recommendations):
    service = make_recommendations()
    service.publish(LotteryPublished(run_id="r1", lottery_sha256="a" * 64))
    service.publish(PanelDrawn(run_id="rerun", lottery_sha256="a" * 64,
                               member_ids=["x1", "x2", "x3", "x4"]))
    service.publish(PanelDrawn(run_id="r1", lottery_sha256="a" * 64, member_ids=MEMBERS))
    service.publish(PanelDrawn(run_id="r1", lottery_sha256="a" * 64, member_ids=["y1"]))
    assert _seated(service) == sorted(MEMBERS)
    with service.ctx.engine.connect() as conn:
        refused = conn.scalars(sa.select(audit_log.c.detail)
                               .where(audit_log.c.action == "event.panel_drawn.refused")).all()
    assert len(refused) == 2
    assert "not the assembly's published run r1" in refused[0]
    assert "applied already" in refused[1]
