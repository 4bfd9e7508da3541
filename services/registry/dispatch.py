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

``handlers.py`` hands this worker every ``invitation_requested`` (``Dispatcher.send``) and
every polled batch of them at once (``send_batch``) with the same guarantee and
two transactions per batch instead of several per event: one commits every new delivery row
in ``sending`` before any channel is called, one records every outcome with the events'
claims. A worker that is stopped in the middle (SystemExit, KeyboardInterrupt, an error)
first deletes the rows of the batch whose channel it never called, so their redelivery sends
them normally; after a hard kill those rows stay in ``sending`` and are resolved as above,
at worst as ``manual_check`` — never twice. When a batch fails the bus retries its events
one at a time, through ``send``.
"""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from services.common import logs, outbox, storage
from services.common.hookspecs import (
    DeliveryResult,
    ErasableChannel,
    Invitation,
    InvitationChannel,
    Recipient,
)
from services.common.service import ServiceContext
from services.contracts.kleroterion.v1.envelope_pb2 import Envelope
from services.contracts.kleroterion.v1.registry_events_pb2 import InvitationRequested
from services.registry import models, outgoing
from services.registry.crypto import Sealer
from services.registry.outgoing import SELECTED_TEMPLATE

log = logging.getLogger(__name__)
GROUP = "registry.channels"
SENT = ("sent", "queued")
# A channel's ``delivery_status`` answer meaning "this certainly never went out" (e.g. an
# outbox folder written atomically has no file for it): a row a killed worker left in
# ``sending`` is then sent now instead of waiting for an operator's manual check.
NOT_SENT = "not_sent"
RESEND = "resend"
CHUNK = 500  # ids per IN (...) query: under every database's bound-parameter limit
# The text of the built-in template outgoing.SELECTED_TEMPLATE names.
SELECTED_CONTENT: dict[str, dict[str, str]] = {
    "da": {"subject": "Du er trukket ud til {assembly}",
           "body": "Du er blevet trukket ud som medlem af {assembly}. Bekræft eller afslå "
                   "din plads på {signup_url} med koden {code}."},
    "en": {"subject": "You have been selected for {assembly}",
           "body": "You have been selected as a member of {assembly}. Confirm or decline "
                   "your seat at {signup_url} with the code {code}."},
}


def now() -> datetime:
    return datetime.now(UTC)


def message_id(invitation_id: str, purpose: str) -> str:
    """The id a channel knows a message by. Channels send each id once, so every message to
    a person needs its own: the selection notice must not be taken for the invitation."""
    return invitation_id if purpose == "invitation" else f"{invitation_id}.{purpose}"


def recipient_for(sealer: Sealer, invitation_id: str, code: str, sealed: bytes,
                  purpose: str = "invitation") -> Recipient:
    p = sealer.open(sealed)
    return Recipient(invitation_id=message_id(invitation_id, purpose), code=code,
                     language=p.get("l", "da"), digital_post_exempt=bool(p.get("x")),
                     cpr=p["k"], name=p["n"], address_lines=(p["a"],), postcode=p["p"],
                     phone=p.get("ph"), email=p.get("e"))


class _Keep(dict[str, str]):
    # Placeholders a channel fills itself (e.g. {name}) pass through untouched.
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def template_for(content: Mapping[str, Any], language: str) -> dict[str, str]:
    return dict(content.get(language) or content.get("da") or next(iter(content.values())))


# A delivery row's unique key: (assembly, person, purpose).
Key = tuple[str, int, str]
# What became of a delivery: (state, channel, attempts, detail).
Outcome = tuple[str, str | None, int, str]


@dataclass
class _Job:
    """One event of a batch on its way through ``send_batch``. A job of kind ``claim``
    (nothing to send) keeps the empty key, recipient, template and assembly."""

    envelope: Envelope
    invitation_id: str
    purpose: str
    key: Key = ("", 0, "")
    code: str = ""
    recipient: Recipient = Recipient(invitation_id="", code="")
    order: tuple[str, ...] = ()
    reachable: tuple[str, ...] = ()
    template: Mapping[str, Any] = field(default_factory=dict)
    assembly: dict[str, Any] = field(default_factory=dict)
    kind: str = "claim"  # claim (nothing to send), new, resolve (left in sending)
    existing: Any = None
    outcome: Outcome | None = None


class Dispatcher:
    """Sends what ``invitation_requested`` asks for through the plugins' channels."""

    def __init__(self, ctx: ServiceContext, sealer: Sealer, *, attempts: int = 3,
                 backoff: float = 0.2, signup_url: str = "") -> None:
        self.ctx = ctx
        self.sealer = sealer
        self.attempts = attempts
        self.backoff = backoff
        self.signup_url = signup_url
        self._channels: dict[str, InvitationChannel] | None = None
        self._templates: dict[str, dict[str, Any]] = {}
        self._assemblies: dict[str, dict[str, Any]] = {}

    @property
    def channels(self) -> dict[str, InvitationChannel]:
        # Built once: each call of the hook makes new channel objects.
        if self._channels is None:
            self._channels = self.ctx.plugins.channels()
        return self._channels

    def erase_outputs(self, conn: Connection, where: sa.ColumnElement[bool]) -> dict[str, int]:
        """Have every channel that keeps files delete (or redact, in a shared batch) what
        it holds for the deliveries ``where`` selects: the MeMo files with a CPR number, the
        letters for the print shop. Called inside the erasure's transaction, before the
        deliveries are forgotten, so a failing channel leaves the person not erased (and
        the erasure can be repeated) rather than erased with their letters still on disk.
        Returns the number of files changed per channel (no personal data)."""
        d = models.deliveries
        ids = sorted({message_id(row.invitation_id, row.purpose) for row in conn.execute(
            sa.select(d.c.invitation_id, d.c.purpose).where(where))})
        if not ids:
            return {}
        return {name: channel.erase(ids) for name, channel in self.channels.items()
                if isinstance(channel, ErasableChannel)}

    def _template(self, conn: Connection, template_id: str) -> dict[str, Any]:
        if template_id == SELECTED_TEMPLATE:
            return SELECTED_CONTENT
        if template_id not in self._templates:  # approved templates never change
            content = conn.scalar(sa.select(models.templates.c.content)
                                  .where(models.templates.c.id == template_id))
            if content is None:
                raise LookupError(f"template {template_id} does not exist")
            self._templates[template_id] = json.loads(content)
        return self._templates[template_id]

    def assembly(self, conn: Connection, assembly_id: str) -> dict[str, Any]:
        """What a channel may know of an assembly (name, sign-up address, dates)."""
        if assembly_id not in self._assemblies:
            row = conn.execute(sa.select(models.assemblies)
                               .where(models.assemblies.c.id == assembly_id)).one()
            self._assemblies[assembly_id] = {
                "id": row.id, "name": row.name, "signup_url": self.signup_url,
                "session_dates": json.loads(row.session_dates)}
        return self._assemblies[assembly_id]

    def previews(self, assembly_id: str, content: Mapping[str, Any],
                 recipient: Recipient) -> dict[str, Invitation]:
        """A template rendered for ``recipient`` by every channel that can reach them."""
        with self.ctx.engine.connect() as conn:
            assembly = self.assembly(conn, assembly_id)
        text = template_for(content, recipient.language)
        fields = {"assembly": assembly["name"], "code": recipient.code,
                  "signup_url": assembly["signup_url"]}
        filled = {k: v.format_map(_Keep(fields)) for k, v in text.items()}
        # A channel that cannot reach this recipient cannot render for them either (Digital
        # Post without a CPR number); the others still preview and test-send.
        return {name: ch.render(recipient, filled, assembly)
                for name, ch in self.channels.items() if ch.can_reach(recipient)}

    def _finish(self, envelope: Envelope, key: Key, state: str, channel: str | None, attempts: int,
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
            outbox.enqueue(conn, outgoing.invitation_delivered(
                envelope, self.ctx.settings.region, invitation_id=invitation_id, state=state,
                channel=channel, attempts=attempts, detail=detail), key=invitation_id)
        self.ctx.outbox.publish_soon()

    def _route(self, recipient: Recipient, channel_order: Sequence[str]
               ) -> tuple[list[str], list[str]]:
        order = list(channel_order) or list(self.ctx.plugins.channel_order(recipient))
        reachable = [name for name in order
                     if name in self.channels and self.channels[name].can_reach(recipient)]
        return order, reachable

    def send(self, envelope: Envelope) -> None:
        """One event at a time: the path a failed batch falls back to."""
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
            assembly = self.assembly(conn, row.assembly_id)
        recipient = recipient_for(self.sealer, req.invitation_id, row.code, row.sealed, purpose)
        order, reachable = self._route(recipient, req.channel_order)
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
            state, detail = self._resolution(existing, message_id(req.invitation_id, purpose))
            if state != RESEND:
                self._finish(envelope, key, state, existing.channel, existing.attempts or 1,
                             detail, req.invitation_id, purpose)
                return
        if not reachable:
            self._finish(envelope, key, "unreachable", None, 0,
                         f"no enabled channel can reach this person (tried {', '.join(order)})",
                         req.invitation_id, purpose)
            return
        state, used, attempts, detail = self._deliver(key, recipient, reachable, template,
                                                      assembly, row.code)
        self._finish(envelope, key, state, used, attempts, detail, req.invitation_id, purpose)

    def _deliver(self, key: Key, recipient: Recipient, reachable: Sequence[str],
                 template: Mapping[str, Any], assembly: dict[str, Any],
                 code: str) -> tuple[str, str, int, str]:
        """Call the reachable channels in order until one takes the invitation; returns
        (state, channel used, attempts, detail). The delivery row is already ``sending``."""
        d = models.deliveries
        attempts, state, detail, used = 0, "failed", "", reachable[0]
        fields = {"assembly": assembly["name"], "code": code,
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
        return state, used, attempts, detail

    def _resolution(self, existing: Any, invitation_id: str) -> tuple[str, str]:
        channel = self.channels.get(existing.channel or "")
        answer = channel.delivery_status(invitation_id) if channel is not None else None
        if answer is not None and answer.status in SENT:
            state, detail = "sent", f"confirmed by the channel after a restart: {answer.detail}"
        elif answer is not None and answer.status == NOT_SENT:
            state, detail = RESEND, answer.detail
        elif answer is not None and not answer.retryable:
            state, detail = "failed", answer.detail
        else:
            state, detail = "manual_check", ("a worker stopped while sending and the channel "
                                             "cannot tell whether it went out")
        log.warning("in-flight delivery resolved", extra={"invitation_id": invitation_id,
                                                          "state": state})
        return state, detail

    # --- a polled batch at once -----------------------------------------------------------

    def send_batch(self, envelopes: Sequence[Envelope]) -> None:
        """Every new event of a polled batch: one transaction claims the delivery rows
        before any channel is called, one records every outcome afterwards."""
        if len(envelopes) == 1:
            self.send(envelopes[0])
            return
        jobs = self._prepare(envelopes)
        inserted = self._claim_rows(jobs)
        called: set[Key] = set()
        try:
            for job in jobs:
                if job.kind == "new":
                    if not job.reachable:
                        job.outcome = ("unreachable", None, 0,
                                       "no enabled channel can reach this person "
                                       f"(tried {', '.join(job.order)})")
                        continue
                    called.add(job.key)  # from here on we cannot know whether it went out
                    state, used, attempts, detail = self._deliver(
                        job.key, job.recipient, job.reachable, job.template, job.assembly,
                        job.code)
                    job.outcome = (state, used, attempts, detail)
                elif job.kind == "resolve":  # in flight when a worker died: ask, never guess
                    state, detail = self._resolution(
                        job.existing, message_id(job.invitation_id, job.purpose))
                    if state == RESEND and job.reachable:
                        called.add(job.key)
                        job.outcome = self._deliver(job.key, job.recipient, job.reachable,
                                                    job.template, job.assembly, job.code)
                    else:
                        job.outcome = (state if state != RESEND else "manual_check",
                                       job.existing.channel, job.existing.attempts or 1,
                                       detail)
            self._record(jobs)
        except BaseException:
            # Rows whose outcome was recorded are no longer in sending and stay as they are.
            self._release([k for k in inserted if k not in called])
            raise

    def _prepare(self, envelopes: Sequence[Envelope]) -> list[_Job]:
        """Read what the batch needs (invitations, sealed persons, templates) and decide
        each recipient's channels — everything that can fail before a row is written."""
        i, p = models.invitations, models.persons
        jobs = []
        for envelope in envelopes:
            req: InvitationRequested = envelope.invitation_requested
            jobs.append(_Job(envelope, req.invitation_id, req.purpose or "invitation"))
        ids = list({job.invitation_id for job in jobs})
        rows = {}
        with self.ctx.engine.connect() as conn:
            for start in range(0, len(ids), CHUNK):
                for found in conn.execute(
                        sa.select(i.c.id, i.c.assembly_id, i.c.person_id, i.c.code, p.c.sealed)
                        .select_from(i.outerjoin(p, p.c.id == i.c.person_id))
                        .where(i.c.id.in_(ids[start:start + CHUNK]))):
                    rows[found.id] = found
            for job in jobs:
                row = rows.get(job.invitation_id)
                if row is None or row.sealed is None:
                    continue  # unknown or erased: nothing to send, ever (claim only)
                req = job.envelope.invitation_requested
                job.template = self._template(conn, req.template_id)
                job.assembly = self.assembly(conn, row.assembly_id)
                job.code = row.code
                job.key = (row.assembly_id, row.person_id, job.purpose)
                job.recipient = recipient_for(self.sealer, job.invitation_id, row.code,
                                              row.sealed, job.purpose)
                order, reachable = self._route(job.recipient, req.channel_order)
                job.order, job.reachable = tuple(order), tuple(reachable)
                job.kind = "new"
        return jobs

    def _claim_rows(self, jobs: list[_Job]) -> list[Key]:
        """Commit a ``sending`` row for every new (assembly, person, purpose) of the batch;
        returns the keys inserted. A person already having a row is not sent to again."""
        d = models.deliveries
        keyed = [job for job in jobs if job.kind == "new"]
        if not keyed:
            return []
        by_scope: dict[tuple[str, str], list[int]] = {}
        for job in keyed:
            by_scope.setdefault((job.key[0], job.key[2]), []).append(job.key[1])
        stamp = now()
        rows: list[dict[str, Any]] = []
        owners: set[Key] = set()
        with self.ctx.engine.begin() as conn:
            existing = {}
            for (assembly_id, purpose), people in by_scope.items():
                people = list(dict.fromkeys(people))
                for start in range(0, len(people), CHUNK):
                    for row in conn.execute(
                            sa.select(d.c.person_id, d.c.state, d.c.channel, d.c.attempts)
                            .where(d.c.assembly_id == assembly_id, d.c.purpose == purpose,
                                   d.c.person_id.in_(people[start:start + CHUNK]))):
                        existing[(assembly_id, row.person_id, purpose)] = row
            for job in keyed:
                if job.key in owners:
                    job.kind = "claim"  # the same person twice in one batch: the first sends
                    continue
                owners.add(job.key)
                found = existing.get(job.key)
                if found is None:
                    rows.append({"assembly_id": job.key[0], "person_id": job.key[1],
                                 "purpose": job.purpose, "invitation_id": job.invitation_id,
                                 "state": "sending",
                                 "channel": job.reachable[0] if job.reachable else None,
                                 "attempts": 0, "detail": "", "updated_at": stamp})
                elif found.state == "sending":
                    job.kind, job.existing = "resolve", found
                else:
                    job.kind = "claim"  # handled before (a resend, a redelivery)
            if rows:
                # A concurrent worker inserting the same person (PostgreSQL) fails this
                # transaction as a whole; the bus then retries the events one at a time.
                conn.execute(d.insert(), rows)
        return [(r["assembly_id"], r["person_id"], r["purpose"]) for r in rows]

    def _release(self, keys: list[Key]) -> None:
        """Delete rows this batch claimed but never handed to a channel, so that their
        redelivery sends them instead of leaving them to a manual check."""
        if not keys:
            return
        d = models.deliveries
        try:
            with self.ctx.engine.begin() as conn:
                conn.execute(d.delete().where(d.c.assembly_id == sa.bindparam("b_assembly"),
                                              d.c.person_id == sa.bindparam("b_person"),
                                              d.c.purpose == sa.bindparam("b_purpose"),
                                              d.c.state == "sending"),
                             [{"b_assembly": a, "b_person": p, "b_purpose": u}
                              for a, p, u in keys])
        except Exception:  # the rows stay in sending: resolved, never resent
            log.exception("could not release unsent delivery rows", extra={"rows": len(keys)})

    def _record(self, jobs: list[_Job]) -> None:
        """Record every outcome and claim every event of the batch in one transaction, then
        publish ``invitation_delivered`` for each outcome."""
        d, i, ae = models.deliveries, models.invitations, storage.applied_events
        claim_ids = list(dict.fromkeys(job.envelope.event_id for job in jobs))
        stamp = now()
        published = []
        with self.ctx.engine.begin() as conn:
            claimed: set[str] = set()
            for start in range(0, len(claim_ids), CHUNK):
                claimed.update(conn.scalars(sa.select(ae.c.event_id).where(
                    ae.c.consumer_group == GROUP,
                    ae.c.event_id.in_(claim_ids[start:start + CHUNK]))))
            fresh = [e for e in claim_ids if e not in claimed]
            if fresh:
                conn.execute(ae.insert(), [{"consumer_group": GROUP, "event_id": e,
                                            "applied_at": stamp} for e in fresh])
            updates, statuses = [], []
            for job in jobs:
                if job.outcome is None or job.envelope.event_id in claimed:
                    continue  # nothing to record, or applied elsewhere meanwhile
                state, channel, attempts, detail = job.outcome
                detail = logs.scrub(detail)[:500]
                updates.append({"b_assembly": job.key[0], "b_person": job.key[1],
                                "b_purpose": job.key[2], "b_state": state,
                                "b_channel": channel, "b_attempts": attempts,
                                "b_detail": detail, "b_updated": stamp})
                if job.purpose == "invitation":
                    statuses.append({"b_id": job.invitation_id, "b_status": state})
                published.append((job, state, channel, attempts, detail))
            if updates:
                conn.execute(d.update().where(d.c.assembly_id == sa.bindparam("b_assembly"),
                                              d.c.person_id == sa.bindparam("b_person"),
                                              d.c.purpose == sa.bindparam("b_purpose"))
                             .values(state=sa.bindparam("b_state"),
                                     channel=sa.bindparam("b_channel"),
                                     attempts=sa.bindparam("b_attempts"),
                                     detail=sa.bindparam("b_detail"),
                                     updated_at=sa.bindparam("b_updated")), updates)
            if statuses:
                conn.execute(i.update().where(i.c.id == sa.bindparam("b_id"))
                             .values(status=sa.bindparam("b_status")), statuses)
            # The outcomes' events commit with the outcomes: none is lost to a crash or a
            # broker outage between the commit and the publish.
            outbox.enqueue_many(conn, [
                outgoing.invitation_delivered(
                    job.envelope, self.ctx.settings.region, invitation_id=job.invitation_id,
                    state=state, channel=channel, attempts=attempts, detail=detail,
                    event_id=event_id)
                for (job, state, channel, attempts, detail), event_id in zip(
                    published, outgoing.event_ids(len(published)), strict=True)],
                keys=[job.invitation_id for job, *_ in published])
        self.ctx.outbox.publish_soon()
