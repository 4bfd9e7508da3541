"""The registry service: extracts, geography, the lottery, sending, sign-up, the pool,
erasure and the operator API."""
from __future__ import annotations

import csv
import hashlib
import io
from collections import Counter

import pytest
import sqlalchemy as sa
from registry_support import MAPPING, Api, Outbox, extract, person_rows

from services.common import audit, events
from services.common.geography import municipalities, resolve_scope
from services.common.hookspecs import DeliveryResult
from services.common.settings import SettingsError
from services.contracts.kleroterion.v1.sortition_events_pb2 import PanelDrawn, SubstitutesDrawn
from services.registry import crypto, handlers, lottery, models
from services.registry.settings import Settings


def setup(make_registry, *channels, n=60, **kw):
    app, ctx = make_registry(*channels, **kw)
    api = Api(app, ctx)
    api.assembly()
    r = api.upload("a1", extract(person_rows(n)))
    assert r.status_code == 201, r.json
    return app, ctx, api


# --- geography ------------------------------------------------------------------------


def test_98_municipalities_in_5_regions():
    ms = municipalities()
    assert len(ms) == 98 and len({m.code for m in ms.values()}) == 98
    counts = Counter((m.region_code, m.region_name) for m in ms.values())
    assert counts == {(1084, "Region Hovedstaden"): 29, (1085, "Region Sjælland"): 17,
                      (1083, "Region Syddanmark"): 22, (1082, "Region Midtjylland"): 19,
                      (1081, "Region Nordjylland"): 11}
    for code, name in [(101, "København"), (147, "Frederiksberg"), (230, "Rudersdal"),
                       (461, "Odense"), (751, "Aarhus"), (851, "Aalborg")]:
        assert ms[code].name == name


def test_scope_by_name():
    assert resolve_scope("Region Hovedstaden").kind == "region"
    assert len(resolve_scope("hovedstaden").codes) == 29
    assert resolve_scope("Rudersdal Kommune").codes == (230,)
    assert len(resolve_scope("Danmark").codes) == 98
    with pytest.raises(ValueError, match="Atlantis"):
        resolve_scope("Atlantis")


# --- import ---------------------------------------------------------------------------


def test_import_seals_personal_data(make_registry):
    app, ctx, api = setup(make_registry, n=10)
    with ctx.engine.connect() as conn:
        rows = conn.execute(sa.select(models.persons)).all()
        dump = str(conn.execute(sa.text("SELECT * FROM persons")).fetchall())
    assert len(rows) == 10
    assert "Person 3" not in dump and "example.invalid" not in dump
    assert ctx.sealer.open(rows[3].sealed)["n"] == "Person 3"
    entries = audit.entries(ctx.engine, target="assembly:a1")
    assert [e.action for e in entries] == ["assembly.create", "extract.import"]


def test_bad_rows_are_all_named_and_nothing_is_imported(registry):
    app, ctx = registry
    api = Api(app, ctx)
    api.assembly()
    rows = person_rows(5)
    rows[1] = rows[1].replace(";147;", ";999;")
    rows[3] = rows[3].replace("1943-01-04", "1943-13-40")
    rows.append(rows[0])  # duplicate person key
    rows.append("1;2")
    r = api.upload("a1", extract(rows))
    assert r.status_code == 422 and r.json["field"] == "file"
    got = {(e["row"], e["field"]) for e in r.json["errors"]}
    assert got == {(3, "municipality_code"), (5, "birth_date"), (7, "person_key"), (8, "row")}
    assert r.json["error_count"] == 4
    with ctx.engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(models.persons)) == 0
        assert conn.scalar(sa.select(sa.func.count()).select_from(models.extracts)) == 0


def test_error_list_is_capped(make_registry):
    app, ctx = make_registry(import_max_errors=5)
    api = Api(app, ctx)
    api.assembly()
    rows = [r.replace(";M;", ";?;").replace(";K;", ";?;") for r in person_rows(20)]
    r = api.upload("a1", extract(rows))
    assert r.status_code == 422 and len(r.json["errors"]) == 5 and r.json["error_count"] == 20


