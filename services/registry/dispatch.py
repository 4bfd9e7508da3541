"""The channel worker: turns ``invitation_requested`` events into letters, posts and texts.

Never twice to the same person: before a channel is called, a delivery row unique on
(assembly, person, purpose) is committed in state ``sending``. The outcome (``sent``,
``failed``, ``unreachable``) and the event's claim (``storage.apply_once``) are committed
together afterwards. So a redelivered event, or a second rollout reaching the same person,
finds the row and sends nothing. If a worker dies between the two commits the row is left
in ``sending``; on redelivery we do not know whether the channel sent it, so we ask the
channel's ``delivery_status``: a ``sent``/``queued`` answer completes the row, a final
failure records it, and no answer marks the row ``manual_check`` for an operator — a
missing letter can be resent by hand, a duplicate cannot be unsent.
"""
from __future__ import annotations

import json
import logging
import time
from datetime import datetime, timezone
from typing import Any, Mapping

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from services.common import events, logs, storage
from services.common.hookspecs import DeliveryResult, InvitationChannel, Recipient
from services.contracts.kleroterion.v1.registry_events_pb2 import (InvitationDelivered,
                                                                    InvitationRequested)
from services.registry import models
from services.registry.crypto import Sealer

log = logging.getLogger(__name__)
GROUP = "registry.channels"
SENT = ("sent", "queued")
SELECTED_TEMPLATE = "builtin:selected"
SELECTED_CONTENT = {
    "da": {"subject": "Du er trukket ud til {assembly}",
           "body": "Du er blevet trukket ud som medlem af {assembly}. Bekræft din plads med "
                   "koden {code}."},
    "en": {"subject": "You have been selected for {assembly}",
           "body": "You have been selected as a member of {assembly}. Confirm your seat with "
                   "the code {code}."},
}


def now() -> datetime:
    return datetime.now(timezone.utc)


def recipient_for(sealer: Sealer, invitation_id: str, code: str, sealed: bytes) -> Recipient:
    p = sealer.open(sealed)
    return Recipient(invitation_id=invitation_id, code=code, language=p.get("l", "da"),
                     digital_post_exempt=bool(p.get("x")), cpr=p["k"], name=p["n"],
                     address_lines=(p["a"],), postcode=p["p"], phone=p.get("ph"),
                     email=p.get("e"))


class _Keep(dict):
    # Placeholders a channel fills itself (e.g. {name}) pass through untouched.
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def template_for(content: Mapping[str, Any], language: str) -> dict:
    return dict(content.get(language) or content.get("da") or next(iter(content.values())))


