"""The public transparency page, the open data, and the final report.

The transparency page and the open data need no login: they show only what tracking.py
calls public. The report input (composition against the population, experts heard) is set
by a facilitator; the report files are produced by the enabled report plugins
(``register_reports``), the built-in one included.
"""
from __future__ import annotations

import csv
import io
import json
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, jsonify, render_template, url_for

from services.common import auth
from services.common.web import ApiError, json_body
from services.recommendations import models as m
from services.recommendations import tracking
from services.recommendations.api import (
    LANGUAGES,
    OPERATORS,
    a_share,
    assembly_row,
    bilingual,
    change,
    check_shares_add_up,
    ctx,
    language,
    log_change,
    now,
    today,
)

bp = Blueprint("public", __name__, template_folder="templates")


TEXT = {
    "da": {
        "title": "Anbefalinger og svar", "intro": "Her kan du følge borgernes anbefalinger, "
        "hvor stor opbakning de fik, hvad politikerne har svaret, og hvor langt de er med at "
        "føre dem ud i livet.",
        "overview": "Oversigt over anbefalingerne", "number": "Nr.", "recommendation":
        "Anbefaling", "support": "Opbakning", "answer": "Svar", "implementation":
        "Gennemførelse", "status": "Status", "adopted": "Vedtaget", "not_adopted":
        "Ikke vedtaget", "no_answer": "Intet svar endnu", "overdue": "Svarfristen er overskredet",
        "deadline": "Svarfrist", "distribution": "Fordeling af stemmer", "level": "Niveau",
        "votes": "Stemmer", "threshold": "Krævet opbakning", "rationale": "Begrundelse",
        "theme": "Tema", "values": "Værdier", "minority": "Mindretalsudtalelse",
        "supporters": "tilsluttet af", "reasons": "Begrundelse for svaret", "timeline":
        "Tidslinje", "committee": "Ansvarligt udvalg", "milestones": "Milepæle", "due": "frist",
        "done": "færdig", "receiving_body": "Modtager", "handed_over": "Overdraget",
        "open_data": "Åbne data", "language": "English", "no_recommendations":
        "Der er endnu ikke stemt om nogen anbefalinger.", "skip": "Spring til indhold",
        "evaluation": "Evaluering af forløbet: repræsentativitet, proces og virkning",
        "of": "af", "final_report": "Endelig rapport", "released": "Offentliggjort",
        "report_files": "Den endelige rapport på dansk", "other_language_report":
        "The final report in English",
        "answers": {"accepted": "Tiltrådt", "partly_accepted": "Delvist tiltrådt",
                    "rejected": "Afvist", "under_consideration": "Under overvejelse"},
        "impl": {"not_started": "Ikke påbegyndt", "in_progress": "I gang", "pilot":
                 "Forsøgsprojekt", "done": "Gennemført"},
        "events": {"adopted": "Vedtaget af borgerne", "voted": "Stemt om", "handed_over":
                   "Overdraget til politikerne", "answer": "Svar", "implementation":
                   "Gennemførelse", "milestone": "Milepæl nået"},
    },
    "en": {
        "title": "Recommendations and answers", "intro": "Follow the citizens' "
        "recommendations here: how much support they had, what the politicians answered, and "
        "how far they have come in putting them into practice.",
        "overview": "Overview of the recommendations", "number": "No.", "recommendation":
        "Recommendation", "support": "Support", "answer": "Answer", "implementation":
        "Implementation", "status": "Status", "adopted": "Adopted", "not_adopted":
        "Not adopted", "no_answer": "No answer yet", "overdue": "The answer is overdue",
        "deadline": "Answer due", "distribution": "Distribution of votes", "level": "Level",
        "votes": "Votes", "threshold": "Support required", "rationale": "Rationale",
        "theme": "Theme", "values": "Values", "minority": "Minority statement",
        "supporters": "supported by", "reasons": "Reasons for the answer", "timeline":
        "Timeline", "committee": "Responsible committee", "milestones": "Milestones",
        "due": "due", "done": "done", "receiving_body": "Receiving body", "handed_over":
        "Handed over", "open_data": "Open data", "language": "Dansk", "no_recommendations":
        "No recommendation has been voted on yet.", "skip": "Skip to content", "of": "of",
        "evaluation": "Evaluation of the process: representativeness, process and impact",
        "final_report": "Final report", "released": "Released",
        "report_files": "The final report in English", "other_language_report":
        "Den endelige rapport på dansk",
        "answers": {"accepted": "Accepted", "partly_accepted": "Partly accepted",
                    "rejected": "Rejected", "under_consideration": "Under consideration"},
        "impl": {"not_started": "Not started", "in_progress": "In progress", "pilot":
                 "Pilot project", "done": "Done"},
        "events": {"adopted": "Adopted by the citizens", "voted": "Voted on", "handed_over":
                   "Handed over to the politicians", "answer": "Answer", "implementation":
                   "Implementation", "milestone": "Milestone reached"},
    },
}


