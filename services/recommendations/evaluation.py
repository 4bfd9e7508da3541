"""The evaluation of an assembly (OECD evaluation guidelines, 2021: design integrity, the
deliberative experience, pathways to impact), as data for the report plugins.

The other services tell this one what it needs as aggregate events, kept as the newest
snapshot per kind in ``rec_evaluation_facts``: the registry's funnel (population, invited,
signed up per feature value), the sortition's fairness figures and the sessions' process
(sessions, composition drawn and seated, dropouts, guests heard). Organisers add population
shares for features the extract does not hold (e.g. education, from Statistics Denmark).

``evaluation_data`` returns, with every count below ``min_cell`` suppressed:

- ``representativeness``: per feature, one row per value with ``population``, ``invited``,
  ``signed_up``, ``drawn`` and ``seated`` (each ``{count, share, suppressed}``), and the
  distance of the volunteers and of the panel from the population;
- ``selection``: the draw's fairness (minimum probability, Gini, geometric mean, share below
  k/n);
- ``process``: hours planned and held, attendance per session, dropouts and replacements,
  guests heard, recommendations adopted, answers on time;
- ``experience``: the questionnaires' answers as counts (free texts only with
  ``audience="internal"``);
- ``impact``: each adopted recommendation's answer and implementation a year after the
  handover (or as of today, before that);
- ``labels``: display names of features and values, where the organisers gave them.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from services.common.web import ApiError
from services.recommendations import models as m
from services.recommendations import queries, tracking
from services.recommendations.disclosure import suppress
from services.recommendations.queries import Row
from services.recommendations.questionnaires import results as questionnaire_results

STAGES = ("population", "invited", "signed_up", "drawn", "seated")
FACT_KINDS = ("funnel", "selection", "process", "population_targets")
AUDIENCES = ("public", "internal")



# --- facts from the bus -----------------------------------------------------------------------


def store_fact(conn: sa.Connection, assembly_id: str, kind: str, data: dict[str, Any],
               at: datetime) -> None:
    """Keep ``data`` as the newest fact of its kind, unless a newer one is already kept (a
    redelivered old snapshot must not replace a newer one)."""
    f = m.evaluation_facts
    where = (f.c.assembly_id == assembly_id) & (f.c.kind == kind)
    current = conn.execute(sa.select(f.c.updated_at).where(where)).first()
    if current is not None:
        kept = current.updated_at
        if kept.tzinfo is None:  # SQLite gives naive datetimes back
            kept = kept.replace(tzinfo=UTC)
        if kept > at:
            return
        conn.execute(f.update().where(where).values(data=data, updated_at=at))
    else:
        conn.execute(f.insert().values(assembly_id=assembly_id, kind=kind, data=data,
                                       updated_at=at))


def fact_from_event(kind: str, payload: Any) -> tuple[str, dict[str, Any]]:
    """The fact an evaluation event carries, as JSON-ready data."""
    if kind == "funnel_counted":
        return "funnel", {
            "population_total": payload.population_total, "invited_total": payload.invited_total,
            "signed_up_total": payload.signed_up_total, "pool_version": payload.pool_version,
            "counts": [{"feature": c.feature, "value": c.value, "population": c.population,
                        "invited": c.invited, "signed_up": c.signed_up} for c in payload.counts]}
    if kind == "distribution_computed":
        return "selection", {
            "algorithm": payload.algorithm, "min_probability": payload.min_probability,
            "gini": payload.gini, "geometric_mean": payload.geometric_mean,
            "share_below_k_over_n": payload.share_below_k_over_n,
            "pool_size": payload.pool_size, "seats": payload.seats,
            "panel_count": payload.panel_count, "lottery_sha256": payload.lottery_sha256,
            "lottery_size": payload.lottery_size, "run_id": payload.run_id}
    if kind == "process_summarised":
        return "process", {
            "sessions": [{"session_id": s.session_id, "title": s.title, "date": s.date,
                          "planned_hours": s.planned_hours, "held": s.held,
                          "present": s.present, "seated": s.seated} for s in payload.sessions],
            "composition": [{"feature": c.feature, "value": c.value, "drawn": c.drawn,
                             "seated": c.seated} for c in payload.composition],
            "seats": payload.seats, "withdrawals": payload.withdrawals,
            "withdrawals_after_cutoff": payload.withdrawals_after_cutoff,
            "replacements": payload.replacements, "open_vacancies": payload.open_vacancies,
            "declined_offers": payload.declined_offers,
            "guests": [{"session_id": g.session_id, "kind": g.kind, "name": g.name,
                        "organisation": g.organisation} for g in payload.guests]}
    raise ValueError(f"event_type: {kind!r} carries no evaluation fact")


def facts(conn: sa.Connection, assembly_id: str) -> dict[str, Any]:
    f = m.evaluation_facts
    return {r.kind: r.data for r in conn.execute(sa.select(f.c.kind, f.c.data)
                                                 .where(f.c.assembly_id == assembly_id))}


# --- small cells ------------------------------------------------------------------------------


def _column(counts: list[int | None], min_cell: int) -> list[dict]:
    hidden = suppress(counts, min_cell)
    total = sum(c for c in counts if c) if any(c is not None for c in counts) else None
    out: list[dict[str, Any]] = []
    for c, h in zip(counts, hidden, strict=True):
        if c is None:
            out.append({"count": None, "share": None, "suppressed": False})
        elif h:
            out.append({"count": None, "share": None, "suppressed": True})
        else:
            out.append({"count": c, "share": round(c / total, 4) if total else None,
                        "suppressed": False})
    return out


def _distance(a: list[dict], b: list[dict]) -> float | None:
    """Total variation distance between two share columns, over the values both show."""
    pairs = [(x["share"], y["share"]) for x, y in zip(a, b, strict=True)
             if x["share"] is not None and y["share"] is not None]
    if not pairs or any(x["suppressed"] or y["suppressed"] for x, y in zip(a, b, strict=True)):
        return None
    return round(sum(abs(x - y) for x, y in pairs) / 2, 4)


def representativeness(f: dict[str, dict], min_cell: int) -> dict[str, Any]:
    funnel = {(c["feature"], c["value"]): c for c in (f.get("funnel") or {}).get("counts", [])}
    composition = {(c["feature"], c["value"]): c
                   for c in (f.get("process") or {}).get("composition", [])}
    targets: dict[str, dict[str, float]] = f.get("population_targets") or {}
    # The features of the draw (the quotas) first; without a draw yet, the funnel's.
    features = list(dict.fromkeys([k[0] for k in composition] or [k[0] for k in funnel]))
    out = []
    for feature in features:
        values = sorted({v for (ft, v) in list(funnel) + list(composition) if ft == feature}
                        | set(targets.get(feature, {})))
        fun = [funnel.get((feature, v)) for v in values]
        comp = [composition.get((feature, v)) for v in values]
        sources = {"population": fun, "invited": fun, "signed_up": fun, "drawn": comp,
                   "seated": comp}
        # The extract holds no population or invitations for the assembly's own questions:
        # those stages are known only where a count is; the others wherever a row is.
        known = {stage: any(x and x[stage] for x in rows) if stage in ("population", "invited")
                 else any(rows) for stage, rows in sources.items()}
        columns: dict[str, Any] = {
            stage: _column([(x or {}).get(stage, 0) for x in sources[stage]], min_cell)
            if known[stage] else None for stage in STAGES}
        source = "extract" if known["population"] else None
        if columns["population"] is None and feature in targets:
            # Shares an organiser entered (e.g. from Statistics Denmark): no counts.
            columns["population"] = [{"count": None, "share": targets[feature].get(v),
                                      "suppressed": False} for v in values]
            source = "targets"
        empty = [{"count": None, "share": None, "suppressed": False}] * len(values)
        rows = [{"value": v, **{s: (columns[s] or empty)[i] for s in STAGES}}
                for i, v in enumerate(values)]
        pop = columns["population"]
        out.append({
            "feature": feature, "population_source": source, "rows": rows,
            "stages": [s for s in STAGES if columns[s] is not None],
            # Self-selection: how far the volunteers are from the population; the lottery's
            # correction: how far the panel is.
            **{f"distance_{stage}": _distance(pop, columns[stage])
               if pop and columns[stage] else None for stage in ("signed_up", "drawn", "seated")},
        })
    totals = {"population": (f.get("funnel") or {}).get("population_total"),
              "invited": (f.get("funnel") or {}).get("invited_total"),
              "signed_up": (f.get("funnel") or {}).get("signed_up_total")}
    if composition:
        first = next(iter(composition))[0]
        totals["drawn"] = sum(c["drawn"] for k, c in composition.items() if k[0] == first)
        totals["seated"] = sum(c["seated"] for k, c in composition.items() if k[0] == first)
    return {"features": out, "totals": totals}


def selection(f: dict[str, dict]) -> dict | None:
    s = f.get("selection")
    if not s:
        return None
    k_over_n = s["seats"] / s["pool_size"] if s.get("pool_size") else None
    return {**s, "k_over_n": round(k_over_n, 6) if k_over_n else None}


# --- process and impact -----------------------------------------------------------------------


def process(conn: sa.Connection, assembly: Row, f: dict[str, Any], view: dict[str, Any]
            ) -> dict[str, Any]:
    snapshot = f.get("process") or {}
    held = {s.session_id: s for s in conn.execute(
        sa.select(m.sessions_held).where(m.sessions_held.c.assembly_id == assembly.assembly_id))}
    sessions = []
    for s in snapshot.get("sessions", []):
        h = held.get(s["session_id"])
        sessions.append({**s, "held": bool(s["held"] or h),
                         "held_hours": round(h.hours, 2) if h else None,
                         "present": h.present if h else s["present"],
                         "seated": h.seated if h else s["seated"]})
    for sid, h in held.items():  # held before the snapshot knew of it
        if sid not in {s["session_id"] for s in sessions}:
            sessions.append({"session_id": sid, "title": sid, "date": h.held_at.date().isoformat(),
                             "planned_hours": None, "held": True, "held_hours": round(h.hours, 2),
                             "present": h.present, "seated": h.seated})
    sessions.sort(key=lambda s: (s["date"] or "", s["session_id"]))
    attendance = [s["present"] / s["seated"] for s in sessions if s["held"] and s["seated"]]
    recs = view["recommendations"]
    adopted = [r for r in recs if r["status"] == "adopted"]
    on_time = late = open_ = 0
    for r in adopted:
        deadline = date.fromisoformat(r["answer_deadline"]) if r["answer_deadline"] else None
        final = [a for a in r["answers"] if a["answer"] in tracking.FINAL_ANSWERS]
        if final:
            first = date.fromisoformat(final[0]["answered_on"])
            if deadline is None or first <= deadline:
                on_time += 1
            else:
                late += 1
        else:
            open_ += 1
    return {
        "sessions": sessions,
        "sessions_planned": len(sessions),
        "sessions_held": sum(1 for s in sessions if s["held"]),
        "planned_hours": round(sum(s["planned_hours"] or 0 for s in sessions), 2),
        "held_hours": round(sum(s["held_hours"] or 0 for s in sessions), 2),
        "mean_attendance": round(sum(attendance) / len(attendance), 4) if attendance else None,
        **{k: snapshot.get(k) for k in ("seats", "withdrawals", "withdrawals_after_cutoff",
                                         "replacements", "open_vacancies", "declined_offers")},
        "guests": snapshot.get("guests", []),
        "recommendations_voted": len(recs),
        "recommendations_adopted": len(adopted),
        "answers": {"on_time": on_time, "late": late, "not_yet": open_,
                    "deadline": view.get("answer_deadline")},
    }


def impact(assembly: Row, view: dict[str, Any], on: date) -> dict[str, Any]:
    """Each adopted recommendation as it stood a year after the handover (or today, when the
    year is not over: ``final`` says which)."""
    handed = assembly.handed_over_on
    if handed is None:
        return {"handed_over_on": None, "as_of": None, "final": False, "recommendations": [],
                "answers": {}, "implementation": {}}
    year_on = handed + timedelta(days=365)
    as_of = min(year_on, on)
    rows: list[dict[str, Any]] = []
    answers: dict[str, int] = {}
    implementation: dict[str, int] = {}
    for r in view["recommendations"]:
        if r["status"] != "adopted":
            continue
        answer = next((a for a in reversed(r["answers"])
                       if date.fromisoformat(a["answered_on"]) <= as_of), None)
        update = next((u for u in reversed(r["implementation_history"])
                       if date.fromisoformat(u["updated_on"]) <= as_of), None)
        a_key = answer["answer"] if answer else "no_answer"
        i_key = update["status"] if update else "not_reported"
        answers[a_key] = answers.get(a_key, 0) + 1
        implementation[i_key] = implementation.get(i_key, 0) + 1
        rows.append({"number": r["number"], "title": r["title"], "answer": a_key,
                     "answered_on": answer["answered_on"] if answer else None,
                     "implementation": i_key,
                     "percent": update["percent"] if update else None,
                     "updated_on": update["updated_on"] if update else None})
    return {"handed_over_on": handed.isoformat(), "as_of": as_of.isoformat(),
            "final": on >= year_on, "recommendations": rows, "answers": answers,
            "implementation": implementation}


def experience(conn: sa.Connection, assembly_id: str, min_cell: int, audience: str
               ) -> list[dict[str, Any]]:
    out = []
    for row in queries.questionnaires(conn, assembly_id):
        result = questionnaire_results(conn, row, min_cell)
        if audience == "public":
            for item in result["questions"]:
                item.pop("comments", None)
            result["questions"] = [i for i in result["questions"] if i["kind"] != "text"]
        out.append(result)
    return out


def labels(report_input: dict) -> dict[str, dict]:
    """Display names of features and values, from the final report's composition input:
    ``{feature: {"label": {da, en} | None, "values": {value: {da, en}}}}``."""
    out: dict[str, dict] = {}
    for row in report_input.get("composition", []):
        entry = out.setdefault(row["feature"], {"label": row.get("feature_label"), "values": {}})
        if row.get("label"):
            entry["values"][row["category"]] = row["label"]
    return out


def evaluation_data(conn: sa.Connection, assembly: Row, on: date, min_cell: int,
                    audience: str = "public") -> dict[str, Any]:
    if audience not in AUDIENCES:
        raise ApiError("audience", f"must be one of {', '.join(AUDIENCES)}", 422)
    f = facts(conn, assembly.assembly_id)
    view = tracking.public_view(conn, assembly, on)
    report_input = assembly.report_input or {}
    return {
        "assembly_id": assembly.assembly_id, "name": assembly.name,
        "title": report_input.get("title") or {"da": assembly.name or assembly.assembly_id,
                                               "en": assembly.name or assembly.assembly_id},
        "audience": audience, "min_cell": min_cell, "generated_on": on.isoformat(),
        "labels": labels(report_input),
        "representativeness": representativeness(f, min_cell),
        "selection": selection(f),
        "process": process(conn, assembly, f, view),
        "experience": experience(conn, assembly.assembly_id, min_cell, audience),
        "impact": impact(assembly, view, on),
    }

