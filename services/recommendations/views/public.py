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
from flask.typing import ResponseReturnValue

from services.common import auth
from services.common.service import current_context
from services.common.spreadsheet import safe_row
from services.common.web import ApiError, json_body
from services.recommendations import inputs, queries, tracking
from services.recommendations import models as m
from services.recommendations.inputs import LANGUAGES, a_language, language
from services.recommendations.roles import FACILITATOR, OPERATORS
from services.recommendations.settings import settings_of
from services.recommendations.views.shared import TEMPLATES, change, log_change, now, today

blueprint = Blueprint("public", __name__, template_folder=TEMPLATES)


TEXT: dict[str, dict[str, Any]] = {
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


def released_report(conn: sa.Connection, assembly_id: str, *, external: bool = False
                    ) -> dict[str, Any] | None:
    """The released final report's files and public addresses, or None before release."""
    rows = queries.released_reports(conn, assembly_id)
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


@blueprint.get("/public/assemblies/<assembly_id>")
def transparency_page(assembly_id: str) -> str:
    lang = language()
    with current_context().engine.connect() as conn:
        view = tracking.public_view(conn, queries.assembly_row(conn, assembly_id), today())
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


@blueprint.get("/public/assemblies/<assembly_id>/open-data.json")
def open_data_json(assembly_id: str) -> Response:
    with current_context().engine.connect() as conn:
        view = tracking.public_view(conn, queries.assembly_row(conn, assembly_id), today())
        view["final_report"] = released_report(conn, assembly_id, external=True)
    return Response(json.dumps(view, ensure_ascii=False, indent=1),
                    mimetype="application/json",
                    headers={"Access-Control-Allow-Origin": "*",
                             **_report_links(view["final_report"])})


def _report_links(report: dict[str, Any] | None) -> dict[str, str]:
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


@blueprint.get("/public/assemblies/<assembly_id>/open-data.csv")
def open_data_csv(assembly_id: str) -> Response:
    """One row per recommendation that was voted on; one column per level of the scale."""
    with current_context().engine.connect() as conn:
        view = tracking.public_view(conn, queries.assembly_row(conn, assembly_id), today())
        report = released_report(conn, assembly_id, external=True)
    levels = [lv["key"] for lv in view["scale"]]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(safe_row(CSV_COLUMNS + [f"votes_{k}" for k in levels] + CSV_TAIL))
    for r in view["recommendations"]:
        s = r["support"] or {}
        counts = {d["level"]: d["count"] for d in s.get("distribution", [])}
        a = r["answer"] or {}
        i = r["implementation"] or {}
        # Titles, answers and committees are people's text, opened in spreadsheets.
        writer.writerow(safe_row([view["assembly_id"], r["number"], r["id"], r["title"], r["theme"],
                         r["status"], r["version"], s.get("support_share"), s.get("threshold"),
                         s.get("threshold_met"), s.get("votes"), s.get("abstentions")]
                        + [counts.get(k, 0) for k in levels]
                        + [len(r["minority_statements"]), a.get("answer", ""),
                           a.get("answered_on", ""), a.get("answered_by", ""),
                           r["answer_deadline"] or "", r["overdue"], i.get("status", ""),
                           "" if i.get("percent") is None else i["percent"],
                           i.get("responsible_committee") or "", i.get("updated_on", "")]))
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition":
                             f'attachment; filename="{assembly_id}-recommendations.csv"',
                             "Access-Control-Allow-Origin": "*", **_report_links(report)})


# --- the final report -----------------------------------------------------------------------


@blueprint.put("/assemblies/<assembly_id>/report-input")
@auth.require(*FACILITATOR)
def set_report_input(assembly_id: str) -> Response:
    data = json_body()
    checked = inputs.report_input(data)
    with change() as conn:
        queries.assembly_row(conn, assembly_id)
        conn.execute(m.assemblies.update().where(m.assemblies.c.assembly_id == assembly_id)
                     .values(report_input=checked))
        log_change(conn, "report.input", f"assembly:{assembly_id}",
                   {"composition_rows": len(checked["composition"]),
                    "experts": len(checked["experts_heard"])})
    return jsonify(checked)


def _artifacts(assembly_id: str, lang: str) -> list[tuple[str, Any]]:
    with current_context().engine.connect() as conn:
        data = tracking.report_data(conn, queries.assembly_row(conn, assembly_id), today(),
                                    settings_of(current_context()).min_cell_size)
    found = []
    for name, report in current_context().plugins.reports("final").items():
        for artifact in report.produce(data, lang):
            found.append((name, artifact))
    return found


@blueprint.get("/assemblies/<assembly_id>/reports")
@auth.require(*OPERATORS)
def list_reports(assembly_id: str) -> Response:
    lang = language()
    return jsonify(reports=[{"report": name, "name": a.name, "media_type": a.media_type,
                             "size": len(a.content),
                             "url": url_for("public.get_report", assembly_id=assembly_id,
                                            lang=lang, name=a.name)}
                            for name, a in _artifacts(assembly_id, lang)])


@blueprint.get("/assemblies/<assembly_id>/reports/<lang>/<name>")
@auth.require(*OPERATORS)
def get_report(assembly_id: str, lang: str, name: str) -> Response:
    for _report, artifact in _artifacts(assembly_id, a_language(lang)):
        if artifact.name == name:
            return Response(artifact.content, mimetype=artifact.media_type)
    raise ApiError("name", f"no report file {name!r}", 404)


@blueprint.post("/assemblies/<assembly_id>/reports/release")
@auth.require(*OPERATORS)
def release_report(assembly_id: str) -> ResponseReturnValue:
    """Release the final report to the public: the report plugins' files in Danish and
    English are produced now and kept as released; releasing again replaces them."""
    with current_context().engine.connect() as conn:
        a = queries.assembly_row(conn, assembly_id)
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
        queries.assembly_row(conn, assembly_id)
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


@blueprint.get("/public/assemblies/<assembly_id>/reports/<lang>/<name>")
def public_report(assembly_id: str, lang: str, name: str) -> Response:
    """A released report file; nothing is public before the release."""
    with current_context().engine.connect() as conn:
        row = queries.released_report_file(conn, assembly_id, lang, name)
    if row is None:
        raise ApiError("name", f"no released report file {name!r} in {lang!r}", 404)
    return Response(row.content, mimetype=row.media_type,
                    headers={"Content-Disposition": f'inline; filename="{name}"',
                             "Access-Control-Allow-Origin": "*"})
