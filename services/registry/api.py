"""The operator API (JSON). Every change writes an audit entry in its own transaction."""
from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, date, datetime

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, jsonify, request

from services.common import audit, events, outbox
from services.common.auth import current_principal, require
from services.common.hookspecs import Recipient
from services.common.web import ApiError, json_body
from services.contracts.kleroterion.v1.registry_events_pb2 import InvitationRequested
from services.registry import lottery, models, pool
from services.registry.dispatch import event_ids
from services.common.geography import municipalities, resolve_scope
from services.registry.importer import ColumnMapping, MappingError, import_extract

blueprint = Blueprint("registry_api", __name__)
OPERATORS = ("platform_operator", "region_admin")
ANYONE = ("platform_operator", "region_admin", "observer")
_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
LANGUAGES = ("da", "en")


def _ctx():
    return current_app.extensions["kleroterion.context"]


def _now() -> datetime:
    return datetime.now(UTC)


def _audit(conn, action: str, target: str, detail: dict | None = None) -> None:
    who = current_principal()
    audit.record(conn, actor=who.subject, role=who.role, action=action, target=target,
                 detail=detail)


def _assembly(conn, assembly_id: str):
    row = conn.execute(sa.select(models.assemblies)
                       .where(models.assemblies.c.id == assembly_id)).first()
    if row is None:
        raise ApiError("assembly_id", f"no assembly {assembly_id!r}", 404)
    return row


def _open_assembly(conn, assembly_id: str):
    row = _assembly(conn, assembly_id)
    if row.status != "open":
        raise ApiError("assembly_id", "the assembly has ended and its personal data is erased", 409)
    return row


def check_questions(raw) -> list[dict]:
    if not isinstance(raw, list):
        raise ApiError("questions", "must be a list of questions")
    seen = set()
    out = []
    for n, q in enumerate(raw):
        where = f"questions[{n}]"
        if not isinstance(q, dict):
            raise ApiError(where, "must be an object with id, label and options")
        qid = q.get("id")
        if not isinstance(qid, str) or not re.fullmatch(r"[a-z][a-z0-9_]{0,39}", qid):
            raise ApiError(f"{where}.id", "must be lower-case letters, digits and _")
        if qid in seen or qid in ("id", "municipality", "municipality_code", "age_band", "sex"):
            raise ApiError(f"{where}.id", f"{qid!r} is used twice or is a built-in feature")
        seen.add(qid)
        label = q.get("label")
        if not isinstance(label, dict) or any(not isinstance(label.get(lang), str) or
                                              not label[lang].strip() for lang in LANGUAGES):
            raise ApiError(f"{where}.label", "needs a text for da and en")
        options = q.get("options")
        if not isinstance(options, list) or len(options) < 2:
            raise ApiError(f"{where}.options", "needs at least two options")
        values = set()
        for m, o in enumerate(options):
            if (not isinstance(o, dict) or not isinstance(o.get("value"), str) or not o["value"]
                    or not isinstance(o.get("label"), dict)
                    or any(not isinstance(o["label"].get(lang), str) for lang in LANGUAGES)):
                raise ApiError(f"{where}.options[{m}]", "needs a value and a label in da and en")
            if o["value"] in values:
                raise ApiError(f"{where}.options[{m}].value", "is used twice")
            values.add(o["value"])
        out.append({"id": qid, "label": {lang: label[lang] for lang in LANGUAGES},
                    "options": [{"value": o["value"],
                                 "label": {lang: o["label"][lang] for lang in LANGUAGES}}
                                for o in options]})
    return out


def check_dates(raw) -> list[str]:
    if not isinstance(raw, list) or not raw:
        raise ApiError("session_dates", "must be a non-empty list of dates (YYYY-MM-DD)")
    out = []
    for n, d in enumerate(raw):
        try:
            out.append(date.fromisoformat(d).isoformat())
        except (TypeError, ValueError):
            raise ApiError(f"session_dates[{n}]", f"{d!r} is not a date (YYYY-MM-DD)") from None
    return out


# --- assemblies --------------------------------------------------------------------------