@pytest.mark.parametrize("mapping,field", [
    ({"columns": {"name": "Navn"}}, "mapping.columns.person_key"),
    ({**MAPPING, "delimiter": ";;"}, "mapping.delimiter"),
    ({**MAPPING, "columns": {**MAPPING["columns"], "name": "Fornavn"}}, "mapping.columns.name"),
    ({**MAPPING, "columns": {**MAPPING["columns"], "shoe_size": "x"}}, "mapping.columns.shoe_size"),
])
def test_bad_mapping_is_named(registry, mapping, field):
    app, ctx = registry
    api = Api(app, ctx)
    api.assembly()
    r = api.upload("a1", extract(person_rows(3)), mapping=mapping)
    assert r.status_code == 400 and r.json["field"] == field, r.json


def test_reimporting_the_same_people_is_refused(make_registry):
    app, ctx, api = setup(make_registry, n=5)
    r = api.upload("a1", extract(person_rows(5)))
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "person_key"


# --- lottery --------------------------------------------------------------------------


def test_allocation_is_proportional_with_largest_remainders():
    assert lottery.allocate(10, {1: 50, 2: 30, 3: 20}) == {1: 5, 2: 3, 3: 2}
    assert lottery.allocate(7, {1: 50, 2: 30, 3: 20}) == {1: 4, 2: 2, 3: 1}
    assert lottery.allocate(10, {1: 2, 2: 100}) == {1: 0, 2: 10}
    assert lottery.allocate(10, {1: 6, 2: 100}) == {1: 1, 2: 9}
    assert lottery.allocate(5, {1: 1, 2: 1000, 3: 1000}) == {1: 0, 2: 3, 3: 2}  # tie: lower code
    with pytest.raises(ValueError, match="size"):
        lottery.allocate(10, {1: 3})


