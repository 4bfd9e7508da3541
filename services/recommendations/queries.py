"""Row lookups: functions of a connection that read rows or plain values. A row a request
names and the database does not hold is refused with 404, naming the field."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from services.common.web import found
from services.recommendations import models as m

# A row of any table (its columns are attributes).
Row = sa.Row[*tuple[Any, ...]]


def assembly_row(conn: sa.Connection, assembly_id: str) -> Row:
    query = sa.select(m.assemblies).where(m.assemblies.c.assembly_id == assembly_id)
    return found(conn.execute(query).first(), "assembly_id", f"unknown assembly {assembly_id!r}")


def assembly_exists(conn: sa.Connection, assembly_id: str) -> bool:
    return bool(conn.scalar(sa.select(sa.func.count()).select_from(m.assemblies)
                            .where(m.assemblies.c.assembly_id == assembly_id)))


def seated_count(conn: sa.Connection, assembly_id: str) -> int:
    return int(conn.scalar(sa.select(sa.func.count()).select_from(m.members).where(
        m.members.c.assembly_id == assembly_id, m.members.c.seated.is_(True))) or 0)


def seated_member_ids(conn: sa.Connection, assembly_id: str) -> set[str]:
    return set(conn.scalars(sa.select(m.members.c.member_id).where(
        m.members.c.assembly_id == assembly_id, m.members.c.seated.is_(True))))


def members(conn: sa.Connection, assembly_id: str) -> list[Row]:
    return list(conn.execute(sa.select(m.members).where(m.members.c.assembly_id == assembly_id)
                             .order_by(m.members.c.member_id)))


def member(conn: sa.Connection, assembly_id: str, member_id: str) -> Row | None:
    return conn.execute(sa.select(m.members).where(m.members.c.assembly_id == assembly_id,
                                                   m.members.c.member_id == member_id)).first()


def member_by_code_hash(conn: sa.Connection, code_hash: str) -> Row | None:
    return conn.execute(sa.select(m.members).where(m.members.c.code_hash == code_hash)).first()


# --- drafting ---------------------------------------------------------------------------------


def rec_row(conn: sa.Connection, rec_id: str, field: str = "recommendation_id") -> Row:
    query = sa.select(m.recommendations).where(m.recommendations.c.id == rec_id)
    return found(conn.execute(query).first(), field, f"unknown recommendation {rec_id!r}")


def recommendations(conn: sa.Connection, assembly_id: str) -> list[Row]:
    return list(conn.execute(sa.select(m.recommendations)
                             .where(m.recommendations.c.assembly_id == assembly_id)
                             .order_by(m.recommendations.c.seq)))


def last_seq(conn: sa.Connection, assembly_id: str) -> int:
    return int(conn.scalar(sa.select(sa.func.max(m.recommendations.c.seq))
                           .where(m.recommendations.c.assembly_id == assembly_id)) or 0)


def version_row(conn: sa.Connection, rec_id: str, version: int) -> Row | None:
    return conn.execute(sa.select(m.versions).where(m.versions.c.recommendation_id == rec_id,
                                                    m.versions.c.version == version)).first()


def current_version(conn: sa.Connection, rec: Row) -> Row:
    """The version a recommendation is at (it always has one)."""
    v = version_row(conn, rec.id, rec.current_version)
    assert v is not None  # a recommendation is created with its first version
    return v


def versions(conn: sa.Connection, rec_id: str) -> list[Row]:
    return list(conn.execute(sa.select(m.versions).where(m.versions.c.recommendation_id == rec_id)
                             .order_by(m.versions.c.version)))


def amendment(conn: sa.Connection, amendment_id: str) -> Row | None:
    return conn.execute(sa.select(m.amendments).where(m.amendments.c.id == amendment_id)).first()


def amendments(conn: sa.Connection, rec_id: str) -> list[Row]:
    return list(conn.execute(sa.select(m.amendments)
                             .where(m.amendments.c.recommendation_id == rec_id)
                             .order_by(m.amendments.c.created_at)))


def lineage(conn: sa.Connection, rec_id: str) -> dict[str, list[str]]:
    """What a recommendation was merged or split from and what it became."""
    lin = m.lineage
    return {
        "merged_from": [r.parent_id for r in conn.execute(sa.select(lin).where(
            lin.c.child_id == rec_id, lin.c.kind == "merge"))],
        "split_from": [r.parent_id for r in conn.execute(sa.select(lin).where(
            lin.c.child_id == rec_id, lin.c.kind == "split"))],
        "became": [r.child_id for r in conn.execute(sa.select(lin).where(
            lin.c.parent_id == rec_id))],
    }


def has_open_round(conn: sa.Connection, rec_id: str) -> bool:
    return bool(conn.scalar(sa.select(sa.func.count()).select_from(m.rounds).where(
        m.rounds.c.recommendation_id == rec_id, m.rounds.c.status == "open")))


# --- voting -----------------------------------------------------------------------------------


def round_row(conn: sa.Connection, round_id: str) -> Row:
    query = sa.select(m.rounds).where(m.rounds.c.id == round_id)
    return found(conn.execute(query).first(), "round_id", f"unknown voting round {round_id!r}")


def rounds(conn: sa.Connection, rec_id: str) -> list[Row]:
    return list(conn.execute(sa.select(m.rounds).where(m.rounds.c.recommendation_id == rec_id)
                             .order_by(m.rounds.c.number)))


def open_round(conn: sa.Connection, rec_id: str) -> Row | None:
    """The newest open round of a recommendation, if one is open."""
    return conn.execute(sa.select(m.rounds).where(m.rounds.c.recommendation_id == rec_id,
                                                  m.rounds.c.status == "open")
                        .order_by(m.rounds.c.number.desc()).limit(1)).first()


def last_round_number(conn: sa.Connection, rec_id: str) -> int:
    return int(conn.scalar(sa.select(sa.func.max(m.rounds.c.number))
                           .where(m.rounds.c.recommendation_id == rec_id)) or 0)


def round_counts(conn: sa.Connection, round_id: str) -> tuple[int, int]:
    """How many have voted in a round and how many are on its roll call."""
    voted = conn.scalar(sa.select(sa.func.count()).select_from(m.round_voters)
                        .where(m.round_voters.c.round_id == round_id))
    present = conn.scalar(sa.select(sa.func.count()).select_from(m.presence)
                          .where(m.presence.c.round_id == round_id))
    return int(voted or 0), int(present or 0)


def is_present(conn: sa.Connection, round_id: str, member_id: str) -> bool:
    return bool(conn.scalar(sa.select(sa.func.count()).select_from(m.presence).where(
        m.presence.c.round_id == round_id, m.presence.c.member_id == member_id)))


def has_voted(conn: sa.Connection, round_id: str, member_id: str) -> bool:
    return bool(conn.scalar(sa.select(sa.func.count()).select_from(m.round_voters).where(
        m.round_voters.c.round_id == round_id, m.round_voters.c.member_id == member_id)))


def round_tally(conn: sa.Connection, round_id: str) -> dict[str, int]:
    """How many ballots each level of a round has (the ballots are kept only as counts)."""
    return {str(level): int(count) for level, count in conn.execute(
        sa.select(m.round_tallies.c.level, m.round_tallies.c.count)
        .where(m.round_tallies.c.round_id == round_id))}


# --- answers and implementation ---------------------------------------------------------------


def last_committee(conn: sa.Connection, rec_id: str) -> str | None:
    """The committee the newest implementation update named."""
    committee: str | None = conn.scalar(
        sa.select(m.implementation.c.responsible_committee)
        .where(m.implementation.c.recommendation_id == rec_id)
        .order_by(m.implementation.c.id.desc()).limit(1))
    return committee


def milestone(conn: sa.Connection, milestone_id: str) -> Row:
    query = sa.select(m.milestones).where(m.milestones.c.id == milestone_id)
    return found(conn.execute(query).first(), "milestone_id",
                 f"unknown milestone {milestone_id!r}")


# --- the final report -------------------------------------------------------------------------


def released_reports(conn: sa.Connection, assembly_id: str) -> list[Row]:
    rr = m.released_reports
    return list(conn.execute(sa.select(rr.c.lang, rr.c.name, rr.c.media_type, rr.c.released_at)
                             .where(rr.c.assembly_id == assembly_id)
                             .order_by(rr.c.lang, rr.c.name)))


def released_report_file(conn: sa.Connection, assembly_id: str, lang: str, name: str
                         ) -> Row | None:
    rr = m.released_reports
    return conn.execute(sa.select(rr.c.media_type, rr.c.content).where(
        rr.c.assembly_id == assembly_id, rr.c.lang == lang, rr.c.name == name)).first()


# --- questionnaires ---------------------------------------------------------------------------


def questionnaire_row(conn: sa.Connection, questionnaire_id: str,
                      field: str = "questionnaire_id") -> Row:
    query = sa.select(m.questionnaires).where(m.questionnaires.c.id == questionnaire_id)
    return found(conn.execute(query).first(), field,
                 f"unknown questionnaire {questionnaire_id!r}")


def questionnaires(conn: sa.Connection, assembly_id: str) -> list[Row]:
    q = m.questionnaires
    return list(conn.execute(sa.select(q).where(q.c.assembly_id == assembly_id)
                             .order_by(q.c.created_at, q.c.id)))


def open_questionnaire_exists(conn: sa.Connection, assembly_id: str, audience: str, stage: str,
                              session_id: str | None) -> bool:
    q = m.questionnaires
    return bool(conn.scalar(sa.select(sa.func.count()).select_from(q).where(
        q.c.assembly_id == assembly_id, q.c.audience == audience, q.c.stage == stage,
        q.c.session_id.is_(None) if session_id is None else q.c.session_id == session_id,
        q.c.status == "open")))
