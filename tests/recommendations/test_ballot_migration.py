"""Migration 6 turns stored ballots into counts: closed rounds keep their tallies, a round
in progress keeps its votes and its voters and goes on to a correct count, and the old
ballot rows and round keys are gone."""
from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from recommendations_support import Clock, InProcessBus, Service, Settings, cast_levels

from services.common import storage
from services.recommendations import models
from services.recommendations.migrations import MIGRATIONS
from services.recommendations.scale import DEFAULT_SCALE

NOW = datetime(2025, 3, 1, tzinfo=UTC)


def _old_database(url):
    engine = storage.make_engine(url)
    assert storage.migrate(engine, "recommendations", MIGRATIONS[:5]) == [1, 2, 3, 4, 5]
    meta = sa.MetaData()
    meta.reflect(bind=engine)
    t = meta.tables
    with engine.begin() as conn:
        conn.execute(t["rec_assemblies"].insert().values(
            assembly_id="a1", name="A", threshold=0.75, created_at=NOW))
        conn.execute(t["rec_members"].insert(), [
            {"assembly_id": "a1", "member_id": m, "seated": True, "code_hash": None,
             "changed_at": NOW} for m in ("m01", "m02", "m03", "m04")])
        conn.execute(t["rec_recommendations"].insert().values(
            id="rec-1", assembly_id="a1", seq=1, status="draft", current_version=1,
            created_at=NOW, updated_at=NOW))
        conn.execute(t["rec_versions"].insert().values(
            recommendation_id="rec-1", version=1, title="T", text="x", rationale="y",
            theme="z", values=[], reason="created", note="", author="f", created_at=NOW))
        for round_id, number, status in (("old-closed", 1, "closed"), ("old-open", 2, "open")):
            conn.execute(t["rec_rounds"].insert().values(
                id=round_id, recommendation_id="rec-1", assembly_id="a1", number=number,
                version=1, status=status, threshold=0.75, scale=DEFAULT_SCALE,
                hmac_key=None if status == "closed" else "ab" * 32, opened_at=NOW))
            conn.execute(t["rec_round_presence"].insert(), [
                {"round_id": round_id, "member_id": m} for m in ("m01", "m02", "m03")])
        conn.execute(t["rec_round_voters"].insert(), [
            {"round_id": r, "member_id": m} for r in ("old-closed", "old-open")
            for m in ("m01", "m02")])
        conn.execute(t["rec_ballots"].insert(), [
            {"round_id": "old-closed", "voter_key": "k1", "level": "full_support"},
            {"round_id": "old-closed", "voter_key": "k2", "level": "full_support"},
            {"round_id": "old-open", "voter_key": "k3", "level": "support"},
            {"round_id": "old-open", "voter_key": "k4", "level": "opposition"}])
    engine.dispose()


def test_ballots_become_counts_and_an_open_round_goes_on(tmp_path):
    url = f"sqlite:///{tmp_path}/recommendations.sqlite3"
    _old_database(url)
    svc = Service(Settings.from_env({}, data_dir=str(tmp_path), database_url=url),
                  InProcessBus(), Clock()).start()
    try:
        assert cast_levels(svc, "old-closed") == ["full_support", "full_support"]
        assert cast_levels(svc, "old-open") == ["opposition", "support"]
        inspector = sa.inspect(svc.ctx.engine)
        assert "rec_ballots" not in inspector.get_table_names()
        assert "hmac_key" not in {c["name"] for c in inspector.get_columns("rec_rounds")}
        with svc.ctx.engine.connect() as conn:  # every level has its row, unvoted ones at 0
            levels = conn.scalars(sa.select(models.round_tallies.c.level)
                                  .where(models.round_tallies.c.round_id == "old-open")).all()
        assert sorted(levels) == sorted(lv["key"] for lv in DEFAULT_SCALE)
        code = svc.call("post", "/assemblies/a1/members/m03/code").json["member_code"]
        old = svc.call("post", "/assemblies/a1/members/m01/code").json["member_code"]
        ballot = "/rounds/old-open/ballots"
        assert svc.client.post(ballot, json={"member_code": old,
                                             "level": "support"}).status_code == 409
        assert svc.client.post(ballot, json={"member_code": code,
                                             "level": "support"}).status_code == 201
        closed = svc.call("post", "/rounds/old-open/close")
        assert closed.status_code == 200, closed.json
        counts = {d["level"]: d["count"] for d in closed.json["result"]["distribution"]}
        assert counts["support"] == 2 and counts["opposition"] == 1
        assert closed.json["voted"] == 3
    finally:
        svc.stop()
