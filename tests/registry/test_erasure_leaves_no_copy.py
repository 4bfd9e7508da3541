"""Erasing a registrant, or ending an assembly, leaves no copy of their data: not in the
channels' outboxes (MeMo files with CPR), not in the SQLite WAL, not in PostgreSQL's dead row
versions (issue 15, part 5)."""
from __future__ import annotations

import pathlib

import pytest
import sqlalchemy as sa
from registry_support import Api, Outbox, extract, person_rows

from plugins.channels.digital_post import DigitalPostChannel
from services.registry import handlers, models

KEY = "q3W2l9rsN8oYB2m0TlPZ9QeQJg2YbZ9r3u5X5f8Hk0o="


def _invite(make_registry, tmp_path, database_url=""):
    memo_outbox = tmp_path / "memo"
    digital_post = DigitalPostChannel({"sender_cvr": "29190623",
                                       "sender_label": "Region Hovedstaden",
                                       "outbox": str(memo_outbox),
                                       "state_dir": str(tmp_path / "dp-state")})
    keyed = {"encryption_key": KEY} if database_url else {}
    app, ctx = make_registry(digital_post, Outbox(), database_url=database_url, **keyed)
    api = Api(app, ctx)
    api.assembly()
    assert api.upload("a1", extract(person_rows(12))).status_code == 201
    tid = api.approved_template("a1")
    rid = api.post("/api/assemblies/a1/rollouts", {"scope": "Region Hovedstaden",
                                                   "size": 6}).json["id"]
    assert api.post(f"/api/rollouts/{rid}/send", {"template_id": tid}).status_code == 202
    handlers.channels.consumer(ctx).poll_once(0.5)
    with ctx.engine.connect() as conn:
        rows = conn.execute(sa.select(models.invitations.c.id, models.invitations.c.code)
                            .order_by(models.invitations.c.id)).all()
    files = sorted(p.name for p in memo_outbox.glob("*.xml"))
    assert files == sorted(f"{r.id}.xml" for r in rows)  # Digital Post took every letter
    return app, ctx, api, memo_outbox, rows


def _sign_up(app, code: str) -> str:
    r = app.test_client().post("/api/public/signup", json={
        "code": code, "answers": {"education": "long"}, "available": True, "consent": True})
    assert r.status_code == 201, r.json
    return r.json["registrant_id"]


def _sealed_of(ctx, invitation_id: str) -> bytes:
    with ctx.engine.connect() as conn:
        person_id = conn.scalar(sa.select(models.invitations.c.person_id)
                                .where(models.invitations.c.id == invitation_id))
        return conn.scalar(sa.select(models.persons.c.sealed)
                           .where(models.persons.c.id == person_id))


def test_erasing_a_registrant_deletes_their_memo_files_and_checkpoints_the_wal(
        make_registry, tmp_path):
    app, ctx, api, memo_outbox, rows = _invite(make_registry, tmp_path)
    erased, kept = rows[0], rows[1]
    registrant = _sign_up(app, erased.code)
    sealed = _sealed_of(ctx, erased.id)
    assert sealed and b"CPR" in (memo_outbox / f"{erased.id}.xml").read_bytes()

    r = api.post(f"/api/registrants/{registrant}/state", {"state": "erased"})
    assert r.status_code == 200, r.json
    assert "truncated" in r.json["purge"]
    assert not (memo_outbox / f"{erased.id}.xml").exists()
    assert (memo_outbox / f"{kept.id}.xml").exists()  # nobody else's letter goes
    database = pathlib.Path(str(ctx.engine.url.database))
    wal = pathlib.Path(f"{database}-wal")
    assert wal.stat().st_size == 0
    assert sealed not in database.read_bytes()

    r = api.post("/api/assemblies/a1/end")
    assert r.status_code == 200 and "truncated" in r.json["purge"]
    assert list(memo_outbox.glob("*.xml")) == []
    for row in rows:
        assert row.code.encode() not in database.read_bytes() + wal.read_bytes()


@pytest.mark.postgres
def test_on_postgresql_erasure_vacuums_the_erased_tables(make_registry, tmp_path,
                                                         postgres_database):
    app, ctx, api, memo_outbox, rows = _invite(make_registry, tmp_path,
                                               database_url=postgres_database)
    registrant = _sign_up(app, rows[0].code)
    r = api.post(f"/api/registrants/{registrant}/state", {"state": "erased"})
    assert r.status_code == 200
    assert r.json["purge"] == ("postgresql: vacuumed persons, invitations, registrants, "
                               "deliveries")
    assert not (memo_outbox / f"{rows[0].id}.xml").exists()
    with ctx.engine.connect() as conn:
        # VACUUM ran: PostgreSQL's own statistics say when each table was last vacuumed.
        vacuumed = conn.execute(sa.text(
            "SELECT relname FROM pg_stat_user_tables WHERE last_vacuum IS NOT NULL")).scalars()
        assert {"persons", "invitations", "registrants", "deliveries"} <= set(vacuumed)