def _public_assembly(conn, assembly_id: str):
    return assembly_row(conn, assembly_id)


def released_report(conn, assembly_id: str, *, external: bool = False) -> dict | None:
    """The released final report's files and public addresses, or None before release."""
    rows = conn.execute(sa.select(m.released_reports.c.lang, m.released_reports.c.name,
                                  m.released_reports.c.media_type,
                                  m.released_reports.c.released_at)
                        .where(m.released_reports.c.assembly_id == assembly_id)
                        .order_by(m.released_reports.c.lang, m.released_reports.c.name)
                        ).fetchall()
    if not rows:
        return None
    return {"released_on": rows[0].released_at.date().isoformat(),
            "files": [{"language": r.lang, "name": r.name, "media_type": r.media_type,
                       "format": _format(r.media_type),
                       "url": url_for("public.public_report", assembly_id=assembly_id,
                                      lang=r.lang, name=r.name, _external=external)}
                      for r in rows]}


def _format(media_type: str) -> str:
    kind = media_type.split(";")[0].strip()
    return {"application/pdf": "PDF", "text/html": "HTML"}.get(kind, kind)


@bp.get("/public/assemblies/<assembly_id>")
def transparency_page(assembly_id):
    lang = language()
    with ctx().engine.connect() as conn:
        view = tracking.public_view(conn, _public_assembly(conn, assembly_id), today())
        report = released_report(conn, assembly_id)
    other = "en" if lang == "da" else "da"
    return render_template("transparency.html", view=view, lang=lang, t=TEXT[lang],
                           report=report,
                           other_url=url_for("public.transparency_page",
                                             assembly_id=assembly_id, lang=other),
                           json_url=url_for("public.open_data_json", assembly_id=assembly_id),
                           csv_url=url_for("public.open_data_csv", assembly_id=assembly_id),
                           evaluation_url=url_for("evaluation.public_evaluation_index",
                                                  assembly_id=assembly_id, lang=lang))


@bp.get("/public/assemblies/<assembly_id>/open-data.json")
def open_data_json(assembly_id):
    with ctx().engine.connect() as conn:
        view = tracking.public_view(conn, _public_assembly(conn, assembly_id), today())
        view["final_report"] = released_report(conn, assembly_id, external=True)
    return Response(json.dumps(view, ensure_ascii=False, indent=1),
                    mimetype="application/json",
                    headers={"Access-Control-Allow-Origin": "*",
                             **_report_links(view["final_report"])})


def _report_links(report: dict | None) -> dict[str, str]:
    """An HTTP Link header to the released report's files (RFC 8288), so that the CSV, which
    has no place for it, links to the report too."""
    if not report:
        return {}
    return {"Link": ", ".join(f'<{f["url"]}>; rel="related"; type="{f["media_type"]}"; '
                              f'hreflang="{f["language"]}"' for f in report["files"])}


CSV_COLUMNS = ["assembly_id", "number", "recommendation_id", "title", "theme", "status",
               "version", "support_share", "threshold", "threshold_met", "votes",
               "abstentions"]
CSV_TAIL = ["minority_statements", "answer", "answered_on", "answered_by", "answer_deadline",
            "overdue", "implementation_status", "implementation_percent",
            "responsible_committee", "implementation_updated_on"]


