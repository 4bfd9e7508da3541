"""The recommendations service: drafting, support votes, handover, answers, public tracking.

Operators (facilitators, the administration) call the JSON API with bearer tokens; panel
members vote with a personal member code; the public reads the transparency page and the
open data without logging in. The service learns who is seated from the sortition and
sessions events on the bus and publishes ``recommendation_adopted``, ``answer_recorded``
and ``implementation_updated`` through an outbox, so an event is never lost between the
commit and the bus.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime

import sqlalchemy as sa
from flask import Flask, jsonify

from services.common import events, outbox, storage
from services.common.bus import Bus, Consumer
from services.common.plugins import PluginHost
from services.common.service import ServiceContext, build_context, create_flask_app
from services.recommendations import evaluation, models
from services.recommendations.migrations import MIGRATIONS
from services.recommendations.settings import Settings

log = logging.getLogger(__name__)

ROLES = ("facilitator", "administration")
PUBLISHED = ("recommendation_adopted", "answer_recorded", "implementation_updated")
CONSUMED = ("assembly_created", "panel_drawn", "seat_filled", "member_withdrew", "session_held",
            # aggregates for the evaluation reports (evaluation.py)
            "funnel_counted", "distribution_computed", "process_summarised")


def build(settings: Settings, *, bus: Bus | None = None, plugins: PluginHost | None = None
          ) -> ServiceContext:
    return build_context(settings, roles=ROLES, migrations=MIGRATIONS, bus=bus, plugins=plugins)


def create_app(config: Settings | None = None, *, context: ServiceContext | None = None,
               clock: Callable[[], date] | None = None) -> Flask:
    """The Flask app. ``clock`` gives today's date (tests inject one to test deadlines)."""
    ctx = context or build(config or Settings.from_env())
    app = create_flask_app(ctx, __name__)
    app.extensions["kleroterion.clock"] = clock or date.today
    from services.recommendations import (
        api,
        evaluation,
        openapi,
        public,
        questionnaire_page,
        questionnaires,
        vote,
    )
    app.register_blueprint(api.bp)
    app.register_blueprint(public.bp)
    app.register_blueprint(vote.bp)
    app.register_blueprint(questionnaires.bp)
    app.register_blueprint(questionnaire_page.bp)
    app.register_blueprint(evaluation.bp)
    app.add_url_rule("/openapi.json", "openapi", lambda: jsonify(openapi.document()))
    ctx.bus.ensure_event_topics(PUBLISHED)
    ctx.outbox.try_publish()  # what a crash or a broker outage left in the outbox
    return app


# --- publishing ---------------------------------------------------------------------------


def enqueue(conn: sa.Connection, ctx: ServiceContext, payload, assembly_id: str) -> None:
    """Write an event to the shared outbox inside the caller's transaction; it is published
    after the commit (``ctx.outbox.try_publish``), at start-up or by the relay."""
    outbox.enqueue(conn, events.new_event(payload, assembly_id=assembly_id,
                                          region=ctx.settings.region,
                                          producer="recommendations"))


# --- consuming ------------------------------------------------------------------------------


def ensure_assembly(conn: sa.Connection, settings: Settings, assembly_id: str) -> None:
    exists = conn.scalar(sa.select(sa.func.count()).select_from(models.assemblies)
                         .where(models.assemblies.c.assembly_id == assembly_id))
    if not exists:
        conn.execute(models.assemblies.insert().values(
            assembly_id=assembly_id, name="", scale=None,
            threshold=settings.default_threshold_percent / 100,
            created_at=datetime.now(UTC)))


def _seat(conn: sa.Connection, assembly_id: str, member_id: str, seated: bool) -> None:
    m = models.members
    now = datetime.now(UTC)
    where = (m.c.assembly_id == assembly_id) & (m.c.member_id == member_id)
    if conn.scalar(sa.select(sa.func.count()).select_from(m).where(where)):
        # A member who leaves loses the member code too: it must not outlive the seat.
        values = {"seated": seated, "changed_at": now}
        if not seated:
            values["code_hash"] = None
        conn.execute(m.update().where(where).values(**values))
    elif seated:
        conn.execute(m.insert().values(assembly_id=assembly_id, member_id=member_id,
                                       seated=True, code_hash=None, changed_at=now))


def make_handler(ctx: ServiceContext, group: str):
    settings = ctx.settings

    def handle(envelope) -> None:
        payload = events.payload_of(envelope)
        kind = envelope.event_type
        a = envelope.assembly_id
        with ctx.engine.begin() as conn:
            if not storage.apply_once(conn, group, envelope.event_id):
                return
            ensure_assembly(conn, settings, a)
            if kind == "assembly_created":
                conn.execute(models.assemblies.update()
                             .where(models.assemblies.c.assembly_id == a)
                             .values(name=payload.name))
            elif kind == "panel_drawn":
                for member_id in payload.member_ids:
                    _seat(conn, a, member_id, True)
            elif kind == "seat_filled":
                if payload.vacated_by:
                    _seat(conn, a, payload.vacated_by, False)
                _seat(conn, a, payload.substitute_id, True)
            elif kind == "member_withdrew":
                _seat(conn, a, payload.member_id, False)
            elif kind in ("funnel_counted", "distribution_computed", "process_summarised"):
                fact, data = evaluation.fact_from_event(kind, payload)
                evaluation.store_fact(conn, a, fact, data,
                                      envelope.occurred_at.ToDatetime(tzinfo=UTC))
            elif kind == "session_held":
                s = models.sessions_held
                where = (s.c.assembly_id == a) & (s.c.session_id == payload.session_id)
                conn.execute(s.delete().where(where))
                conn.execute(s.insert().values(
                    assembly_id=a, session_id=payload.session_id, hours=payload.hours,
                    present=payload.present, seated=payload.seated,
                    held_at=envelope.occurred_at.ToDatetime(tzinfo=UTC)))

    return handle


def consumers(ctx: ServiceContext) -> list[Consumer]:
    group = ctx.settings.consumer_group
    return [ctx.bus.consumer(group, list(CONSUMED), make_handler(ctx, group),
                             applied=ctx.applied)]
