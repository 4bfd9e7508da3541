"""Computed runs, kept so that a lottery published today can be drawn after a restart."""
from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, Row

from services.common import storage
from services.sortition.migrations import MIGRATIONS

metadata = sa.MetaData()
runs = sa.Table(
    "sortition_runs", metadata,
    sa.Column("run_id", sa.String(64), primary_key=True),
    sa.Column("assembly_id", sa.String(200), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("algorithm", sa.String(32), nullable=False),
    sa.Column("pool_sha256", sa.String(64), nullable=False),
    # The pool as the request carried it (pseudonymous ids, features, quotas): the
    # substitutes of a drawn panel are computed from it after a restart.
    sa.Column("pool_json", sa.Text, nullable=False),
    sa.Column("probabilities_json", sa.Text, nullable=False),
    sa.Column("min_probability", sa.Float, nullable=False),
    sa.Column("gini", sa.Float, nullable=False),
    sa.Column("lottery_json", sa.Text, nullable=False),
    sa.Column("lottery_sha256", sa.String(64), nullable=False),
    sa.Column("lottery_size", sa.Integer, nullable=False),
    sa.Column("max_rounding_deviation", sa.Float, nullable=False),
    # Set by the draw (a top-up run is drawn as it is stored).
    sa.Column("seed", sa.Text, nullable=True),
    sa.Column("panel_index", sa.Integer, nullable=True),
    sa.Column("panel_json", sa.Text, nullable=True),
    sa.Column("drawn_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("substitutes_json", sa.Text, nullable=True),
    sa.Index("ix_sortition_runs_assembly", "assembly_id"),
)


@dataclass(frozen=True)
class Run:
    run_id: str
    assembly_id: str
    algorithm: str
    pool_sha256: str
    pool_json: str
    lottery_json: str
    lottery_sha256: str
    lottery_size: int
    seed: str | None
    panel_index: int | None
    panel_ids: tuple[str, ...] | None
    substitutes: dict[str, Any] | None

    @classmethod
    def from_row(cls, row: Row[Any]) -> Run:
        return cls(row.run_id, row.assembly_id, row.algorithm, row.pool_sha256, row.pool_json,
                   row.lottery_json, row.lottery_sha256, row.lottery_size, row.seed,
                   row.panel_index, tuple(json.loads(row.panel_json)) if row.panel_json else None,
                   json.loads(row.substitutes_json) if row.substitutes_json else None)


class RunStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        storage.migrate(engine, "sortition", MIGRATIONS)

    def add(self, *, run_id: str, assembly_id: str, algorithm: str, pool_sha256: str,
            pool_json: str, probabilities: dict[str, float], min_probability: float, gini: float,
            lottery_json: bytes, lottery_sha256: str, lottery_size: int,
            max_rounding_deviation: float, conn: Connection | None = None,
            **drawn: Any) -> None:
        """Store a computed run; ``drawn`` (seed, panel_index, panel_json, substitutes_json)
        records a draw made at once (a top-up), and ``conn`` joins the caller's transaction."""
        values = dict(
            run_id=run_id, assembly_id=assembly_id, created_at=datetime.now(UTC),
            algorithm=algorithm, pool_sha256=pool_sha256, pool_json=pool_json,
            probabilities_json=json.dumps(probabilities), min_probability=min_probability,
            gini=gini, lottery_json=lottery_json.decode("utf-8"),
            lottery_sha256=lottery_sha256, lottery_size=lottery_size,
            max_rounding_deviation=max_rounding_deviation, **drawn)
        if drawn.get("seed") is not None:
            values["drawn_at"] = values["created_at"]
        if conn is not None:
            conn.execute(runs.insert().values(**values))
            return
        with self.engine.begin() as own:
            own.execute(runs.insert().values(**values))

    def latest_drawn(self, assembly_id: str) -> Run | None:
        """The assembly's most recent drawn run (the panel, or the last top-up)."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(runs).where(runs.c.assembly_id == assembly_id,
                                                     runs.c.seed.is_not(None))
                               .order_by(runs.c.drawn_at.desc()).limit(1)).first()
        return Run.from_row(row) if row else None

    def get(self, run_id: str) -> Run | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(runs).where(runs.c.run_id == run_id)).first()
        return Run.from_row(row) if row else None

    def record_draw(self, run_id: str, seed: str, panel_index: int, panel_ids: Iterable[str], *,
                    conn: Connection) -> Run:
        """Record the draw unless the run was drawn before, in the caller's transaction;
        return the run as stored (the earlier draw wins, so a second seed can never replace
        the first)."""
        conn.execute(runs.update().where(runs.c.run_id == run_id, runs.c.seed.is_(None))
                     .values(seed=seed, panel_index=panel_index,
                             panel_json=json.dumps(list(panel_ids)),
                             drawn_at=datetime.now(UTC)))
        return Run.from_row(conn.execute(sa.select(runs).where(runs.c.run_id == run_id)).one())

    def record_substitutes(self, run_id: str, substitutes: dict[str, Any], *,
                           conn: Connection) -> None:
        conn.execute(runs.update().where(runs.c.run_id == run_id)
                     .values(substitutes_json=json.dumps(substitutes)))
