"""Only the assembly's published run seats anyone, once: a foreign run's ``panel_drawn`` or
``substitutes_drawn`` (issue 15: a rerun on the same pool, drawn with a chosen seed) changes
nothing, and its refusal is on the audit log."""
from __future__ import annotations

import sqlalchemy as sa
from registry_support import Api, Outbox, extract, person_rows
from test_seat_answer import deliver, states

from services.common.audit import audit_log
from services.contracts.kleroterion.v1.sortition_events_pb2 import (
    LotteryPublished,
    PanelDrawn,
    SubstitutesDrawn,
)
from services.registry import handlers, models

SHA = "a" * 64


def _signed_up(make_registry, outbox):
    app, ctx = make_registry(outbox)
    api = Api(app, ctx)
    api.assembly()
    assert api.upload("a1", extract(person_rows(30))).status_code == 201
    assert api.post("/api/assemblies/a1/rollouts", {"scope": "Danmark",
                                                    "size": 10}).status_code == 201
    with ctx.engine.connect() as conn:
        codes = conn.scalars(sa.select(models.invitations.c.code)
                             .order_by(models.invitations.c.id)).all()
    client = app.test_client()
    ids = [client.post("/api/public/signup", json={
        "code": code, "answers": {"education": "long"}, "available": True,
        "consent": True}).json["registrant_id"] for code in codes[:8]]
    return ctx, ids, [handlers.selection.consumer(ctx), handlers.channels.consumer(ctx)]


def _refusals(ctx) -> list[str]:
    with ctx.engine.connect() as conn:
        return list(conn.scalars(sa.select(audit_log.c.action)
                                 .where(audit_log.c.action.like("%.refused"))
                                 .order_by(audit_log.c.id)))


def _notices(outbox) -> int:
    return len([i for i in outbox.sent if "trukket ud" in i.subject])


def test_a_foreign_runs_draw_changes_nothing_and_the_published_one_applies_once(make_registry):
    outbox = Outbox()
    ctx, ids, consumers = _signed_up(make_registry, outbox)
    deliver(ctx, consumers, LotteryPublished(run_id="official", lottery_sha256=SHA))
    # The attacker's rerun has the same lottery SHA-256, but is another run.
    deliver(ctx, consumers, PanelDrawn(run_id="rerun", lottery_sha256=SHA, member_ids=ids[:4]),
            SubstitutesDrawn(run_id="rerun", lottery_sha256=SHA, substitute_ids=ids[4:7]))
    assert set(states(ctx).values()) == {"pool"}
    assert _notices(outbox) == 0
    assert sorted(_refusals(ctx)) == ["event.panel_drawn.refused",
                                      "event.substitutes_drawn.refused"]

    official = PanelDrawn(run_id="official", lottery_sha256=SHA, member_ids=ids[:3])
    (first,) = deliver(ctx, consumers, official)
    deliver(ctx, consumers, official, event_id=first)  # redelivered: applied once
    # A second panel of the published run (another event) is refused too.
    deliver(ctx, consumers, PanelDrawn(run_id="official", lottery_sha256=SHA,
                                       member_ids=ids[3:6]))
    deliver(ctx, consumers, SubstitutesDrawn(run_id="official", lottery_sha256=SHA,
                                             substitute_ids=ids[3:5]))
    # A top-up names the published run it fills seats of.
    deliver(ctx, consumers, SubstitutesDrawn(run_id="top-up", lottery_sha256="b" * 64,
                                             substitute_ids=ids[5:6],
                                             published_run_id="official",
                                             published_lottery_sha256=SHA))
    now = states(ctx)
    assert [now[i] for i in ids] == ["selected"] * 3 + ["substitute"] * 3 + ["pool"] * 2
    assert _notices(outbox) == 3
    assert _refusals(ctx)[2:] == ["event.panel_drawn.refused"]


def test_without_a_publication_the_first_draw_pins_the_run(make_registry):
    outbox = Outbox()
    ctx, ids, consumers = _signed_up(make_registry, outbox)
    deliver(ctx, consumers, PanelDrawn(run_id="first", lottery_sha256=SHA, member_ids=ids[:3]))
    deliver(ctx, consumers, PanelDrawn(run_id="other", lottery_sha256=SHA, member_ids=ids[3:6]),
            LotteryPublished(run_id="other", lottery_sha256=SHA))
    now = states(ctx)
    assert [now[i] for i in ids[:6]] == ["selected"] * 3 + ["pool"] * 3
    # Each event type has its topic: which of the two arrives first is not fixed.
    assert sorted(_refusals(ctx)) == ["event.lottery_published.refused",
                                      "event.panel_drawn.refused"]
