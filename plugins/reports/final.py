"""The final report of an assembly: an HTML page and a typeset PDF, in Danish and
English, produced from what the recommendations service hands to ``register_reports``
plugins (services/recommendations/tracking.py: report_data).

A region's plugin adds its own sections or formats by registering another ``Report``; this
one is registered through the ``kleroterion.plugins`` entry point like any other.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from xml.sax.saxutils import escape

import jinja2
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, PageBreak, Paragraph, Spacer

from kleroterion.plugin import ReportArtifact
from plugins.reports._typeset import (
    build_pdf,
    check_language,
    html_and_pdf,
    styles,
    table,
    template,
)

T: dict[str, dict[str, Any]] = {
    "da": {"kind": "Borgernes anbefalinger – endelig rapport", "generated": "Udarbejdet",
           "to": "Til", "recommendations": "Vedtagne anbefalinger", "support": "Opbakning",
           "threshold": "krævet", "level": "Niveau", "votes": "Stemmer", "rationale":
           "Begrundelse", "theme": "Tema", "values": "Værdier", "minority":
           "Mindretalsudtalelse", "supporters": "tilsluttet af", "composition":
           "Borgerpanelets sammensætning", "composition_intro": "Panelets sammensætning "
           "sammenholdt med befolkningen, for hvert kendetegn der blev brugt ved lodtrækningen.",
           "feature": "Kendetegn", "category": "Gruppe", "population": "Befolkning",
           "panel": "Panel (antal)", "panel_share": "Panel", "process": "Forløbet",
           "sessions": "Samlinger", "hours": "Timer i alt", "held": "Dato", "present":
           "Fremmødte", "experts": "Eksperter og vidner der blev hørt", "not_adopted":
           "Forslag der ikke opnåede den krævede opbakning", "none": "Ingen.",
           "of": "af", "page": "Side", "adopted_with": "vedtaget med",
           "votes_cast": "afgivne stemmer", "abstentions": "undlod"},
    "en": {"kind": "The citizens' recommendations – final report", "generated": "Prepared",
           "to": "To", "recommendations": "Adopted recommendations", "support": "Support",
           "threshold": "required", "level": "Level", "votes": "Votes", "rationale":
           "Rationale", "theme": "Theme", "values": "Values", "minority":
           "Minority statement", "supporters": "supported by", "composition":
           "Composition of the panel", "composition_intro": "The panel's composition against "
           "the population, for each feature used in the draw.",
           "feature": "Feature", "category": "Group", "population": "Population",
           "panel": "Panel (count)", "panel_share": "Panel", "process": "The process",
           "sessions": "Sessions", "hours": "Hours in total", "held": "Date", "present":
           "Present", "experts": "Experts and witnesses heard", "not_adopted":
           "Proposals that did not reach the required support", "none": "None.",
           "of": "of", "page": "Page", "adopted_with": "adopted with",
           "votes_cast": "votes cast", "abstentions": "abstained"},
}


def _pct(x: float | None) -> str:
    return "" if x is None else f"{x * 100:.0f} %"


def _title(assembly: Mapping[str, Any], lang: str) -> str:
    title = assembly.get("title") or {}
    return title.get(lang) or assembly.get("name") or assembly["assembly_id"]


def _label(labels: Mapping[str, str] | None, lang: str, fallback: str) -> str:
    return (labels or {}).get(lang) or fallback


HTML = jinja2.Environment(autoescape=True).from_string(template("final.html"))


def render_html(assembly: Mapping[str, Any], lang: str) -> str:
    return HTML.render(a=assembly, lang=lang, t=T[lang], title=_title(assembly, lang), pct=_pct,
                       label=lambda labels, fallback: _label(labels, lang, fallback))


def render_pdf(assembly: Mapping[str, Any], lang: str) -> bytes:
    t, s = T[lang], styles()
    title = _title(assembly, lang)
    p = lambda text, style="body": Paragraph(escape(str(text)), s[style])  # noqa: E731
    story: list = [p(title, "title"), p(t["kind"], "sub"), Spacer(1, 4 * mm)]
    if assembly.get("receiving_body"):
        story.append(p(f"{t['to']}: {assembly['receiving_body']}", "sub"))
    story += [p(f"{t['generated']}: {assembly['generated_on']}", "sub"), Spacer(1, 6 * mm)]

    story.append(p(t["recommendations"], "h1"))
    if not assembly["recommendations"]:
        story.append(p(t["none"]))
    for r in assembly["recommendations"]:
        sup = r["support"]
        story.append(p(f"{r['number']}. {r['title']}", "h2"))
        story.append(p(r["text"]))
        if r.get("rationale"):
            story += [p(t["rationale"], "h3"), p(r["rationale"])]
        meta = []
        if r.get("theme"):
            meta.append(f"{t['theme']}: {r['theme']}")
        if r.get("values"):
            meta.append(f"{t['values']}: {', '.join(r['values'])}")
        if meta:
            story.append(p(" · ".join(meta)))
        rows = [[t["level"], t["votes"]]] + [[d["label"][lang], d["count"]]
                                              for d in sup["distribution"]]
        story.append(KeepTogether([
            p(f"{t['support']}: {_pct(sup['support_share'])} ({t['threshold']} "
              f"{_pct(sup['threshold'])}; {sup['votes']} {t['votes_cast']}, "
              f"{sup['abstentions']} {t['abstentions']})", "h3"),
            table(rows, [60 * mm, 25 * mm], s)]))
        for statement in r["minority_statements"]:
            head = t["minority"] + (f" ({t['supporters']} {statement['supporters']})"
                                    if statement.get("supporters") else "")
            story += [p(head, "h3"), p(statement["text"], "quote")]

    story += [PageBreak(), p(t["composition"], "h1"), p(t["composition_intro"])]
    if assembly["composition"]:
        rows = [[t["feature"], t["category"], t["population"], t["panel"], t["panel_share"]]]
        for c in assembly["composition"]:
            rows.append([_label(c.get("feature_label"), lang, c["feature"]),
                         _label(c.get("label"), lang, c["category"]),
                         _pct(c["population_share"]),
                         f"< {assembly['min_cell']}" if c.get("suppressed") else c["panel_count"],
                         _pct(c["panel_share"])])
        story.append(table(rows, [38 * mm, 45 * mm, 27 * mm, 27 * mm, 22 * mm], s,
                            numeric_from=2))
    else:
        story.append(p(t["none"]))

    proc = assembly["process"]
    story.append(p(t["process"], "h1"))
    if (proc.get("summary") or {}).get(lang):
        story.append(p(proc["summary"][lang]))
    story.append(p(f"{t['sessions']}: {proc['session_count']}. {t['hours']}: {proc['hours']}."))
    if proc["sessions"]:
        rows = [[t["held"], t["hours"], t["present"]]] + [
            [x["held_on"], x["hours"], f"{x['present']} {t['of']} {x['seated']}"]
            for x in proc["sessions"]]
        story.append(table(rows, [40 * mm, 25 * mm, 30 * mm], s))
    story.append(p(t["experts"], "h2"))
    for e in proc["experts_heard"] or []:
        role = (e.get("role") or {}).get(lang)
        story.append(p(f"• {e['name']}" + (f", {role}" if role else "")))
    if not proc["experts_heard"]:
        story.append(p(t["none"]))
    if assembly.get("not_adopted"):
        story.append(p(t["not_adopted"], "h2"))
        for r in assembly["not_adopted"]:
            story.append(p(f"• {r['title']} ({t['support']} "
                           f"{_pct((r['support'] or {}).get('support_share'))})"))

    return build_pdf(story, title, f"{title} – {t['kind']}", assembly.get("receiving_body"),
                     lang, t["page"])


class FinalReport:
    name = "final_report"
    kind = "final"

    def produce(self, assembly: Mapping[str, Any], language: str) -> Iterable[ReportArtifact]:
        check_language(language, "final report")
        yield from html_and_pdf(f"{assembly['assembly_id']}-final-report-{language}",
                                render_html(assembly, language), render_pdf(assembly, language))