@blueprint.post("/api/assemblies")
@require(*OPERATORS)
def create_assembly():
    data = json_body()
    assembly_id = data.get("id") or str(uuid.uuid4())
    if not isinstance(assembly_id, str) or not _ID.match(assembly_id):
        raise ApiError("id", "must be 1-64 letters, digits, '.', '_' or '-'")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise ApiError("name", "is required (at most 200 characters)")
    questions = check_questions(data.get("questions", []))
    dates = check_dates(data.get("session_dates"))
    with _ctx().engine.begin() as conn:
        if conn.scalar(sa.select(models.assemblies.c.id)
                       .where(models.assemblies.c.id == assembly_id)):
            raise ApiError("id", f"assembly {assembly_id!r} exists already", 409)
        conn.execute(models.assemblies.insert().values(
            id=assembly_id, name=name.strip(), questions=json.dumps(questions),
            session_dates=json.dumps(dates), status="open", created_at=_now()))
        _audit(conn, "assembly.create", f"assembly:{assembly_id}", {"questions": len(questions)})
    return jsonify(id=assembly_id, name=name.strip(), questions=questions,
                   session_dates=dates, status="open"), 201


@blueprint.get("/api/assemblies/<assembly_id>")
@require(*ANYONE)
def get_assembly(assembly_id):
    with _ctx().engine.connect() as conn:
        row = _assembly(conn, assembly_id)
        people = conn.scalar(sa.select(sa.func.count()).select_from(models.persons)
                             .where(models.persons.c.assembly_id == assembly_id))
    return jsonify(id=row.id, name=row.name, questions=json.loads(row.questions),
                   session_dates=json.loads(row.session_dates), status=row.status,
                   population=people)


@blueprint.get("/api/municipalities")
@require(*ANYONE)
def list_municipalities():
    return jsonify(municipalities=[{"code": m.code, "name": m.name, "region_code": m.region_code,
                                    "region_name": m.region_name}
                                   for m in municipalities().values()])


# --- extracts ----------------------------------------------------------------------------


@blueprint.post("/api/assemblies/<assembly_id>/extracts")
@require(*OPERATORS)
def import_extract_endpoint(assembly_id):
    ctx = _ctx()
    upload = request.files.get("file")
    if upload is None:
        raise ApiError("file", "is required (multipart/form-data field 'file' with the CSV)")
    try:
        mapping = ColumnMapping.parse(request.form.get("mapping", ""))
    except MappingError as exc:
        raise ApiError(exc.field, exc.reason) from None
    settings = ctx.settings
    conn = ctx.engine.connect()
    try:
        trans = conn.begin()
        _open_assembly(conn, assembly_id)
        try:
            result = import_extract(conn, assembly_id, upload.stream, mapping, ctx.sealer,
                                    batch_size=settings.import_batch_size,
                                    max_errors=settings.import_max_errors)
        except MappingError as exc:
            trans.rollback()
            raise ApiError(exc.field, exc.reason) from None
        if not result.ok:
            trans.rollback()
            return jsonify(error=f"the extract has {result.error_count} bad rows; nothing was "
                                 f"imported", field="file", error_count=result.error_count,
                           errors=result.errors), 422
        _audit(conn, "extract.import", f"assembly:{assembly_id}",
               {"extract_id": result.extract_id, "rows": result.rows, "sha256": result.sha256})
        trans.commit()
    finally:
        conn.close()
    return jsonify(extract_id=result.extract_id, rows=result.rows, sha256=result.sha256), 201


# --- templates ---------------------------------------------------------------------------


def _template(conn, template_id: str):
    row = conn.execute(sa.select(models.templates)
                       .where(models.templates.c.id == template_id)).first()
    if row is None:
        raise ApiError("template_id", f"no template {template_id!r}", 404)
    return row


# A fictitious person every built-in channel can reach (Digital Post needs a CPR number).
_SAMPLE = Recipient(invitation_id="preview", code="PREVIEW234", language="da",
                    name="Eksempel Borger", address_lines=("Eksempelvej 1",), postcode="1000",
                    email="preview@example.invalid", phone="+4500000000", cpr="0101000000")


