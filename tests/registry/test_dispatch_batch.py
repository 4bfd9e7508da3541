"""The channel worker's batch path: a polled batch claims its delivery rows in one
transaction before any channel is called and records its outcomes in one more; a crash or a
failure anywhere in a batch still sends nobody twice. And the extract import's PostgreSQL
COPY path."""
from __future__ import annotations

from collections import Counter

import pytest
import sqlalchemy as sa
from registry_support import Api, Outbox, extract, person_rows

from services.common.hookspecs import DeliveryResult
from services.registry import dispatch, handlers, models, outgoing

KEY = "q3W2l9rsN8oYB2m0TlPZ9QeQJg2YbZ9r3u5X5f8Hk0o="


def _setup(make_registry, *channels, n=40, size=20, **kw):
    app, ctx = make_registry(*channels, **kw)
    api = Api(app, ctx)
    api.assembly()
    assert api.upload("a1", extract(person_rows(n))).status_code == 201
    tid = api.approved_template("a1", channel=channels[0].name if channels else "outbox")
    rid = api.post("/api/assemblies/a1/rollouts", {"scope": "Danmark", "size": size}).json["id"]
    with ctx.engine.connect() as conn:
        ids = conn.scalars(sa.select(models.invitations.c.id)).all()
    return api, ctx, tid, rid, ids


def _one_at_a_time(monkeypatch, ctx) -> list:
    """Count the events that went through the one-at-a-time path."""
    calls = []
    handle = ctx.dispatcher.send
    monkeypatch.setattr(ctx.dispatcher, "send", lambda e: (calls.append(e), handle(e)))
    return calls


def _states(ctx) -> dict:
    with ctx.engine.connect() as conn:
        return dict(conn.execute(sa.select(models.deliveries.c.invitation_id,
                                           models.deliveries.c.state)).all())


def _drain(consumer):
    while consumer.poll_once(0.2):
        pass


def test_a_batch_with_every_event_twice_sends_once_with_four_commits(make_registry,
                                                                     monkeypatch):
    outbox = Outbox()
    api, ctx, tid, rid, ids = _setup(make_registry, outbox)
    singles = _one_at_a_time(monkeypatch, ctx)
    delivered = []
    ctx.bus.consumer("t.delivered", ["invitation_delivered"], delivered.append)
    consumer = handlers.channels.consumer(ctx)
    api.post(f"/api/rollouts/{rid}/send", {"template_id": tid})
    api.post(f"/api/rollouts/{rid}/send", {"template_id": tid})  # a double click
    commits = []
    sa.event.listen(ctx.engine, "commit", lambda conn: commits.append(1))
    assert consumer.poll_once(0.2) == 40  # one polled batch: 20 invitations, each twice
    assert singles == []  # the batch path handled it, no fallback
    # the rows, the outcomes with their events' outbox rows, the outbox marking those
    # events published, and the bus's own applied-events record
    assert len(commits) == 4
    assert _states(ctx) == {i: "sent" for i in ids}
    sent = Counter(i.recipient.invitation_id for i in outbox.sent)
    assert all(sent[i] == 1 for i in ids)
    assert api.get(f"/api/rollouts/{rid}").json["invitations"] == {"sent": 20}
    ctx.bus.consumer("t.delivered2", ["invitation_delivered"], delivered.append).poll_once(0.2)
    assert sorted(e.invitation_delivered.invitation_id for e in delivered) == sorted(ids)
    api.post(f"/api/rollouts/{rid}/send", {"template_id": tid})  # resending later: nothing
    _drain(consumer)
    assert Counter(i.recipient.invitation_id for i in outbox.sent) == sent


def test_a_crash_in_the_middle_of_a_batch_sends_nobody_twice(make_registry, monkeypatch):
    outbox = Outbox()
    api, ctx, tid, rid, ids = _setup(make_registry, outbox)
    singles = _one_at_a_time(monkeypatch, ctx)
    consumer = handlers.channels.consumer(ctx)
    api.post(f"/api/rollouts/{rid}/send", {"template_id": tid})
    crash_at = []
    send = outbox.send

    def send_then_die(invitation):  # the worker dies right after the 7th letter went out
        # (outbox.sent also holds the template's test send)
        result = send(invitation)
        if len(outbox.sent) == 8:
            crash_at.append(invitation.recipient.invitation_id)
            raise SystemExit("worker died")
        return result

    monkeypatch.setattr(outbox, "send", send_then_die)
    with pytest.raises(SystemExit):
        consumer.poll_once(0.2)
    consumer.close(commit=False)  # the crash: the batch is delivered again
    # Only the letter in flight is left in sending; the rows never handed to a channel
    # were released, so they are sent normally on redelivery.
    assert set(_states(ctx).values()) == {"sending"} and len(_states(ctx)) == 7
    monkeypatch.setattr(outbox, "send", send)
    _drain(handlers.channels.consumer(ctx))
    assert Counter(outbox.calls)[crash_at[0]] == 1
    assert max(Counter(outbox.calls).values()) == 1 and len(outbox.calls) == 21  # + test send
    assert _states(ctx) == {i: "sent" for i in ids}
    assert singles == []


