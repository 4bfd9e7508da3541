"""Reading the registry's rows: assemblies, templates, rollouts, invitations and registrants.
No writes. A lookup by an id from the request refuses an unknown id with a 404 ApiError
naming the field."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from services.common.web import ApiError, found
from services.registry import lottery, models


def _by_id(conn: Connection, table: sa.Table, field: str, what: str, value: str) -> Row[Any]:
    """The row whose id the request named; a 404 naming the field when there is none."""
    return found(conn.execute(sa.select(table).where(table.c.id == value)).first(),
                 field, f"no {what} {value!r}")


def assembly(conn: Connection, assembly_id: str) -> Row[Any]:
    return _by_id(conn, models.assemblies, "assembly_id", "assembly", assembly_id)


def open_assembly(conn: Connection, assembly_id: str) -> Row[Any]:
    """An assembly whose personal data is still there (it has not ended)."""
    row = assembly(conn, assembly_id)
    if row.status != "open":
        raise ApiError("assembly_id", "the assembly has ended and its personal data is erased", 409)
    return row


def assembly_exists(conn: Connection, assembly_id: str) -> bool:
    return conn.scalar(sa.select(models.assemblies.c.id)
                       .where(models.assemblies.c.id == assembly_id)) is not None


def population(conn: Connection, assembly_id: str) -> int:
    """How many persons the assembly's extracts hold."""
    count: int = conn.execute(sa.select(sa.func.count()).select_from(models.persons)
                              .where(models.persons.c.assembly_id == assembly_id)).scalar_one()
    return count


def template(conn: Connection, template_id: str) -> Row[Any]:
    return _by_id(conn, models.templates, "template_id", "template", template_id)


def rollout(conn: Connection, rollout_id: str) -> Row[Any]:
    return _by_id(conn, models.rollouts, "rollout_id", "rollout", rollout_id)


def invitation_states(conn: Connection, rollout_id: str) -> dict[str, int]:
    """How many of a rollout's invitations are in each state."""
    i = models.invitations
    return {status: n for status, n in conn.execute(
        sa.select(i.c.status, sa.func.count()).where(i.c.rollout_id == rollout_id)
        .group_by(i.c.status))}


def candidates(conn: Connection, assembly_id: str, municipality_codes: Sequence[int],
               age_bands: Sequence[str] | None) -> list[lottery.Candidate]:
    """Who a new rollout may invite: persons of the scope (and age bands) who are not erased
    and have not been invited by an earlier rollout of the assembly."""
    p, i = models.persons, models.invitations
    already = sa.select(i.c.person_id).where(i.c.assembly_id == assembly_id,
                                             i.c.person_id.is_not(None))
    query = (sa.select(p.c.id, p.c.municipality_code, p.c.age_band, p.c.sex, p.c.household)
             .where(p.c.assembly_id == assembly_id, p.c.sealed.is_not(None),
                    p.c.municipality_code.in_(municipality_codes), p.c.id.not_in(already)))
    if age_bands:
        query = query.where(p.c.age_band.in_(age_bands))
    return [lottery.Candidate(*row) for row in conn.execute(query)]


def invitations_to_request(conn: Connection, rollout_id: str) -> list[str]:
    """The ids of a rollout's invitations not yet handled by a channel (drawn, or requested
    by an earlier send)."""
    i = models.invitations
    return list(conn.scalars(sa.select(i.c.id).where(i.c.rollout_id == rollout_id,
                                                     i.c.status.in_(("drawn", "requested")))
                             .order_by(i.c.id)))


def delivery_counts(conn: Connection, rollout_id: str) -> list[dict[str, Any]]:
    """How many of a rollout's deliveries are in each state, per channel."""
    d, i = models.deliveries, models.invitations
    rows = conn.execute(sa.select(d.c.state, d.c.channel, sa.func.count())
                        .select_from(d.join(i, i.c.id == d.c.invitation_id))
                        .where(i.c.rollout_id == rollout_id)
                        .group_by(d.c.state, d.c.channel)).all()
    return [{"state": s, "channel": c, "count": n} for s, c, n in rows]


def registrants(conn: Connection, assembly_id: str) -> list[dict[str, Any]]:
    """The assembly's registrants in sign-up order: pseudonymous id, state, municipality."""
    r = models.registrants
    rows = conn.execute(sa.select(r.c.id, r.c.state, r.c.municipality_code)
                        .where(r.c.assembly_id == assembly_id).order_by(r.c.created_at)).all()
    return [{"id": x.id, "state": x.state, "municipality_code": x.municipality_code}
            for x in rows]


def registrant_state(conn: Connection, registrant_id: str) -> str | None:
    state: str | None = conn.scalar(sa.select(models.registrants.c.state)
                                    .where(models.registrants.c.id == registrant_id))
    return state


def invitation_by_code(conn: Connection, code: str) -> Row[Any] | None:
    """The invitation of a sign-up code with its assembly's name, questions, dates and
    state (``assembly_status``) and its registrant (``registrant_id`` and
    ``registrant_state``, None before the sign-up)."""
    i, a, r = models.invitations, models.assemblies, models.registrants
    return conn.execute(sa.select(i, a.c.name, a.c.questions, a.c.session_dates,
                                  a.c.status.label("assembly_status"),
                                  r.c.id.label("registrant_id"),
                                  r.c.state.label("registrant_state"))
                        .select_from(i.join(a, a.c.id == i.c.assembly_id)
                                     .outerjoin(r, r.c.invitation_id == i.c.id))
                        .where(i.c.code == code)).first()