@bp.get("/public/assemblies/<assembly_id>/open-data.csv")
def open_data_csv(assembly_id):
    """One row per recommendation that was voted on; one column per level of the scale."""
    with ctx().engine.connect() as conn:
        view = tracking.public_view(conn, _public_assembly(conn, assembly_id), today())
        report = released_report(conn, assembly_id, external=True)
    levels = [lv["key"] for lv in view["scale"]]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS + [f"votes_{k}" for k in levels] + CSV_TAIL)
    for r in view["recommendations"]:
        s = r["support"] or {}
        counts = {d["level"]: d["count"] for d in s.get("distribution", [])}
        a = r["answer"] or {}
        i = r["implementation"] or {}
        writer.writerow([view["assembly_id"], r["number"], r["id"], r["title"], r["theme"],
                         r["status"], r["version"], s.get("support_share"), s.get("threshold"),
                         s.get("threshold_met"), s.get("votes"), s.get("abstentions")]
                        + [counts.get(k, 0) for k in levels]
                        + [len(r["minority_statements"]), a.get("answer", ""),
                           a.get("answered_on", ""), a.get("answered_by", ""),
                           r["answer_deadline"] or "", r["overdue"], i.get("status", ""),
                           "" if i.get("percent") is None else i["percent"],
                           i.get("responsible_committee") or "", i.get("updated_on", "")])
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition":
                             f'attachment; filename="{assembly_id}-recommendations.csv"',
                             "Access-Control-Allow-Origin": "*", **_report_links(report)})


# --- the final report -----------------------------------------------------------------------


def check_report_input(data: dict) -> dict:
    """The report input: title, composition rows, experts heard, a process summary.

    ``composition`` is one row per feature and category: ``population_share`` is the
    category's share of the population (0..1), ``panel_count`` the members of the panel in
    it; the shares of one feature must add up to 1 (±0.02)."""
    out: dict[str, Any] = {}
    if "title" in data:
        out["title"] = bilingual(data["title"], "title", required=True)
    rows = data.get("composition", [])
    if not isinstance(rows, list):
        raise ApiError("composition", "must be a list of rows")
    checked, sums, seen = [], {}, set()
    for i, row in enumerate(rows):
        where = f"composition[{i}]"
        if not isinstance(row, dict):
            raise ApiError(where, "must be an object")
        for key in ("feature", "category"):
            if not isinstance(row.get(key), str) or not row[key].strip():
                raise ApiError(f"{where}.{key}", "is required")
        if (row["feature"], row["category"]) in seen:
            raise ApiError(where, f"{row['feature']}/{row['category']} appears twice")
        seen.add((row["feature"], row["category"]))
        share = a_share(row.get("population_share"), f"{where}.population_share")
        count = row.get("panel_count")
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ApiError(f"{where}.panel_count", "must be a whole number of at least 0")
        sums[row["feature"]] = sums.get(row["feature"], 0) + share
        checked.append({"feature": row["feature"], "category": row["category"],
                        "feature_label": bilingual(row.get("feature_label"),
                                                 f"{where}.feature_label"),
                        "label": bilingual(row.get("label"), f"{where}.label"),
                        "population_share": share, "panel_count": count})
    for feature, total in sums.items():
        check_shares_add_up(total, "composition", repr(feature))
    out["composition"] = checked
    experts = data.get("experts_heard", [])
    if not isinstance(experts, list):
        raise ApiError("experts_heard", "must be a list")
    out["experts_heard"] = []
    for i, e in enumerate(experts):
        if not isinstance(e, dict) or not isinstance(e.get("name"), str) or not e["name"].strip():
            raise ApiError(f"experts_heard[{i}].name", "is required")
        out["experts_heard"].append({"name": e["name"].strip(),
                                     "role": bilingual(e.get("role"), f"experts_heard[{i}].role")})
    if "process_summary" in data:
        out["process_summary"] = bilingual(data["process_summary"], "process_summary",
                                         required=True)
    return out