@blueprint.post("/api/assemblies/<assembly_id>/templates")
@require(*OPERATORS)
def create_template(assembly_id):
    content = json_body().get("content")
    if not isinstance(content, dict) or "da" not in content:
        raise ApiError("content", "must hold at least a Danish text: {\"da\": {\"subject\", \"body\"}}")
    for lang, text in content.items():
        if lang not in LANGUAGES:
            raise ApiError(f"content.{lang}", "language must be da or en")
        for part in ("subject", "body"):
            if not isinstance(text, dict) or not isinstance(text.get(part), str) or not text[part].strip():
                raise ApiError(f"content.{lang}.{part}", "is required")
        if "{code}" not in text["body"]:
            raise ApiError(f"content.{lang}.body", "must contain {code} (the sign-up code)")
    template_id = str(uuid.uuid4())
    with _ctx().engine.begin() as conn:
        _open_assembly(conn, assembly_id)
        conn.execute(models.templates.insert().values(
            id=template_id, assembly_id=assembly_id, content=json.dumps(content),
            created_at=_now()))
        _audit(conn, "template.create", f"template:{template_id}", {"assembly_id": assembly_id})
    return jsonify(id=template_id, approved=False), 201


def _render_all(ctx, row, recipient: Recipient) -> dict:
    from services.registry.dispatch import _Keep, template_for

    with ctx.engine.connect() as conn:
        assembly = ctx.dispatcher._assembly(conn, row.assembly_id)
    text = template_for(json.loads(row.content), recipient.language)
    fields = {"assembly": assembly["name"], "code": recipient.code,
              "signup_url": assembly["signup_url"]}
    filled = {k: v.format_map(_Keep(fields)) for k, v in text.items()}
    # A channel that cannot reach this recipient cannot render for them either (Digital
    # Post without a CPR number); the others still preview and test-send.
    return {name: ch.render(recipient, filled, assembly)
            for name, ch in ctx.dispatcher.channels.items() if ch.can_reach(recipient)}


@blueprint.post("/api/templates/<template_id>/preview")
@require(*ANYONE)
def preview_template(template_id):
    ctx = _ctx()
    data = json_body(optional=True)
    language = data.get("language", "da")
    if language not in LANGUAGES:
        raise ApiError("language", "must be da or en")
    with ctx.engine.connect() as conn:
        row = _template(conn, template_id)
    rendered = _render_all(ctx, row, Recipient(**{**_SAMPLE.__dict__, "language": language}))
    return jsonify(template_id=template_id, previews={
        name: {"subject": inv.subject, "body": inv.body, "signup_url": inv.signup_url,
               "attachments": sorted(inv.attachments)} for name, inv in rendered.items()})


@blueprint.post("/api/templates/<template_id>/test-send")
@require(*OPERATORS)
def test_send_template(template_id):
    ctx = _ctx()
    data = json_body()
    channel_name = data.get("channel")
    if channel_name not in ctx.dispatcher.channels:
        raise ApiError("channel", f"must be one of: {', '.join(sorted(ctx.dispatcher.channels))}")
    to = data.get("recipient")
    if not isinstance(to, dict):
        raise ApiError("recipient", "must be an object (name, email, phone, address, postcode)")
    allowed = {"name", "email", "phone", "address", "postcode", "cpr", "language"}
    for key, value in to.items():
        if key not in allowed or not isinstance(value, str):
            raise ApiError(f"recipient.{key}", f"unknown or not text (fields: {', '.join(sorted(allowed))})")
    recipient = Recipient(invitation_id=f"test-{uuid.uuid4()}", code="TEST234567",
                          language=to.get("language", "da"), name=to.get("name"),
                          address_lines=(to["address"],) if to.get("address") else (),
                          postcode=to.get("postcode"), email=to.get("email"),
                          phone=to.get("phone"), cpr=to.get("cpr"))
    channel = ctx.dispatcher.channels[channel_name]
    if not channel.can_reach(recipient):
        raise ApiError("recipient", f"the {channel_name} channel cannot reach this test recipient")
    with ctx.engine.connect() as conn:
        row = _template(conn, template_id)
    result = channel.send(_render_all(ctx, row, recipient)[channel_name])
    if result.status not in ("sent", "queued"):
        raise ApiError("channel", f"the test send failed: {result.status} {result.detail}", 502)
    with ctx.engine.begin() as conn:
        conn.execute(models.templates.update().where(models.templates.c.id == template_id)
                     .values(test_sent_at=_now()))
        _audit(conn, "template.test_send", f"template:{template_id}", {"channel": channel_name})
    return jsonify(template_id=template_id, channel=channel_name, status=result.status)