def test_a_hard_kill_in_the_middle_of_a_batch_sends_nobody_twice(make_registry, monkeypatch):
    """A killed process cannot release anything: every row of the batch stays in sending and
    is resolved by asking the channel — sent if it knows, else a manual check."""
    outbox = Outbox()
    api, ctx, tid, rid, ids = _setup(make_registry, outbox)
    consumer = handlers.channels.consumer(ctx)
    api.post(f"/api/rollouts/{rid}/send", {"template_id": tid})
    monkeypatch.setattr(ctx.dispatcher, "_release", lambda keys: None)
    send = outbox.send

    def send_then_die(invitation):
        result = send(invitation)
        if len(outbox.sent) == 6:
            raise SystemExit("killed")
        return result

    monkeypatch.setattr(outbox, "send", send_then_die)
    with pytest.raises(SystemExit):
        consumer.poll_once(0.2)
    consumer.close(commit=False)
    monkeypatch.setattr(outbox, "send", send)
    _drain(handlers.channels.consumer(ctx))
    assert len(outbox.calls) == 6  # the test send and 5 letters: nobody again
    assert max(Counter(outbox.calls).values()) == 1
    states = _states(ctx)
    went_out = {i.recipient.invitation_id for i in outbox.sent} & set(ids)
    assert {i for i, s in states.items() if s == "sent"} == went_out
    assert {i for i, s in states.items() if s == "manual_check"} == set(ids) - went_out


def test_a_failing_batch_falls_back_to_one_at_a_time_without_sending_twice(make_registry,
                                                                          monkeypatch):
    outbox = Outbox()
    api, ctx, tid, rid, ids = _setup(make_registry, outbox)
    singles = _one_at_a_time(monkeypatch, ctx)
    record = ctx.dispatcher._record

    def broken_once(jobs):  # the outcome transaction fails once (e.g. a lost connection)
        monkeypatch.setattr(ctx.dispatcher, "_record", record)
        raise sa.exc.OperationalError("UPDATE deliveries", {}, Exception("connection lost"))

    monkeypatch.setattr(ctx.dispatcher, "_record", broken_once)
    consumer = handlers.channels.consumer(ctx)
    api.post(f"/api/rollouts/{rid}/send", {"template_id": tid})
    _drain(consumer)
    assert len(singles) == 20  # retried one at a time
    assert max(Counter(outbox.calls).values()) == 1 and len(outbox.calls) == 21
    # the channel confirms what went out before the failure
    assert _states(ctx) == {i: "sent" for i in ids}
    assert consumer.dead_lettered == 0


def test_a_batch_records_unreachable_failed_and_erased_people(make_registry):
    outbox = Outbox(reach=lambda r: r.name not in ("Person 0", "Person 1"))
    api, ctx, tid, rid, ids = _setup(make_registry, outbox, n=4, size=4)
    with ctx.engine.connect() as conn:
        by_person = dict(conn.execute(
            sa.select(models.invitations.c.person_id, models.invitations.c.id)).all())
        names = {r.id: ctx.sealer.open(r.sealed)["n"]
                 for r in conn.execute(sa.select(models.persons.c.id, models.persons.c.sealed))}
    invitation = {names[p]: i for p, i in by_person.items()}
    outbox.fail[invitation["Person 2"]] = [DeliveryResult("bounced", "no mailbox")]
    with ctx.engine.begin() as conn:  # Person 3 erased before the letter went out
        conn.execute(models.persons.update().where(models.persons.c.id == next(
            p for p, n in names.items() if n == "Person 3")).values(sealed=None))
    consumer = handlers.channels.consumer(ctx)
    api.post(f"/api/rollouts/{rid}/send", {"template_id": tid})
    _drain(consumer)
    assert _states(ctx) == {invitation["Person 0"]: "unreachable",
                            invitation["Person 1"]: "unreachable",
                            invitation["Person 2"]: "failed"}
    assert api.get(f"/api/rollouts/{rid}").json["invitations"] == {
        "unreachable": 2, "failed": 1, "requested": 1}