@bp.put("/assemblies/<assembly_id>/report-input")
@auth.require("facilitator")
def set_report_input(assembly_id):
    data = json_body()
    checked = check_report_input(data)
    with change() as conn:
        assembly_row(conn, assembly_id)
        conn.execute(m.assemblies.update().where(m.assemblies.c.assembly_id == assembly_id)
                     .values(report_input=checked))
        log_change(conn, "report.input", f"assembly:{assembly_id}",
                   {"composition_rows": len(checked["composition"]),
                    "experts": len(checked["experts_heard"])})
    return jsonify(checked)


def _artifacts(assembly_id: str, lang: str):
    with ctx().engine.connect() as conn:
        data = tracking.report_data(conn, assembly_row(conn, assembly_id), today(),
                                   ctx().settings.min_cell_size)
    found = []
    for name, report in ctx().plugins.reports("final").items():
        for artifact in report.produce(data, lang):
            found.append((name, artifact))
    return found


@bp.get("/assemblies/<assembly_id>/reports")
@auth.require(*OPERATORS)
def list_reports(assembly_id):
    lang = language()
    return jsonify(reports=[{"report": name, "name": a.name, "media_type": a.media_type,
                             "size": len(a.content),
                             "url": url_for("public.get_report", assembly_id=assembly_id,
                                            lang=lang, name=a.name)}
                            for name, a in _artifacts(assembly_id, lang)])


@bp.get("/assemblies/<assembly_id>/reports/<lang>/<name>")
@auth.require(*OPERATORS)
def get_report(assembly_id, lang, name):
    if lang not in LANGUAGES:
        raise ApiError("lang", f"must be one of {', '.join(LANGUAGES)}")
    for _report, artifact in _artifacts(assembly_id, lang):
        if artifact.name == name:
            return Response(artifact.content, mimetype=artifact.media_type)
    raise ApiError("name", f"no report file {name!r}", 404)


@bp.post("/assemblies/<assembly_id>/reports/release")
@auth.require(*OPERATORS)
def release_report(assembly_id):
    """Release the final report to the public: the report plugins' files in Danish and
    English are produced now and kept as released; releasing again replaces them."""
    with ctx().engine.connect() as conn:
        a = assembly_row(conn, assembly_id)
        if not a.report_input:
            raise ApiError("report_input", "set the report input (composition, experts, "
                                           "process) before releasing the report", 409)
    files: dict[tuple[str, str], tuple[str, Any]] = {}
    for lang in LANGUAGES:
        for report, artifact in _artifacts(assembly_id, lang):
            files.setdefault((lang, artifact.name), (report, artifact))
    if not files:
        raise ApiError("report", "no report plugin is enabled", 409)
    released_at = now()
    actor = auth.current_principal().subject
    with change() as conn:
        assembly_row(conn, assembly_id)
        rr = m.released_reports
        replaced = conn.scalar(sa.select(sa.func.count()).select_from(rr)
                               .where(rr.c.assembly_id == assembly_id))
        conn.execute(rr.delete().where(rr.c.assembly_id == assembly_id))
        for (lang, name), (report, artifact) in files.items():
            conn.execute(rr.insert().values(
                assembly_id=assembly_id, lang=lang, name=name, report=report,
                media_type=artifact.media_type, content=artifact.content,
                released_by=actor, released_at=released_at))
        log_change(conn, "report.release", f"assembly:{assembly_id}",
                   {"files": sorted(name for _lang, name in files), "replaced": replaced})
        return jsonify(released_report(conn, assembly_id)), 201


@bp.get("/public/assemblies/<assembly_id>/reports/<lang>/<name>")
def public_report(assembly_id, lang, name):
    """A released report file; nothing is public before the release."""
    rr = m.released_reports
    with ctx().engine.connect() as conn:
        row = conn.execute(sa.select(rr.c.media_type, rr.c.content).where(
            rr.c.assembly_id == assembly_id, rr.c.lang == lang, rr.c.name == name)).first()
    if row is None:
        raise ApiError("name", f"no released report file {name!r} in {lang!r}", 404)
    return Response(row.content, mimetype=row.media_type,
                    headers={"Content-Disposition": f'inline; filename="{name}"',
                             "Access-Control-Allow-Origin": "*"})