@blueprint.post("/api/templates/<template_id>/approve")
@require(*OPERATORS)
def approve_template(template_id):
    with _ctx().engine.begin() as conn:
        row = _template(conn, template_id)
        if row.test_sent_at is None:
            raise ApiError("template_id", "send a test first (POST .../test-send), then approve", 409)
        who = current_principal()
        conn.execute(models.templates.update().where(models.templates.c.id == template_id)
                     .values(approved_at=_now(), approved_by=who.subject))
        _audit(conn, "template.approve", f"template:{template_id}")
    return jsonify(id=template_id, approved=True)


# --- rollouts ----------------------------------------------------------------------------


@blueprint.post("/api/assemblies/<assembly_id>/rollouts")
@require(*OPERATORS)
def create_rollout(assembly_id):
    data = json_body()
    try:
        scope = resolve_scope(data.get("scope"))
    except ValueError as exc:
        raise ApiError("scope", str(exc)) from None
    size = data.get("size")
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ApiError("size", "must be a whole number above 0")
    try:
        weights = lottery.check_weights(data.get("weights"))
    except ValueError as exc:
        field, _, reason = str(exc).partition(": ")
        raise ApiError(field, reason) from None
    household = data.get("one_per_household", False)
    if not isinstance(household, bool):
        raise ApiError("one_per_household", "must be true or false")
    bands = data.get("age_bands")
    if bands is not None and (not isinstance(bands, list) or not all(isinstance(b, str) for b in bands)):
        raise ApiError("age_bands", "must be a list of age bands, e.g. [\"18-29\", \"30-44\"]")
    seed = data.get("seed") or lottery.new_seed()
    if not isinstance(seed, str) or not re.fullmatch(r"[0-9a-f]{1,64}", seed):
        raise ApiError("seed", "must be up to 64 lower-case hex digits")
    ctx = _ctx()
    p, i = models.persons, models.invitations
    rollout_id = str(uuid.uuid4())
    with ctx.engine.begin() as conn:
        _open_assembly(conn, assembly_id)
        already = sa.select(i.c.person_id).where(i.c.assembly_id == assembly_id,
                                                 i.c.person_id.is_not(None))
        query = (sa.select(p.c.id, p.c.municipality_code, p.c.age_band, p.c.sex, p.c.household)
                 .where(p.c.assembly_id == assembly_id, p.c.sealed.is_not(None),
                        p.c.municipality_code.in_(scope.codes), p.c.id.not_in(already)))
        if bands:
            query = query.where(p.c.age_band.in_(bands))
        candidates = [lottery.Candidate(*row) for row in conn.execute(query)]
        try:
            chosen, allocation = lottery.draw(candidates, size, seed, weights, household)
        except ValueError as exc:
            field, _, reason = str(exc).partition(": ")
            raise ApiError(field, reason, 422) from None
        options = {"weights": weights, "one_per_household": household, "age_bands": bands}
        conn.execute(models.rollouts.insert().values(
            id=rollout_id, assembly_id=assembly_id, scope=scope.name, size=size, seed=seed,
            options=json.dumps(options), allocation=json.dumps({str(k): v for k, v in
                                                                allocation.items() if v}),
            status="drawn", created_at=_now()))
        codes: set[str] = set()
        rows = []
        for c in chosen:
            code = lottery.new_code()
            while code in codes:
                code = lottery.new_code()
            codes.add(code)
            rows.append({"id": str(uuid.uuid4()), "rollout_id": rollout_id,
                         "assembly_id": assembly_id, "person_id": c.person_id, "code": code,
                         "municipality_code": c.municipality_code, "age_band": c.age_band,
                         "sex": c.sex, "status": "drawn", "signed_up": False})
        for start in range(0, len(rows), 5000):
            conn.execute(i.insert(), rows[start:start + 5000])
        _audit(conn, "rollout.draw", f"rollout:{rollout_id}",
               {"assembly_id": assembly_id, "scope": scope.name, "size": size, "seed": seed})
    return jsonify(id=rollout_id, scope=scope.name, scope_kind=scope.kind, size=size, seed=seed,
                   invitations=len(rows),
                   allocation={str(k): v for k, v in allocation.items() if v}), 201