def test_draw_is_reproducible_weighted_and_one_per_household():
    cands = [lottery.Candidate(i, 101 + (i // 2) % 2, "18-29" if i % 4 == 0 else "45-59",
                               "male", f"h{i // 2}") for i in range(4000)]
    a, _ = lottery.draw(cands, 400, "abc123", {"age_band": {"18-29": 3.0}}, True)
    b, _ = lottery.draw(list(reversed(cands)), 400, "abc123", {"age_band": {"18-29": 3.0}}, True)
    assert [c.person_id for c in a] == [c.person_id for c in b]
    assert len({c.household for c in a}) == 400
    young = sum(c.age_band == "18-29" for c in a) / 400
    assert young > 0.32  # 25 % of the population (sd of the share ~0.02), weighted up 3x
    c, _ = lottery.draw(cands, 400, "abc124", {}, False)
    assert [x.person_id for x in a] != [x.person_id for x in c]


def test_codes_are_unambiguous():
    codes = {lottery.new_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(len(c) == 10 and not set(c) & set("01OIL") for c in codes)


def test_rollout_through_the_api(make_registry):
    app, ctx, api = setup(make_registry, n=90)
    r = api.post("/api/assemblies/a1/rollouts", {"scope": "Frederiksberg", "size": 10,
                                                 "seed": "ff00"})
    assert r.status_code == 201 and r.json["allocation"] == {"147": 10}
    r2 = api.post("/api/assemblies/a1/rollouts", {"scope": "Region Hovedstaden", "size": 81})
    assert r2.status_code == 422 and r2.json["field"] == "size"  # 10 already invited
    for body, field in [({"scope": "Mars", "size": 1}, "scope"),
                        ({"scope": "Danmark", "size": 0}, "size"),
                        ({"scope": "Danmark", "size": 1, "weights": {"eyes": {}}}, "weights.eyes"),
                        ({"scope": "Danmark", "size": 1, "seed": "xyz"}, "seed")]:
        bad = api.post("/api/assemblies/a1/rollouts", body)
        assert bad.status_code == 400 and bad.json["field"] == field
    got = api.get(f"/api/rollouts/{r.json['id']}").json
    assert got["seed"] == "ff00" and got["invitations"] == {"drawn": 10}


# --- sending --------------------------------------------------------------------------


def _rollout(api, size=9, scope="Region Hovedstaden"):
    r = api.post("/api/assemblies/a1/rollouts", {"scope": scope, "size": size})
    assert r.status_code == 201, r.json
    return r.json["id"]


def test_send_refuses_until_a_template_is_approved(make_registry):
    app, ctx, api = setup(make_registry, n=30)
    rid = _rollout(api)
    t = api.post("/api/assemblies/a1/templates", {"content": {"da": {"subject": "S",
                                                                     "body": "Kode {code}"}}})
    tid = t.json["id"]
    preview = api.post(f"/api/templates/{tid}/preview", {"language": "da"})
    assert preview.json["previews"]["outbox"]["body"] == "Kode PREVIEW234"
    r = api.post(f"/api/rollouts/{rid}/send", {"template_id": tid})
    assert r.status_code == 409 and r.json["field"] == "template_id"
    r = api.post(f"/api/templates/{tid}/approve")
    assert r.status_code == 409  # no test send yet
    bad = api.post("/api/assemblies/a1/templates",
                   {"content": {"da": {"subject": "S", "body": "x"}}})
    assert bad.status_code == 400 and bad.json["field"] == "content.da.body"


def test_send_delivers_once_retries_and_falls_back(make_registry):
    primary = Outbox("digital_post", reach=lambda r: r.name != "Person 0")
    fallback = Outbox("letter", reach=lambda r: True)
    app, ctx, api = setup(make_registry, primary, fallback, n=30,
                          plugins=("formats", "test-channels")) if False else \
        setup(make_registry, primary, fallback, n=30)
    tid = api.approved_template("a1", channel="letter")
    rid = _rollout(api, size=30)
    with ctx.engine.connect() as conn:
        ids = conn.scalars(sa.select(models.invitations.c.id)).all()
    primary.fail[ids[0]] = [DeliveryResult("failed", "timeout", retryable=True)]
    primary.fail[ids[1]] = [DeliveryResult("bounced", "no mailbox")]
    consumer = handlers.channels.consumer(ctx)
    delivered = []
    ctx.bus.consumer("t.delivered", ["invitation_delivered"], delivered.append)
    assert api.post(f"/api/rollouts/{rid}/send", {"template_id": tid}).status_code == 202
    consumer.poll_once(0.5)
    # A second send (an operator's double click) publishes again; nothing is sent twice.
    api.post(f"/api/rollouts/{rid}/send", {"template_id": tid})
    consumer.poll_once(0.5)
    with ctx.engine.connect() as conn:
        rows = {r.invitation_id: r for r in conn.execute(sa.select(models.deliveries))}
    assert len(rows) == 30 and all(r.state == "sent" for r in rows.values())
    assert rows[ids[0]].channel in ("digital_post", "letter")
    if rows[ids[0]].channel == "digital_post":
        assert rows[ids[0]].attempts == 2  # retried after the timeout
    assert rows[ids[1]].channel == "letter"  # the bounce fell back to the next channel
    all_sent = [i.recipient.invitation_id for i in primary.sent + fallback.sent
                if not i.recipient.invitation_id.startswith("test-")]
    assert sorted(all_sent) == sorted(ids)
    per_person = Counter(all_sent)
    assert max(per_person.values()) == 1
    assert api.get(f"/api/rollouts/{rid}").json["invitations"] == {"sent": 30}


def test_crash_after_send_is_resolved_by_asking_the_channel(make_registry):
    outbox = Outbox()
    app, ctx, api = setup(make_registry, outbox, n=12)
    tid = api.approved_template("a1")
    rid = _rollout(api, size=3, scope="Rudersdal")
    with ctx.engine.connect() as conn:
        ids = conn.scalars(sa.select(models.invitations.c.id)).all()
    outbox.crash_after_send.add(ids[0])
    consumer = handlers.channels.consumer(ctx)
    api.post(f"/api/rollouts/{rid}/send", {"template_id": tid})
    with pytest.raises(SystemExit):
        while True:
            consumer.poll_once(0.2)
    consumer.close(commit=False)
    again = handlers.channels.consumer(ctx)
    while again.poll_once(0.2):
        pass
    assert Counter(outbox.calls)[ids[0]] == 1
    with ctx.engine.connect() as conn:
        states = dict(conn.execute(sa.select(models.deliveries.c.invitation_id,
                                             models.deliveries.c.state)).all())
    assert states == {i: "sent" for i in ids}


def test_in_flight_without_an_answer_is_marked_for_manual_check(make_registry):
    outbox = Outbox()
    outbox.delivery_status = lambda invitation_id: None
    app, ctx, api = setup(make_registry, outbox, n=3)
    tid = api.approved_template("a1")
    rid = _rollout(api, size=1, scope="Rudersdal")
    with ctx.engine.connect() as conn:
        iid = conn.scalar(sa.select(models.invitations.c.id))
    outbox.crash_after_send = {iid}
    consumer = handlers.channels.consumer(ctx)
    api.post(f"/api/rollouts/{rid}/send", {"template_id": tid})
    with pytest.raises(SystemExit):
        consumer.poll_once(0.2)
    consumer.close(commit=False)
    handlers.channels.consumer(ctx).poll_once(0.2)
    assert outbox.calls.count(iid) == 1
    with ctx.engine.connect() as conn:
        assert conn.scalar(sa.select(models.deliveries.c.state)) == "manual_check"


def test_unreachable_people_are_recorded(make_registry):
    outbox = Outbox(reach=lambda r: False)
    app, ctx, api = setup(make_registry, outbox, n=3)
    t = api.post("/api/assemblies/a1/templates",
                 {"content": {"da": {"subject": "S", "body": "{code}"}}})
    with ctx.engine.begin() as conn:  # approve directly: no channel can reach a test person
        conn.execute(models.templates.update().values(approved_at=sa.func.now(),
                                                      test_sent_at=sa.func.now()))
    rid = _rollout(api, size=1, scope="Rudersdal")
    consumer = handlers.channels.consumer(ctx)
    api.post(f"/api/rollouts/{rid}/send", {"template_id": t.json["id"]})
    consumer.poll_once(0.2)
    assert api.get(f"/api/rollouts/{rid}").json["invitations"] == {"unreachable": 1}


# --- sign-up, pool, selection -----------------------------------------------------------


def _codes(ctx):
    with ctx.engine.connect() as conn:
        return conn.scalars(sa.select(models.invitations.c.code)
                            .order_by(models.invitations.c.id)).all()


def test_signup_json_pool_export_and_selection(make_registry):
    outbox = Outbox()
    app, ctx, api = setup(make_registry, outbox, n=30)
    _rollout(api, size=9)
    codes = _codes(ctx)
    client = app.test_client()
    q = client.get(f"/api/public/signup/{codes[0].lower()}")
    assert q.status_code == 200 and q.json["questions"][0]["id"] == "education"
    r = client.post("/api/public/signup", json={"code": codes[0], "answers": {},
                                                "available": True, "language": "en"})
    assert r.status_code == 422
    assert {e["field"] for e in r.json["errors"]} == {"education", "consent"}
    assert client.post("/api/public/signup", json={"code": "NOPE"}).status_code == 404
    registrants = []
    for n, code in enumerate(codes[:6]):
        r = client.post("/api/public/signup", json={
            "code": code, "answers": {"education": "short" if n % 2 else "long"},
            "available": True, "consent": True})
        assert r.status_code == 201, r.json
        registrants.append(r.json["registrant_id"])
    again = client.post("/api/public/signup", json={"code": codes[0], "answers": {
        "education": "long"}, "available": True, "consent": True})
    assert again.status_code == 409 and again.json["field"] == "code"

    exported = []
    ctx.bus.consumer("t.pool", ["pool_exported"], exported.append)
    r = api.post("/api/assemblies/a1/pool-exports?format=csv")
    assert r.status_code == 200
    assert hashlib.sha256(r.data).hexdigest() == r.headers["X-Pool-SHA256"]
    rows = list(csv.DictReader(io.StringIO(r.data.decode())))
    assert sorted(x["id"] for x in rows) == sorted(registrants)
    assert set(rows[0]) == {"id", "municipality_code", "age_band", "sex", "education"}
    assert "Person" not in r.data.decode() and "example" not in r.data.decode()
    pool_consumer = [c for c in ctx.bus._members["t.pool"]][0]
    pool_consumer.poll_once(0.2)
    assert exported[0].pool_exported.sha256 == r.headers["X-Pool-SHA256"]

    selection = handlers.selection.consumer(ctx)
    dispatch = handlers.channels.consumer(ctx)
    drawn = events.new_event(PanelDrawn(run_id="r", member_ids=registrants[:3]),
                             assembly_id="a1", region="local", producer="sortition")
    ctx.bus.publish(drawn)
    ctx.bus.publish(drawn)  # redelivered: applied once
    ctx.bus.publish(events.new_event(SubstitutesDrawn(run_id="r", substitute_ids=registrants[3:5]),
                                     assembly_id="a1", region="local", producer="sortition"))
    selection.poll_once(0.2)
    dispatch.poll_once(0.2)
    states = {x["id"]: x["state"]
              for x in api.get("/api/assemblies/a1/registrants").json["registrants"]}
    assert [states[x] for x in registrants] == ["selected"] * 3 + ["substitute"] * 2 + ["pool"]
    notices = [i for i in outbox.sent if "trukket ud" in i.subject]
    assert len(notices) == 3
    # Channels send each message id once: the notice must not reuse the invitation's id.
    invitation_ids = {i.recipient.invitation_id for i in outbox.sent if i not in notices}
    assert all(n.recipient.invitation_id.endswith(".selected") for n in notices)
    assert not {n.recipient.invitation_id for n in notices} & invitation_ids

    r = api.post(f"/api/registrants/{registrants[5]}/state", {"state": "confirmed"})
    assert r.status_code == 409 and "pool" in r.json["error"]
    assert api.post(f"/api/registrants/{registrants[0]}/state",
                    {"state": "confirmed"}).status_code == 200
    r = api.post(f"/api/registrants/{registrants[1]}/state", {"state": "erased"})
    assert r.status_code == 200
    with ctx.engine.connect() as conn:
        sealed = conn.scalars(sa.select(models.persons.c.sealed)).all()
    assert sealed.count(None) == 1

    stats = api.get("/api/assemblies/a1/statistics").json
    assert stats["total"] == {"invited": 9, "signed_up": 6, "response_rate": 0.6667}
    assert sum(m["invited"] for m in stats["municipalities"]) == 9
    assert stats["features"]["education"]["long"]["signed_up"] == 3

    r = api.post("/api/assemblies/a1/end")
    assert r.status_code == 200
    with ctx.engine.connect() as conn:
        for table in (models.persons, models.invitations, models.registrants, models.deliveries):
            assert conn.scalar(sa.select(sa.func.count()).select_from(table)) == 0
    assert api.get("/api/assemblies/a1/statistics").json["total"] == stats["total"]
    assert api.upload("a1", extract(person_rows(2, start=500))).status_code == 409


def test_the_pool_export_comes_with_the_funnel_counted_in_its_transaction(make_registry):
    app, ctx, api = setup(make_registry, n=30)
    _rollout(api, size=9)
    codes = _codes(ctx)
    client = app.test_client()
    for code in codes[:5]:
        r = client.post("/api/public/signup", json={
            "code": code, "answers": {"education": "long"}, "available": True,
            "consent": True})
        assert r.status_code == 201, r.json
    r = api.post("/api/assemblies/a1/pool-exports?format=csv")
    assert r.status_code == 200
    columns = set(next(csv.reader(io.StringIO(r.data.decode())))) - {"id"}
    [exported] = [events.decode(x.value) for x in
                  ctx.bus.read_topic(events.topic_for("pool_exported"))]
    [counted] = [events.decode(x.value) for x in
                 ctx.bus.read_topic(events.topic_for("funnel_counted"))]
    funnel = counted.funnel_counted
    assert counted.assembly_id == "a1" and counted.producer == "registry"
    assert funnel.pool_version == exported.pool_exported.pool_version == r.headers["X-Pool-Version"]
    assert (funnel.population_total, funnel.invited_total, funnel.signed_up_total) == (30, 9, 5)
    got = {(c.feature, c.value): (c.population, c.invited, c.signed_up) for c in funnel.counts}
    # Joined with the quotas by feature name: the same names as the export's columns.
    assert {f for f, _ in got} == columns == {"municipality_code", "age_band", "sex", "education"}
    with ctx.engine.connect() as conn:
        people = conn.execute(sa.select(models.persons)).all()
        invited = conn.execute(sa.select(models.invitations)).all()
    for feature in ("municipality_code", "age_band", "sex"):
        population = Counter(str(getattr(x, feature)) for x in people)
        sent = Counter(str(getattr(x, feature)) for x in invited)
        signed = Counter(str(getattr(x, feature)) for x in invited if x.signed_up)
        assert {v: n for (f, v), n in got.items() if f == feature} == {
            v: (population[v], sent[v], signed[v]) for v in population}
    # The extract holds no answers; an option nobody chose is counted as zero.
    assert got[("education", "long")] == (0, 0, 5)
    assert got[("education", "short")] == (0, 0, 0)


# --- operator API, restart, settings ---------------------------------------------------


def test_openapi_lists_every_api_route(registry):
    app, ctx = registry
    doc = app.test_client().get("/openapi.json").json
    assert doc["openapi"].startswith("3.")
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api"):
            path = rule.rule.replace("<", "{").replace(">", "}")
            assert path in doc["paths"], path
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                assert method.lower() in doc["paths"][path], (path, method)


def test_roles_are_enforced(registry):
    app, ctx = registry
    observer = Api(app, ctx, role="observer")
    r = observer.post("/api/assemblies", {"name": "x", "session_dates": ["2030-01-01"]})
    assert r.status_code == 403
    assert app.test_client().get("/api/municipalities").status_code == 401
    assert len(observer.get("/api/municipalities").json["municipalities"]) == 98


def test_bad_assembly_input_is_named(registry):
    app, ctx = registry
    api = Api(app, ctx)
    for body, field in [({"name": ""}, "name"),
                        ({"name": "x", "session_dates": ["soon"]}, "session_dates[0]"),
                        ({"name": "x", "session_dates": ["2030-01-01"],
                          "questions": [{"id": "Bad Id"}]}, "questions[0].id")]:
        r = api.post("/api/assemblies", body)
        assert r.status_code == 400 and r.json["field"] == field
    assert api.post("/api/assemblies", "nope").json["field"] == "body"


def test_state_survives_a_restart(make_registry, tmp_path):
    app, ctx, api = setup(make_registry, n=12)
    rid = _rollout(api, size=3, scope="Rudersdal")
    token = api.headers
    ctx.engine.dispose()
    app2, ctx2 = make_registry()
    r = app2.test_client().get(f"/api/rollouts/{rid}", headers=token)
    assert r.status_code == 200 and r.json["invitations"] == {"drawn": 3}
    with ctx2.engine.connect() as conn:  # the generated key file was reused
        sealed = conn.scalar(sa.select(models.persons.c.sealed).limit(1))
    assert ctx2.sealer.open(sealed)["n"].startswith("Person")


def test_key_is_required_off_sqlite(tmp_path):
    settings = Settings.from_env({}, data_dir=str(tmp_path),
                                 database_url="postgresql+psycopg://x@localhost/none")
    with pytest.raises(SettingsError) as err:
        crypto.load_key(settings)
    assert err.value.variable == "KLERO_REGISTRY_ENCRYPTION_KEY"
    bad = Settings.from_env({"KLERO_REGISTRY_ENCRYPTION_KEY": "c2hvcnQ="}, data_dir=str(tmp_path))
    with pytest.raises(SettingsError, match="32 bytes"):
        crypto.load_key(bad)


def test_preview_and_test_send_skip_channels_that_cannot_reach(make_registry):
    # Digital Post cannot render for a recipient without a CPR number; that must not break
    # the preview or a test letter sent to an address only.
    dp = Outbox("digital_post", reach=lambda r: r.cpr is not None)
    letter = Outbox("letter", reach=lambda r: bool(r.address_lines))

    def render(recipient, template, assembly, _orig=dp.render):
        if recipient.cpr is None:
            raise ValueError("recipient.cpr: Digital Post needs a valid CPR number")
        return _orig(recipient, template, assembly)

    dp.render = render
    app, ctx, api = setup(make_registry, dp, letter, n=3)
    t = api.post("/api/assemblies/a1/templates", {"content": {"da": {"subject": "S",
                                                                     "body": "Kode {code}"}}})
    tid = t.json["id"]
    preview = api.post(f"/api/templates/{tid}/preview", {"language": "da"})
    assert preview.status_code == 200, preview.json
    assert set(preview.json["previews"]) == {"digital_post", "letter"}
    r = api.post(f"/api/templates/{tid}/test-send",
                 {"channel": "letter", "recipient": {"name": "Test", "address": "Vej 1",
                                                     "postcode": "1000"}})
    assert r.status_code == 200, r.json