class Dispatcher:
    def __init__(self, ctx, sealer: Sealer, *, attempts: int = 3, backoff: float = 0.2,
                 signup_url: str = ""):
        self.ctx = ctx
        self.sealer = sealer
        self.attempts = attempts
        self.backoff = backoff
        self.signup_url = signup_url
        self._channels: dict[str, InvitationChannel] | None = None
        self._templates: dict[str, dict] = {}
        self._assemblies: dict[str, dict] = {}

    @property
    def channels(self) -> dict[str, InvitationChannel]:
        # Built once: each call of the hook makes new channel objects.
        if self._channels is None:
            self._channels = self.ctx.plugins.channels()
        return self._channels

    def consumer(self):
        return self.ctx.bus.consumer(GROUP, ["invitation_requested"], self.handle,
                                     applied=self.ctx.applied)

    def _template(self, conn, template_id: str) -> dict:
        if template_id == SELECTED_TEMPLATE:
            return SELECTED_CONTENT
        if template_id not in self._templates:  # approved templates never change
            content = conn.scalar(sa.select(models.templates.c.content)
                                  .where(models.templates.c.id == template_id))
            if content is None:
                raise LookupError(f"template {template_id} does not exist")
            self._templates[template_id] = json.loads(content)
        return self._templates[template_id]

    def _assembly(self, conn, assembly_id: str) -> dict:
        if assembly_id not in self._assemblies:
            row = conn.execute(sa.select(models.assemblies)
                               .where(models.assemblies.c.id == assembly_id)).one()
            self._assemblies[assembly_id] = {
                "id": row.id, "name": row.name, "signup_url": self.signup_url,
                "session_dates": json.loads(row.session_dates)}
        return self._assemblies[assembly_id]

    def _finish(self, envelope, key: tuple, state: str, channel: str | None, attempts: int,
                detail: str, invitation_id: str, purpose: str) -> None:
        detail = logs.scrub(detail)[:500]
        with self.ctx.engine.begin() as conn:
            if not storage.apply_once(conn, GROUP, envelope.event_id):
                return
            d = models.deliveries
            conn.execute(d.update().where(d.c.assembly_id == key[0], d.c.person_id == key[1],
                                          d.c.purpose == key[2])
                         .values(state=state, channel=channel, attempts=attempts, detail=detail,
                                 updated_at=now()))
            if purpose == "invitation":
                conn.execute(models.invitations.update()
                             .where(models.invitations.c.id == invitation_id)
                             .values(status=state))
        self.ctx.bus.publish(events.new_event(
            InvitationDelivered(invitation_id=invitation_id, channel=channel or "",
                                status=state, attempt=attempts, detail=detail),
            assembly_id=envelope.assembly_id, region=self.ctx.settings.region,
            producer="registry", correlation_id=envelope.event_id), key=invitation_id)

    def handle(self, envelope) -> None:
        req: InvitationRequested = envelope.invitation_requested
        purpose = req.purpose or "invitation"
        i, p = models.invitations, models.persons
        with self.ctx.engine.connect() as conn:
            row = conn.execute(sa.select(i.c.assembly_id, i.c.person_id, i.c.code, p.c.sealed)
                               .select_from(i.outerjoin(p, p.c.id == i.c.person_id))
                               .where(i.c.id == req.invitation_id)).first()
            if row is None or row.sealed is None:
                # Unknown or erased: nothing to send, ever.
                with self.ctx.engine.begin() as claim:
                    storage.apply_once(claim, GROUP, envelope.event_id)
                return
            template = self._template(conn, req.template_id)
            assembly = self._assembly(conn, row.assembly_id)
        recipient = recipient_for(self.sealer, req.invitation_id, row.code, row.sealed)
        order = list(req.channel_order) or list(self.ctx.plugins.channel_order(recipient))
        reachable = [name for name in order
                     if name in self.channels and self.channels[name].can_reach(recipient)]
        key = (row.assembly_id, row.person_id, purpose)
        d = models.deliveries
        with self.ctx.engine.begin() as conn:
            existing = conn.execute(sa.select(d.c.state, d.c.channel, d.c.attempts).where(
                d.c.assembly_id == key[0], d.c.person_id == key[1], d.c.purpose == key[2])
            ).first()
            if existing is None:
                try:
                    with conn.begin_nested():
                        conn.execute(d.insert().values(
                            assembly_id=key[0], person_id=key[1], purpose=purpose,
                            invitation_id=req.invitation_id, state="sending",
                            channel=reachable[0] if reachable else None, attempts=0, detail="",
                            updated_at=now()))
                except IntegrityError:
                    return  # another worker claimed this person a moment ago and owns it
            elif existing.state != "sending":
                storage.apply_once(conn, GROUP, envelope.event_id)
                return
        if existing is not None:  # in flight when a worker died: ask, never guess
            self._resolve(envelope, key, existing, req.invitation_id, purpose)
            return
        if not reachable:
            self._finish(envelope, key, "unreachable", None, 0,
                         f"no enabled channel can reach this person (tried {', '.join(order)})",
                         req.invitation_id, purpose)
            return
        attempts, state, detail, used = 0, "failed", "", reachable[0]
        fields = {"assembly": assembly["name"], "code": row.code,
                  "signup_url": assembly["signup_url"]}
        for n, name in enumerate(reachable):
            used = name
            channel = self.channels[name]
            if n:  # falling back: the row must name the channel we are about to call
                with self.ctx.engine.begin() as conn:
                    conn.execute(d.update().where(d.c.assembly_id == key[0],
                                                  d.c.person_id == key[1], d.c.purpose == key[2])
                                 .values(channel=name, updated_at=now()))
            try:
                text = template_for(template, recipient.language)
                invitation = channel.render(recipient, {k: v.format_map(_Keep(fields))
                                                        for k, v in text.items()}, assembly)
            except Exception as exc:  # noqa: BLE001 - a broken template is a final failure
                detail = f"render failed: {type(exc).__name__}: {exc}"
                continue
            for attempt in range(1, self.attempts + 1):
                attempts += 1
                try:
                    result = channel.send(invitation)
                except Exception as exc:  # noqa: BLE001 - a crashing gateway may recover
                    result = DeliveryResult("failed", f"{type(exc).__name__}: {exc}",
                                            retryable=True)
                detail = result.detail
                if result.status in SENT:
                    state = "sent"
                    break
                if not result.retryable or attempt == self.attempts:
                    break
                time.sleep(self.backoff * 2 ** (attempt - 1))
            if state == "sent":
                break
        self._finish(envelope, key, state, used, attempts, detail, req.invitation_id, purpose)

    def _resolve(self, envelope, key, existing, invitation_id: str, purpose: str) -> None:
        channel = self.channels.get(existing.channel or "")
        answer = channel.delivery_status(invitation_id) if channel is not None else None
        if answer is not None and answer.status in SENT:
            state, detail = "sent", f"confirmed by the channel after a restart: {answer.detail}"
        elif answer is not None and not answer.retryable:
            state, detail = "failed", answer.detail
        else:
            state, detail = "manual_check", ("a worker stopped while sending and the channel "
                                             "cannot tell whether it went out")
        log.warning("in-flight delivery resolved", extra={"invitation_id": invitation_id,
                                                          "state": state})
        self._finish(envelope, key, state, existing.channel, existing.attempts or 1, detail,
                     invitation_id, purpose)