def _rollout(conn, rollout_id: str):
    row = conn.execute(sa.select(models.rollouts)
                       .where(models.rollouts.c.id == rollout_id)).first()
    if row is None:
        raise ApiError("rollout_id", f"no rollout {rollout_id!r}", 404)
    return row


@blueprint.get("/api/rollouts/<rollout_id>")
@require(*ANYONE)
def get_rollout(rollout_id):
    i = models.invitations
    with _ctx().engine.connect() as conn:
        row = _rollout(conn, rollout_id)
        states = dict(conn.execute(sa.select(i.c.status, sa.func.count())
                                   .where(i.c.rollout_id == rollout_id).group_by(i.c.status)).all())
    return jsonify(id=row.id, assembly_id=row.assembly_id, scope=row.scope, size=row.size,
                   seed=row.seed, options=json.loads(row.options),
                   allocation=json.loads(row.allocation), status=row.status,
                   template_id=row.template_id, invitations=states)


@blueprint.post("/api/rollouts/<rollout_id>/send")
@require(*OPERATORS)
def send_rollout(rollout_id):
    ctx = _ctx()
    template_id = json_body().get("template_id")
    if not isinstance(template_id, str):
        raise ApiError("template_id", "is required (an approved template)")
    i = models.invitations
    with ctx.engine.begin() as conn:
        rollout = _rollout(conn, rollout_id)
        _open_assembly(conn, rollout.assembly_id)
        template = _template(conn, template_id)
        if template.assembly_id != rollout.assembly_id:
            raise ApiError("template_id", "belongs to another assembly")
        if template.approved_at is None:
            raise ApiError("template_id", "is not approved: preview it, send a test, approve "
                                          "it, then send", 409)
        # Resending is safe: the delivery rows skip anyone already handled.
        ids = conn.scalars(sa.select(i.c.id).where(i.c.rollout_id == rollout_id,
                                                   i.c.status.in_(("drawn", "requested")))
                           .order_by(i.c.id)).all()
        conn.execute(i.update().where(i.c.rollout_id == rollout_id, i.c.status == "drawn")
                     .values(status="requested"))
        conn.execute(models.rollouts.update().where(models.rollouts.c.id == rollout_id)
                     .values(status="sending", template_id=template_id))
        _audit(conn, "rollout.send", f"rollout:{rollout_id}",
               {"template_id": template_id, "invitations": len(ids)})
        # The requests are committed with the send, so a crash or a broker outage after the
        # commit cannot lose them; the outbox publishes them in batches of 1000.
        stamp = datetime.now(UTC)
        for start in range(0, len(ids), 10_000):
            chunk = ids[start:start + 10_000]
            outbox.enqueue_many(conn, [events.new_event(
                InvitationRequested(invitation_id=invitation_id, rollout_id=rollout_id,
                                    template_id=template_id, purpose="invitation"),
                assembly_id=rollout.assembly_id, region=ctx.settings.region,
                producer="registry", correlation_id=rollout_id, event_id=event_id,
                occurred_at=stamp) for invitation_id, event_id in zip(chunk, event_ids(len(chunk)))],
                keys=chunk)
    ctx.outbox.publish_soon()
    return jsonify(id=rollout_id, requested=len(ids)), 202