def test_event_ids_are_unique_uuid4():
    ids = outgoing.event_ids(1000)
    assert len(set(ids)) == 1000
    assert all(len(i) == 36 and i[14] == "4" and i[19] in "89ab" for i in ids)


@pytest.mark.postgres
def test_import_on_postgresql_copies_rows_in_the_transaction(make_registry, postgres_database):
    outbox = Outbox()
    app, ctx = make_registry(outbox, database_url=postgres_database, encryption_key=KEY,
                             import_batch_size=100)
    api = Api(app, ctx)
    api.assembly()
    inserts = []  # row-by-row inserts of persons: none, the rows are copied
    sa.event.listen(ctx.engine, "before_cursor_execute",
                    lambda *a: inserts.append(a[2]) if "INSERT INTO persons" in a[2] else None)
    rows = person_rows(250)
    bad = api.upload("a1", extract(rows + [rows[7]]))  # a duplicate in the last batch
    assert bad.status_code == 422 and bad.json["errors"][0]["row"] == 252
    bad = api.upload("a1", extract(rows[:120] + ["0101010000;;Vej 1;1000;101;1990-01-01;M;"]
                                   + rows[120:]))
    assert bad.status_code == 422
    assert [(e["row"], e["field"]) for e in bad.json["errors"]] == [(122, "name")]
    with ctx.engine.connect() as conn:  # the batches copied before the bad rows: rolled back
        assert conn.scalar(sa.select(sa.func.count()).select_from(models.persons)) == 0
    ok = api.upload("a1", extract(rows))
    assert ok.status_code == 201, ok.json
    with ctx.engine.connect() as conn:
        stored = conn.execute(sa.select(models.persons)).all()
    assert len(stored) == 250
    opened = sorted(ctx.sealer.open(r.sealed)["n"] for r in stored)
    assert opened == sorted(f"Person {k}" for k in range(250))
    assert {r.municipality_code for r in stored} == {101, 147, 230}
    assert {r.sex for r in stored} == {"male", "female"}
    assert inserts == []


def test_a_hard_kill_is_resent_where_the_channel_knows_it_never_went_out(make_registry,
                                                                         monkeypatch):
    """A channel that can tell "certainly not sent" (Digital Post's outbox folder: no file)
    turns the rows a killed worker left in sending into a normal send, not a manual check."""
    outbox = Outbox()
    plain_status = outbox.delivery_status
    outbox.delivery_status = lambda iid: plain_status(iid) or DeliveryResult(
        dispatch.NOT_SENT, "not in the outbox", retryable=True)
    api, ctx, tid, rid, ids = _setup(make_registry, outbox)
    consumer = handlers.channels.consumer(ctx)
    api.post(f"/api/rollouts/{rid}/send", {"template_id": tid})
    monkeypatch.setattr(ctx.dispatcher, "_release", lambda keys: None)  # a kill releases nothing
    send = outbox.send

    def send_then_die(invitation):
        result = send(invitation)
        if len(outbox.sent) == 6:
            raise SystemExit("killed")
        return result

    monkeypatch.setattr(outbox, "send", send_then_die)
    with pytest.raises(SystemExit):
        consumer.poll_once(0.2)
    consumer.close(commit=False)
    monkeypatch.setattr(outbox, "send", send)
    _drain(handlers.channels.consumer(ctx))
    sent = Counter(i.recipient.invitation_id for i in outbox.sent
                   if i.recipient.invitation_id in ids)
    assert sent == Counter(ids)  # every invitation exactly once
    assert _states(ctx) == {i: "sent" for i in ids}


def test_one_at_a_time_resends_what_the_channel_knows_never_went_out(make_registry):
    outbox = Outbox()
    outbox.delivery_status = lambda iid: DeliveryResult(dispatch.NOT_SENT, "no file",
                                                        retryable=True)
    api, ctx, tid, rid, ids = _setup(make_registry, outbox, size=1)
    api.post(f"/api/rollouts/{rid}/send", {"template_id": tid})
    with ctx.engine.begin() as conn:  # what a killed worker leaves: a row in sending
        inv = conn.execute(sa.select(models.invitations)).one()
        conn.execute(models.deliveries.insert().values(
            assembly_id="a1", person_id=inv.person_id, purpose="invitation",
            invitation_id=inv.id, state="sending", channel="outbox", attempts=0, detail="",
            updated_at=dispatch.now()))
    _drain(handlers.channels.consumer(ctx))
    assert [i.recipient.invitation_id for i in outbox.sent
            if i.recipient.invitation_id in ids] == ids
    assert _states(ctx) == {ids[0]: "sent"}
