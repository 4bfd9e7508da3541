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
    # Set by the publication (the assembly's one lottery, frozen before any seed exists).
    sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("published_by", sa.String(200), nullable=True),
    # Who entered the seed at the ceremony and the public source it names, if any; when is
    # ``drawn_at``.
    sa.Column("seed_entered_by", sa.String(200), nullable=True),
    sa.Column("seed_source", sa.Text, nullable=True),
    # A top-up run: the published run whose seats it fills.
    sa.Column("top_up_of", sa.String(64), nullable=True),
    sa.Index("ix_sortition_runs_assembly", "assembly_id"),
)
# The assembly's published run. Its primary key is the assembly, so a second publication
# fails in the database even when two race past the service's own check.
publications = sa.Table(
    "sortition_publications", metadata,
    sa.Column("assembly_id", sa.String(200), primary_key=True),
    sa.Column("run_id", sa.String(64), nullable=False, unique=True),
    sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
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
    max_rounding_deviation: float = 0.0
    published_at: datetime | None = None
    published_by: str | None = None
    drawn_at: datetime | None = None
    seed_entered_by: str | None = None
    seed_source: str | None = None
    top_up_of: str | None = None

    @classmethod
    def from_row(cls, row: Row[Any]) -> Run:
        return cls(row.run_id, row.assembly_id, row.algorithm, row.pool_sha256, row.pool_json,
                   row.lottery_json, row.lottery_sha256, row.lottery_size, row.seed,
                   row.panel_index, tuple(json.loads(row.panel_json)) if row.panel_json else None,
                   json.loads(row.substitutes_json) if row.substitutes_json else None,
                   row.max_rounding_deviation, _utc(row.published_at), row.published_by,
                   _utc(row.drawn_at), row.seed_entered_by, row.seed_source, row.top_up_of)

    @property
    def published_run_id(self) -> str:
        """The assembly's published run this run belongs to (itself, or what it tops up)."""
        return self.top_up_of or self.run_id


def _utc(at: datetime | None) -> datetime | None:
    # SQLite gives naive datetimes back; they were written in UTC.
    if at is None or at.tzinfo is not None:
        return at
    return at.replace(tzinfo=UTC)


class PublicationRefused(Exception):
    """The run cannot be published: the assembly has another published run."""

    def __init__(self, published: Run) -> None:
        super().__init__(f"assembly {published.assembly_id} already published run "
                         f"{published.run_id}")
        self.published = published


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

    def published(self, assembly_id: str, *, conn: Connection | None = None) -> Run | None:
        """The assembly's published run, if it has one."""
        query = (sa.select(runs).join(publications, publications.c.run_id == runs.c.run_id)
                 .where(publications.c.assembly_id == assembly_id))
        if conn is not None:
            row = conn.execute(query).first()
        else:
            with self.engine.connect() as own:
                row = own.execute(query).first()
        return Run.from_row(row) if row else None

    def publish(self, run: Run, published_by: str, *, conn: Connection) -> Run:
        """Make ``run`` the assembly's published lottery, in the caller's transaction, and
        return it as stored; publishing the published run again changes nothing. Raises
        ``PublicationRefused`` when the assembly published another run."""
        current = self.published(run.assembly_id, conn=conn)
        if current is not None:
            if current.run_id != run.run_id:
                raise PublicationRefused(current)
            return current
        at = datetime.now(UTC)
        try:
            with conn.begin_nested():
                conn.execute(publications.insert().values(
                    assembly_id=run.assembly_id, run_id=run.run_id, published_at=at))
        except sa.exc.IntegrityError:
            # Another publication committed between the check and the insert.
            winner = self.published(run.assembly_id, conn=conn)
            if winner is None or winner.run_id != run.run_id:
                raise PublicationRefused(winner or run) from None
            return winner
        conn.execute(runs.update().where(runs.c.run_id == run.run_id)
                     .values(published_at=at, published_by=published_by))
        return Run.from_row(conn.execute(sa.select(runs)
                                         .where(runs.c.run_id == run.run_id)).one())

    def record_draw(self, run_id: str, seed: str, panel_index: int, panel_ids: Iterable[str], *,
                    entered_by: str, seed_source: str | None, conn: Connection) -> Run:
        """Record the draw unless the run was drawn before, in the caller's transaction;
        return the run as stored (the earlier draw wins, so a second seed can never replace
        the first)."""
        conn.execute(runs.update().where(runs.c.run_id == run_id, runs.c.seed.is_(None))
                     .values(seed=seed, panel_index=panel_index,
                             panel_json=json.dumps(list(panel_ids)),
                             drawn_at=datetime.now(UTC), seed_entered_by=entered_by,
                             seed_source=seed_source))
        return Run.from_row(conn.execute(sa.select(runs).where(runs.c.run_id == run_id)).one())

    def record_substitutes(self, run_id: str, substitutes: dict[str, Any], *,
                           conn: Connection) -> Run:
        """Record the reserve list unless one was drawn before; return the run as stored
        (the first list stands, so a later call cannot replace it)."""
        conn.execute(runs.update().where(runs.c.run_id == run_id,
                                         runs.c.substitutes_json.is_(None))
                     .values(substitutes_json=json.dumps(substitutes)))
        return Run.from_row(conn.execute(sa.select(runs).where(runs.c.run_id == run_id)).one())