@blueprint.get("/api/rollouts/<rollout_id>/deliveries")
@require(*ANYONE)
def rollout_deliveries(rollout_id):
    d, i = models.deliveries, models.invitations
    with _ctx().engine.connect() as conn:
        _rollout(conn, rollout_id)
        rows = conn.execute(sa.select(d.c.state, d.c.channel, sa.func.count())
                            .select_from(d.join(i, i.c.id == d.c.invitation_id))
                            .where(i.c.rollout_id == rollout_id)
                            .group_by(d.c.state, d.c.channel)).all()
    return jsonify(rollout_id=rollout_id, deliveries=[
        {"state": s, "channel": c, "count": n} for s, c, n in rows])


# --- pool, registrants, statistics, erasure -----------------------------------------------


@blueprint.get("/api/assemblies/<assembly_id>/statistics")
@require(*ANYONE)
def assembly_statistics(assembly_id):
    with _ctx().engine.connect() as conn:
        _assembly(conn, assembly_id)
        return jsonify(pool.statistics(conn, assembly_id))


@blueprint.post("/api/assemblies/<assembly_id>/pool-exports")
@require(*OPERATORS)
def export_pool(assembly_id):
    ctx = _ctx()
    fmt = request.args.get("format", "json")
    if fmt not in ("json", "csv"):
        raise ApiError("format", "must be json or csv")
    with ctx.engine.begin() as conn:
        _open_assembly(conn, assembly_id)
        body, digest, count, version = pool.export_pool(conn, assembly_id, fmt)
        _audit(conn, "pool.export", f"assembly:{assembly_id}",
               {"pool_version": version, "registrants": count, "sha256": digest})
        outbox.enqueue(conn, pool.pool_exported_event(assembly_id, version, count, digest,
                                                      ctx.settings.region))
        # Counted in the export's transaction: the funnel is the one behind this pool.
        outbox.enqueue(conn, pool.funnel_counted_event(conn, assembly_id, version,
                                                       ctx.settings.region))
    ctx.outbox.publish_soon()
    media = "text/csv" if fmt == "csv" else "application/json"
    return Response(body, 200, {"Content-Type": media, "X-Pool-SHA256": digest,
                                "X-Pool-Version": version})


@blueprint.get("/api/assemblies/<assembly_id>/registrants")
@require(*ANYONE)
def list_registrants(assembly_id):
    r = models.registrants
    with _ctx().engine.connect() as conn:
        _assembly(conn, assembly_id)
        rows = conn.execute(sa.select(r.c.id, r.c.state, r.c.municipality_code)
                            .where(r.c.assembly_id == assembly_id).order_by(r.c.created_at)).all()
    return jsonify(registrants=[{"id": x.id, "state": x.state,
                                 "municipality_code": x.municipality_code} for x in rows])


@blueprint.post("/api/registrants/<registrant_id>/state")
@require(*OPERATORS)
def change_state(registrant_id):
    wanted = json_body().get("state")
    if not isinstance(wanted, str):
        raise ApiError("state", f"is required (one of {', '.join(pool.STATES)})")
    r = models.registrants
    with _ctx().engine.begin() as conn:
        current = conn.scalar(sa.select(r.c.state).where(r.c.id == registrant_id))
        if current is None:
            raise ApiError("registrant_id", f"no registrant {registrant_id!r}", 404)
        try:
            pool.check_transition(current, wanted)
        except pool.TransitionError as exc:
            raise ApiError("state", str(exc), 409) from None
        except ValueError as exc:
            raise ApiError("state", str(exc)) from None
        if wanted == "erased":
            pool.erase_registrant(conn, registrant_id)
        else:
            conn.execute(r.update().where(r.c.id == registrant_id)
                         .values(state=wanted, updated_at=_now()))
        _audit(conn, "registrant.state", f"registrant:{registrant_id}",
               {"from": current, "to": wanted})
    return jsonify(id=registrant_id, state=wanted)


@blueprint.post("/api/assemblies/<assembly_id>/end")
@require("platform_operator")
def end_assembly(assembly_id):
    with _ctx().engine.begin() as conn:
        _open_assembly(conn, assembly_id)
        result = pool.end_assembly(conn, assembly_id)
        _audit(conn, "assembly.end", f"assembly:{assembly_id}", result)
    return jsonify(id=assembly_id, status="ended", **result)


@blueprint.get("/openapi.json")
def openapi():
    from services.registry.openapi import document

    return jsonify(document())
