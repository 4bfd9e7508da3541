"""The pool: registrants' states, the export to sortition, the draw's outcome, erasure and
statistics."""
from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from services.common.geography import municipalities
from services.common.spreadsheet import safe_cell
from services.registry import models

log = logging.getLogger(__name__)
ANSWERS = ("confirmed", "declined")
STATES = ("pool", "selected", "substitute", "confirmed", "declined", "withdrawn", "erased")
TRANSITIONS = {
    "pool": {"selected", "substitute", "withdrawn", "erased"},
    "substitute": {"selected", "withdrawn", "erased"},
    "selected": {"confirmed", "declined", "withdrawn", "erased"},
    "confirmed": {"withdrawn", "erased"},
    "declined": {"erased"},
    "withdrawn": {"erased"},
    "erased": set(),
}


class TransitionError(ValueError):
    def __init__(self, current: str, wanted: str):
        allowed = ", ".join(sorted(TRANSITIONS.get(current, ()))) or "none"
        super().__init__(f"a registrant in state {current!r} cannot become {wanted!r} "
                         f"(allowed: {allowed})")


def now() -> datetime:
    return datetime.now(UTC)


def check_transition(current: str, wanted: str) -> None:
    if wanted not in STATES:
        raise ValueError(f"unknown state {wanted!r} (states: {', '.join(STATES)})")
    if wanted not in TRANSITIONS[current]:
        raise TransitionError(current, wanted)


# The tables that hold, or held until an erasure, a person's data: after an erasure their
# dead copies are purged (storage.purge_erased).
ERASED_TABLES = (models.persons, models.invitations, models.registrants, models.deliveries)


def person_of(conn: Connection, registrant_id: str) -> int | None:
    """The person behind a registrant (None once erased, or for one without invitation)."""
    r = models.registrants
    invitation_id = conn.scalar(sa.select(r.c.invitation_id).where(r.c.id == registrant_id))
    if not invitation_id:
        return None
    person_id: int | None = conn.scalar(sa.select(models.invitations.c.person_id)
                                        .where(models.invitations.c.id == invitation_id))
    return person_id


def erase_registrant(conn: Connection, registrant_id: str) -> None:
    """Forget who a registrant is: the person behind the invitation loses every personal
    field; the registrant keeps only its features for the statistics."""
    r = models.registrants
    row = conn.execute(sa.select(r.c.invitation_id).where(r.c.id == registrant_id)).one()
    if row.invitation_id:
        person_id = conn.scalar(sa.select(models.invitations.c.person_id)
                                .where(models.invitations.c.id == row.invitation_id))
        if person_id is not None:
            _erase_persons(conn, models.persons.c.id == person_id)
    conn.execute(r.update().where(r.c.id == registrant_id)
                 .values(state="erased", answers="{}", updated_at=now()))


def _erase_persons(conn: Connection, where: sa.ColumnElement[bool]) -> None:
    conn.execute(models.persons.update().where(where)
                 .values(sealed=None, key_hash=None, household=None))


def export_pool(conn: Connection, assembly_id: str, fmt: str) -> tuple[bytes, str, int, str]:
    """The pool as features only, keyed by the registrants' random ids."""
    assembly = conn.execute(sa.select(models.assemblies.c.questions)
                            .where(models.assemblies.c.id == assembly_id)).one()
    question_ids = [q["id"] for q in json.loads(assembly.questions)]
    r = models.registrants
    rows = []
    for reg in conn.execute(sa.select(r).where(r.c.assembly_id == assembly_id,
                                               r.c.state == "pool").order_by(r.c.id)):
        answers = json.loads(reg.answers)
        rows.append({"id": reg.id, "municipality_code": str(reg.municipality_code),
                     "age_band": reg.age_band, "sex": reg.sex,
                     **{q: answers.get(q, "") for q in question_ids}})
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, ["id", "municipality_code", "age_band", "sex", *question_ids],
                                lineterminator="\n")
        writer.writeheader()
        # Operators open the CSV in a spreadsheet: an answer starting like a formula stays
        # text. Machines take the JSON format, which is written unchanged.
        writer.writerows({k: safe_cell(v) for k, v in row.items()} for row in rows)
        body = buf.getvalue().encode()
    else:
        body = json.dumps({"assembly_id": assembly_id, "people": rows}, ensure_ascii=False,
                          sort_keys=True).encode()
    digest = hashlib.sha256(body).hexdigest()
    version = str(uuid.uuid4())
    conn.execute(models.pool_exports.insert().values(
        id=version, assembly_id=assembly_id, registrant_count=len(rows), sha256=digest,
        created_at=now()))
    return body, digest, len(rows), version


def seat(conn: Connection, assembly_id: str, registrant_ids: list[str], target: str, *,
         answers_stand: bool = False) -> list[str]:
    """Make the drawn registrants ``target`` (``selected`` or ``substitute``); returns the
    invitations of those newly selected, who are to be told. ``answers_stand``: a
    registrant who has answered already keeps their answer (a seat offer overtaken by the
    answer to it, which travels on another topic)."""
    r = models.registrants
    found = {row.id: row for row in conn.execute(
        sa.select(r.c.id, r.c.state, r.c.invitation_id)
        .where(r.c.assembly_id == assembly_id, r.c.id.in_(registrant_ids)))}
    missing = [i for i in registrant_ids if i not in found]
    if missing:
        # Raising makes the bus retry and then dead-letter the event for an operator.
        raise LookupError(f"{len(missing)} drawn ids are not registrants of this "
                          f"assembly (first: {missing[0]})")
    notify: list[str] = []
    for rid in registrant_ids:
        current = found[rid].state
        if current == target:
            continue
        if answers_stand and current in ANSWERS:
            continue
        check_transition(current, target)
        conn.execute(r.update().where(r.c.id == rid).values(state=target, updated_at=now()))
        if target == "selected" and found[rid].invitation_id:
            notify.append(found[rid].invitation_id)
    return notify


