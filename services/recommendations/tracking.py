"""Read models: a recommendation's answers and implementation, overdue answers, the public
view and open data, and the data handed to report plugins.

What is public: recommendations that went to a vote (their text as voted, the support
distribution, minority statements), the answers, the implementation timeline and the
assembly's composition. Drafts, amendments in progress and anything about single members
are not.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from services.recommendations import models as m
from services.recommendations import scale as scales
from services.recommendations.disclosure import suppress
from services.recommendations.queries import Row

# An interim answer does not stop the clock: the body committed to a formal answer.
FINAL_ANSWERS = ("accepted", "partly_accepted", "rejected")


def _iso(d: date | datetime | None) -> str | None:
    return d.isoformat() if d else None


def minority_statements(conn: sa.Connection, rec_id: str) -> list[dict[str, Any]]:
    return [{"id": s.id, "text": s.text, "supporters": s.supporters, "round_id": s.round_id}
            for s in conn.execute(sa.select(m.minority_statements)
                                  .where(m.minority_statements.c.recommendation_id == rec_id)
                                  .order_by(m.minority_statements.c.created_at))]


def _version(conn: sa.Connection, rec_id: str, version: int) -> Row | None:
    return conn.execute(sa.select(m.versions).where(m.versions.c.recommendation_id == rec_id,
                                                    m.versions.c.version == version)).first()


def _last_closed_round(conn: sa.Connection, rec: Row) -> Row | None:
    query = sa.select(m.rounds).where(m.rounds.c.recommendation_id == rec.id,
                                      m.rounds.c.status == "closed")
    if rec.adopted_round_id:
        query = query.where(m.rounds.c.id == rec.adopted_round_id)
    return conn.execute(query.order_by(m.rounds.c.number.desc()).limit(1)).first()


def recommendation_tracking(conn: sa.Connection, rec: Row, assembly: Row, today: date
                            ) -> dict[str, Any]:
    """Everything the public and the administration follow about one recommendation."""
    r = _last_closed_round(conn, rec)
    v = _version(conn, rec.id, r.version if r else rec.current_version)
    assert v is not None  # a round is on one of the recommendation's versions
    answers = [{"answer": a.answer, "reasons": a.reasons, "answered_on": _iso(a.answered_on),
                "answered_by": a.answered_by}
               for a in conn.execute(sa.select(m.answers)
                                     .where(m.answers.c.recommendation_id == rec.id)
                                     .order_by(m.answers.c.answered_on, m.answers.c.id))]
    updates = [{"status": u.status, "percent": u.percent,
                "responsible_committee": u.responsible_committee, "note": u.note,
                "updated_on": _iso(u.updated_on)}
               for u in conn.execute(sa.select(m.implementation)
                                     .where(m.implementation.c.recommendation_id == rec.id)
                                     .order_by(m.implementation.c.updated_on,
                                               m.implementation.c.id))]
    milestones = [{"id": s.id, "title": s.title, "due": _iso(s.due), "done_on": _iso(s.done_on)}
                  for s in conn.execute(sa.select(m.milestones)
                                        .where(m.milestones.c.recommendation_id == rec.id)
                                        .order_by(m.milestones.c.due, m.milestones.c.created_at))]
    deadline = rec.answer_deadline or assembly.answer_deadline
    answered = any(a["answer"] in FINAL_ANSWERS for a in answers)
    overdue = (rec.status == "adopted" and assembly.handed_over_on is not None
               and deadline is not None and today > deadline and not answered)
    timeline = []
    if r is not None:
        timeline.append({"on": r.result.get("closed_on") or _iso(r.closed_at.date()),
                         "event": "adopted"
                         if rec.status == "adopted" else "voted"})
    if rec.status == "adopted" and assembly.handed_over_on:
        timeline.append({"on": _iso(assembly.handed_over_on), "event": "handed_over"})
    timeline += [{"on": a["answered_on"], "event": "answer", "answer": a["answer"]}
                 for a in answers]
    timeline += [{"on": u["updated_on"], "event": "implementation", "status": u["status"],
                  "percent": u["percent"]} for u in updates]
    timeline += [{"on": s["done_on"], "event": "milestone", "title": s["title"]}
                 for s in milestones if s["done_on"]]
    timeline.sort(key=lambda e: e["on"] or "")
    return {
        "id": rec.id, "number": rec.seq, "status": rec.status,
        "title": v.title, "text": v.text, "rationale": v.rationale, "theme": v.theme,
        "values": list(v.values), "version": v.version,
        "support": r.result if r else None,
        "minority_statements": minority_statements(conn, rec.id),
        "answer": answers[-1] if answers else None, "answers": answers,
        "implementation": updates[-1] if updates else None,
        "implementation_history": updates, "milestones": milestones,
        "answer_deadline": _iso(deadline) if rec.status == "adopted" else None,
        "overdue": overdue,
        "days_overdue": (today - deadline).days if overdue else 0,
        "timeline": timeline,
    }


def _public_recommendations(conn: sa.Connection, assembly_id: str) -> list[Row]:
    voted = sa.select(m.rounds.c.recommendation_id).where(m.rounds.c.status == "closed")
    return list(conn.execute(sa.select(m.recommendations).where(
        m.recommendations.c.assembly_id == assembly_id,
        m.recommendations.c.id.in_(voted)).order_by(m.recommendations.c.seq)))


def assembly_tracking(conn: sa.Connection, assembly: Row, today: date) -> list[dict[str, Any]]:
    return [recommendation_tracking(conn, rec, assembly, today)
            for rec in _public_recommendations(conn, assembly.assembly_id)]


def public_view(conn: sa.Connection, assembly: Row, today: date) -> dict[str, Any]:
    return {
        "assembly_id": assembly.assembly_id, "name": assembly.name,
        "threshold": assembly.threshold, "scale": assembly.scale or scales.DEFAULT_SCALE,
        "receiving_body": assembly.receiving_body, "body_kind": assembly.body_kind,
        "handed_over_on": _iso(assembly.handed_over_on),
        "answer_deadline": _iso(assembly.answer_deadline),
        "recommendations": assembly_tracking(conn, assembly, today),
    }


def report_data(conn: sa.Connection, assembly: Row, today: date, min_cell: int
                ) -> dict[str, Any]:
    """What report plugins get (hookspecs.Report.produce): adopted recommendations with
    their support, the composition against the population and the process."""
    view = public_view(conn, assembly, today)
    report_input = assembly.report_input or {}
    sessions = conn.execute(sa.select(m.sessions_held)
                            .where(m.sessions_held.c.assembly_id == assembly.assembly_id)
                            .order_by(m.sessions_held.c.held_at)).fetchall()
    return {
        **{k: view[k] for k in ("assembly_id", "name", "threshold", "scale", "receiving_body",
                                "body_kind", "handed_over_on", "answer_deadline")},
        "title": report_input.get("title") or {"da": assembly.name, "en": assembly.name},
        "recommendations": [r for r in view["recommendations"] if r["status"] == "adopted"],
        "not_adopted": [{"number": r["number"], "title": r["title"], "support": r["support"]}
                        for r in view["recommendations"] if r["status"] != "adopted"],
        "composition": composition_rows(report_input.get("composition", []), min_cell),
        "min_cell": min_cell,
        "process": {
            "sessions": [{"session_id": s.session_id, "held_on": _iso(s.held_at.date()),
                          "hours": s.hours, "present": s.present, "seated": s.seated}
                         for s in sessions],
            "session_count": len(sessions),
            "hours": round(sum(s.hours for s in sessions), 2),
            "experts_heard": report_input.get("experts_heard", []),
            "summary": report_input.get("process_summary", {}),
        },
        "generated_on": today.isoformat(),
    }


def composition_rows(rows: list[dict], min_cell: int) -> list[dict]:
    """Panel shares next to the population's, per feature (shares of the feature's total);
    a panel count below ``min_cell`` is suppressed (``panel_count`` None, ``suppressed``)."""
    totals: dict[str, int] = {}
    for r in rows:
        totals[r["feature"]] = totals.get(r["feature"], 0) + r["panel_count"]
    hidden: dict[int, bool] = {}
    for feature in totals:
        index = [i for i, r in enumerate(rows) if r["feature"] == feature]
        hidden.update(zip(index, suppress([rows[i]["panel_count"] for i in index], min_cell),
                          strict=True))
    out = []
    for i, r in enumerate(rows):
        if hidden[i]:
            out.append({**r, "panel_count": None, "panel_share": None, "suppressed": True})
        else:
            out.append({**r, "suppressed": False, "panel_share": round(
                r["panel_count"] / totals[r["feature"]], 4) if totals[r["feature"]] else 0.0})
    return out
