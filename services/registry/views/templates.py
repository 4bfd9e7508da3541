"""Invitation letters: an operator writes an assembly's template, previews it on every
channel, sends a test to themselves and approves it; only an approved template is sent."""
from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime

from flask import Blueprint, Response, jsonify

from services.common.auth import current_principal, require
from services.common.hookspecs import Recipient
from services.common.web import ApiError, json_body
from services.registry import inputs, models, queries
from services.registry.context import current
from services.registry.roles import ANYONE, OPERATORS

blueprint = Blueprint("registry_templates", __name__)

# A fictitious person every built-in channel can reach (Digital Post needs a CPR number).
_SAMPLE = Recipient(invitation_id="preview", code="PREVIEW234", language="da",
                    name="Eksempel Borger", address_lines=("Eksempelvej 1",), postcode="1000",
                    email="preview@example.invalid", phone="+4500000000", cpr="0101000000")


@blueprint.post("/api/assemblies/<assembly_id>/templates")
@require(*OPERATORS)
def create_template(assembly_id: str) -> tuple[Response, int]:
    content = inputs.template_content(json_body())
    template_id = str(uuid.uuid4())
    with current().engine.begin() as conn:
        queries.open_assembly(conn, assembly_id)
        conn.execute(models.templates.insert().values(
            id=template_id, assembly_id=assembly_id, content=json.dumps(content),
            created_at=datetime.now(UTC)))
        inputs.audit_change(conn, "template.create", f"template:{template_id}",
                            {"assembly_id": assembly_id})
    return jsonify(id=template_id, approved=False), 201


@blueprint.post("/api/templates/<template_id>/preview")
@require(*ANYONE)
def preview_template(template_id: str) -> Response:
    ctx = current()
    language = inputs.preview_language(json_body(optional=True))
    with ctx.engine.connect() as conn:
        row = queries.template(conn, template_id)
    rendered = ctx.dispatcher.previews(row.assembly_id, json.loads(row.content),
                                       replace(_SAMPLE, language=language))
    return jsonify(template_id=template_id, previews={
        name: {"subject": inv.subject, "body": inv.body, "signup_url": inv.signup_url,
               "attachments": sorted(inv.attachments)} for name, inv in rendered.items()})


@blueprint.post("/api/templates/<template_id>/test-send")
@require(*OPERATORS)
def test_send_template(template_id: str) -> Response:
    ctx = current()
    channel_name, recipient = inputs.test_send(json_body(), ctx.dispatcher.channels)
    channel = ctx.dispatcher.channels[channel_name]
    if not channel.can_reach(recipient):
        raise ApiError("recipient", f"the {channel_name} channel cannot reach this test recipient")
    with ctx.engine.connect() as conn:
        row = queries.template(conn, template_id)
    rendered = ctx.dispatcher.previews(row.assembly_id, json.loads(row.content), recipient)
    result = channel.send(rendered[channel_name])
    if result.status not in ("sent", "queued"):
        raise ApiError("channel", f"the test send failed: {result.status} {result.detail}", 502)
    with ctx.engine.begin() as conn:
        conn.execute(models.templates.update().where(models.templates.c.id == template_id)
                     .values(test_sent_at=datetime.now(UTC)))
        inputs.audit_change(conn, "template.test_send", f"template:{template_id}",
                            {"channel": channel_name})
    return jsonify(template_id=template_id, channel=channel_name, status=result.status)


@blueprint.post("/api/templates/<template_id>/approve")
@require(*OPERATORS)
def approve_template(template_id: str) -> Response:
    with current().engine.begin() as conn:
        row = queries.template(conn, template_id)
        if row.test_sent_at is None:
            raise ApiError("template_id", "send a test first (POST .../test-send), then approve",
                           409)
        who = current_principal()
        conn.execute(models.templates.update().where(models.templates.c.id == template_id)
                     .values(approved_at=datetime.now(UTC), approved_by=who.subject))
        inputs.audit_change(conn, "template.approve", f"template:{template_id}")
    return jsonify(id=template_id, approved=True)