def record_answer(conn: Connection, assembly_id: str, registrant_id: str, answer: str,
                  event_id: str) -> None:
    """A facilitator recorded the member's answer in sessions. An answer the member gave
    here comes back this way too and finds nothing to change: no loop."""
    r = models.registrants
    current = conn.scalar(sa.select(r.c.state).where(r.c.assembly_id == assembly_id,
                                                     r.c.id == registrant_id))
    if current == answer:
        return
    # An offered substitute whose offer has not reached us yet (it travels on
    # another topic) was selected all the same: the answer says so.
    path = ["selected", answer] if current == "substitute" else [answer]
    try:
        if current is None or answer not in ANSWERS:
            raise ValueError(f"registrant is {current or 'unknown'}, answer {answer!r}")
        state = current
        for wanted in path:
            check_transition(state, wanted)
            state = wanted
    except ValueError as exc:
        # Sessions holds the seats; the registry's state is a copy for its
        # statistics and notices, so a disagreement is for an operator to look at,
        # not a reason to stop the partition.
        log.warning("member answer not applied to the registrant", extra={
            "event_id": event_id, "registrant_id": registrant_id, "detail": str(exc)})
        return
    conn.execute(r.update().where(r.c.id == registrant_id)
                 .values(state=answer, updated_at=now()))


def statistics(conn: Connection, assembly_id: str) -> dict:
    """Invited, signed up and response rate per municipality and per feature value."""
    ended = conn.execute(sa.select(models.aggregate_stats)
                         .where(models.aggregate_stats.c.assembly_id == assembly_id)).all()
    if ended:
        rows = [(s.municipality_code, s.feature, s.value, s.invited, s.signed_up) for s in ended]
    else:
        rows = _live_counts(conn, assembly_id)
    by_municipality: dict[int, dict] = {}
    by_feature: dict[str, dict[str, dict]] = {}
    for code, feature, value, invited, signed in rows:
        if feature == "municipality":
            by_municipality[code] = {"invited": invited, "signed_up": signed}
        else:
            slot = by_feature.setdefault(feature, {}).setdefault(value, {"invited": 0,
                                                                         "signed_up": 0})
            slot["invited"] += invited
            slot["signed_up"] += signed

    def rate(d: dict[str, Any]) -> dict[str, Any]:
        return {**d, "response_rate": (round(d["signed_up"] / d["invited"], 4) if d["invited"]
                                       else None)}

    names = municipalities()
    total_inv = sum(v["invited"] for v in by_municipality.values())
    total_sig = sum(v["signed_up"] for v in by_municipality.values())
    return {
        "assembly_id": assembly_id,
        "total": rate({"invited": total_inv, "signed_up": total_sig}),
        "municipalities": [{"code": c, "name": names[c].name if c in names else str(c),
                            **rate(v)} for c, v in sorted(by_municipality.items())],
        "features": {f: {v: rate(d) for v, d in sorted(values.items())}
                     for f, values in sorted(by_feature.items())},
    }


def _live_counts(conn: Connection, assembly_id: str) -> list[tuple]:
    i, r = models.invitations, models.registrants
    out: list[tuple] = []
    signed = sa.func.sum(sa.case((i.c.signed_up, 1), else_=0))
    for col, feature in ((None, "municipality"), (i.c.age_band, "age_band"), (i.c.sex, "sex")):
        cols = [i.c.municipality_code] + ([col] if col is not None else [])
        for row in conn.execute(sa.select(*cols, sa.func.count(), signed)
                                .where(i.c.assembly_id == assembly_id).group_by(*cols)):
            value = row[1] if col is not None else ""
            out.append((row[0], feature, value, row[-2], int(row[-1] or 0)))
    # Answers to the assembly's own questions: counted among those who signed up.
    for reg in conn.execute(sa.select(r.c.municipality_code, r.c.answers)
                            .where(r.c.assembly_id == assembly_id)):
        for q, v in json.loads(reg.answers).items():
            out.append((reg.municipality_code, q, str(v), 0, 1))
    return out


def end_assembly(conn: Connection, assembly_id: str) -> dict:
    """Erase every piece of personal data of an assembly; keep the counts."""
    counts: dict[tuple, list[int]] = {}
    for code, feature, value, invited, signed in _live_counts(conn, assembly_id):
        slot = counts.setdefault((code, feature, value), [0, 0])
        slot[0] += invited
        slot[1] += signed
    conn.execute(models.aggregate_stats.delete()
                 .where(models.aggregate_stats.c.assembly_id == assembly_id))
    if counts:
        conn.execute(models.aggregate_stats.insert(), [
            {"assembly_id": assembly_id, "municipality_code": k[0], "feature": k[1],
             "value": k[2], "invited": v[0], "signed_up": v[1]} for k, v in counts.items()])
    p = models.persons
    conn.execute(models.deliveries.delete().where(models.deliveries.c.assembly_id == assembly_id))
    conn.execute(models.invitations.delete().where(models.invitations.c.assembly_id == assembly_id))
    conn.execute(models.registrants.delete().where(models.registrants.c.assembly_id == assembly_id))
    conn.execute(p.delete().where(p.c.assembly_id == assembly_id))
    conn.execute(models.assemblies.update().where(models.assemblies.c.id == assembly_id)
                 .values(status="ended", erased_at=now()))
    return {"groups": len(counts)}
