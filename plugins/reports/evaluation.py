"""The evaluation report: the built-in sections (representativeness, the draw's fairness,
the process, the members' experience, impact a year on) and the report that renders every
plugin's sections as an HTML page and a typeset PDF, in Danish or English.

The data (services/recommendations/evaluation.py) are aggregates with small cells already
suppressed; this module only words and draws them. A suppressed cell reads "< k".
"""
from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from xml.sax.saxutils import escape

import jinja2
from reportlab.lib.units import mm
from reportlab.platypus import Image, KeepTogether, Paragraph, Spacer

from kleroterion.plugin import FigureBlock, ReportArtifact, ReportSection, TableBlock
from plugins.reports._typeset import (
    build_pdf,
    check_language,
    html_and_pdf,
    styles,
    table,
    template,
)

STAGES = ("population", "invited", "signed_up", "drawn", "seated")
COLOURS = {"population": "#8c8c8c", "invited": "#b9c7d6", "signed_up": "#e6a23c",
           "drawn": "#0b4f8a", "seated": "#2e8b57"}

T: dict[str, dict[str, Any]] = {
    "da": {
        "kind": "Evaluering", "generated": "Udarbejdet", "page": "Side",
        "public_note": "Offentlig udgave: kun samlede tal; grupper med færre end {k} personer "
                       "vises som \u201e< {k}\u201c.",
        "internal_note": "Arrangørernes udgave: indeholder også fritekstsvar, som ikke må "
                         "offentliggøres. Grupper med færre end {k} personer vises som "
                         "\u201e< {k}\u201c.",
        "stages": {"population": "Befolkning", "invited": "Inviterede",
                   "signed_up": "Tilmeldte", "drawn": "Udtrukne", "seated": "Ved afslutning"},
        "repr": "Repræsentativitet",
        "repr_intro": "For hvert kendetegn, der blev brugt ved lodtrækningen: andelen i "
                      "befolkningen, blandt de inviterede, blandt de tilmeldte, i panelet som "
                      "udtrukket og blandt dem, der stadig sad i panelet til sidst. Afstanden "
                      "er den samlede variationsafstand til befolkningen (0 = samme "
                      "fordeling, 100 % = ingen overlap).",
        "funnel": "{p} personer i udtrækket, {i} inviterede, {s} tilmeldte, {d} udtrukne, "
                  "{e} ved afslutningen.",
        "value": "Gruppe", "distance": "Afstand til befolkningen: de tilmeldte {s}, panelet "
                 "{d}, ved afslutningen {e}.",
        "corrected": "Lodtrækningen rettede {c} af de tilmeldtes skævhed i {f}.",
        "targets": "Befolkningsandelene for {f} er angivet af arrangøren (fx fra Danmarks "
                   "Statistik).",
        "no_repr": "Der er endnu ingen tal fra tilmeldingen eller lodtrækningen.",
        "plot": "Andele i hvert trin for {f}",
        "selection": "Lodtrækningens retfærdighed",
        "selection_intro": "Udvælgelsessandsynligheder fra fordelingen, panelet blev trukket "
                           "fra ({a}): hver frivillig havde mindst den mindste sandsynlighed.",
        "sel_rows": {"pool_size": "Frivillige i puljen", "seats": "Pladser",
                     "k_over_n": "Pladser / frivillige (k/n)",
                     "min_probability": "Mindste sandsynlighed",
                     "geometric_mean": "Geometrisk gennemsnit", "gini": "Gini-koefficient",
                     "share_below_k_over_n": "Andel under k/n",
                     "lottery_size": "Paneler i det offentliggjorte lotteri",
                     "lottery_sha256": "Lotteriets SHA-256"},
        "figure": "Nøgletal", "value_col": "Værdi",
        "process": "Forløbet",
        "hours": "{n} af {m} planlagte samlinger er holdt: {h} timer af {p} planlagte.",
        "session": "Samling", "date": "Dato", "planned": "Planlagt (t)", "held": "Holdt (t)",
        "present": "Fremmødt", "attendance": "Fremmøde",
        "mean_attendance": "Gennemsnitligt fremmøde: {a}.",
        "dropouts": "Udtrådte medlemmer: {w} ({c} efter fristen for erstatning); pladser "
                    "besat af stedfortrædere: {r}; afslåede tilbud: {d}; tomme pladser: {o}.",
        "guests": "Eksperter og interessenter, der blev hørt", "guest_kind": "Rolle",
        "guest_name": "Navn", "organisation": "Organisation", "none": "Ingen.",
        "recs": "{v} forslag kom til afstemning; {a} blev vedtaget.",
        "answers": "Svar fra de politisk ansvarlige: {t} til tiden, {l} for sent, {n} mangler.",
        "experience": "Deltagernes oplevelse",
        "experience_intro": "Anonyme spørgeskemaer. Gennemsnit på en skala fra 1 (helt uenig) "
                            "til 5 (helt enig).",
        "audience": {"member": "medlemmer", "observer": "observatører",
                     "organiser": "arrangører"},
        "responses": "{n} svar fra {a}.", "too_few": "Færre end {k} svar: resultaterne vises ikke.",
        "question": "Spørgsmål", "answered": "Svar", "mean": "Gennemsnit", "agree": "Enig",
        "no_questionnaires": "Der er endnu ingen spørgeskemaer.",
        "comments": "Fritekstsvar (kun til arrangørerne)",
        "impact": "Virkning et år efter",
        "impact_intro_final": "Status for hver vedtaget anbefaling et år efter overdragelsen "
                              "({h}), pr. {d}.",
        "impact_intro_interim": "Foreløbig status pr. {d}; året efter overdragelsen ({h}) er "
                                "ikke gået endnu.",
        "not_handed": "Anbefalingerne er endnu ikke overdraget.",
        "no": "Nr.", "recommendation": "Anbefaling", "answer": "Svar",
        "implementation": "Gennemførelse",
        "answer_names": {"accepted": "Accepteret", "partly_accepted": "Delvis accepteret",
                         "rejected": "Afvist", "under_consideration": "Under overvejelse",
                         "no_answer": "Intet svar"},
        "impl_names": {"not_started": "Ikke påbegyndt", "in_progress": "I gang",
                       "pilot": "Forsøg", "done": "Gennemført",
                       "not_reported": "Ikke oplyst"},
        "features": {"age_band": "Alder", "sex": "Køn", "municipality_code": "Kommune"},
        "sex": {"f": "Kvinde", "m": "Mand", "female": "Kvinde", "male": "Mand"},
    },
    "en": {
        "kind": "Evaluation", "generated": "Prepared", "page": "Page",
        "public_note": "Public edition: totals only; groups of fewer than {k} people read "
                       "\u201c< {k}\u201d.",
        "internal_note": "Organisers' edition: includes free-text answers, which must not be "
                         "published. Groups of fewer than {k} people read \u201c< {k}\u201d.",
        "stages": {"population": "Population", "invited": "Invited", "signed_up": "Signed up",
                   "drawn": "Drawn", "seated": "At the end"},
        "repr": "Representativeness",
        "repr_intro": "For every feature used in the draw: the share in the population, among "
                      "those invited, among those who signed up, in the panel as drawn and "
                      "among those still seated at the end. The distance is the total "
                      "variation distance from the population (0 = the same distribution, "
                      "100 % = no overlap).",
        "funnel": "{p} people in the extract, {i} invited, {s} signed up, {d} drawn, {e} at "
                  "the end.",
        "value": "Group", "distance": "Distance from the population: volunteers {s}, panel "
                 "{d}, at the end {e}.",
        "corrected": "The lottery corrected {c} of the volunteers' skew in {f}.",
        "targets": "The population shares of {f} were given by the organiser (e.g. from "
                   "Statistics Denmark).",
        "no_repr": "There are no figures from the sign-up or the draw yet.",
        "plot": "Shares at each stage for {f}",
        "selection": "Fairness of the draw",
        "selection_intro": "Selection probabilities of the distribution the panel was drawn "
                           "from ({a}): every volunteer had at least the minimum probability.",
        "sel_rows": {"pool_size": "Volunteers in the pool", "seats": "Seats",
                     "k_over_n": "Seats / volunteers (k/n)",
                     "min_probability": "Minimum probability",
                     "geometric_mean": "Geometric mean", "gini": "Gini coefficient",
                     "share_below_k_over_n": "Share below k/n",
                     "lottery_size": "Panels in the published lottery",
                     "lottery_sha256": "SHA-256 of the lottery"},
        "figure": "Figure", "value_col": "Value",
        "process": "The process",
        "hours": "{n} of {m} planned sessions were held: {h} hours of {p} planned.",
        "session": "Session", "date": "Date", "planned": "Planned (h)", "held": "Held (h)",
        "present": "Present", "attendance": "Attendance",
        "mean_attendance": "Mean attendance: {a}.",
        "dropouts": "Members who withdrew: {w} ({c} after the cut-off for replacement); seats "
                    "filled by substitutes: {r}; offers declined: {d}; empty seats: {o}.",
        "guests": "Experts and stakeholders heard", "guest_kind": "Role", "guest_name": "Name",
        "organisation": "Organisation", "none": "None.",
        "recs": "{v} proposals went to a vote; {a} were adopted.",
        "answers": "Answers from the politicians: {t} on time, {l} late, {n} outstanding.",
        "experience": "The participants' experience",
        "experience_intro": "Anonymous questionnaires. Means on a scale from 1 (strongly "
                            "disagree) to 5 (strongly agree).",
        "audience": {"member": "members", "observer": "observers", "organiser": "organisers"},
        "responses": "{n} responses from {a}.",
        "too_few": "Fewer than {k} responses: the results are not shown.",
        "question": "Question", "answered": "Answers", "mean": "Mean", "agree": "Agree",
        "no_questionnaires": "There are no questionnaires yet.",
        "comments": "Free-text answers (organisers only)",
        "impact": "Impact a year on",
        "impact_intro_final": "Status of every adopted recommendation a year after the "
                              "handover ({h}), as of {d}.",
        "impact_intro_interim": "Interim status as of {d}; the year after the handover ({h}) "
                                "is not over yet.",
        "not_handed": "The recommendations have not been handed over yet.",
        "no": "No.", "recommendation": "Recommendation", "answer": "Answer",
        "implementation": "Implementation",
        "answer_names": {"accepted": "Accepted", "partly_accepted": "Partly accepted",
                         "rejected": "Rejected", "under_consideration": "Under consideration",
                         "no_answer": "No answer"},
        "impl_names": {"not_started": "Not started", "in_progress": "In progress",
                       "pilot": "Pilot", "done": "Done", "not_reported": "Not reported"},
        "features": {"age_band": "Age", "sex": "Sex", "municipality_code": "Municipality"},
        "sex": {"f": "Female", "m": "Male", "female": "Female", "male": "Male"},
    },
}


def _pct(x: float | None, digits: int = 0) -> str:
    return "–" if x is None else f"{x * 100:.{digits}f} %"


def _n(x: int | None, lang: str = "da") -> str:
    if x is None:
        return "–"
    return f"{x:,}".replace(",", ".") if lang == "da" else f"{x:,}"


def _cell(c: Mapping[str, Any], k: int, lang: str) -> str:
    if c["suppressed"]:
        return f"< {k}"
    if c["count"] is None:
        return _pct(c["share"], 1) if c["share"] is not None else "–"
    return f"{_n(c['count'], lang)} ({_pct(c['share'], 1)})" if c["share"] is not None \
        else _n(c["count"], lang)


def _feature(name: str, e: Mapping[str, Any], lang: str) -> str:
    given = ((e.get("labels") or {}).get(name) or {}).get("label")
    if given:
        return given[lang]
    return T[lang]["features"].get(name, name.replace("_", " ").capitalize())


def _value(feature: str, value: str, e: Mapping[str, Any], lang: str) -> str:
    given = ((e.get("labels") or {}).get(feature) or {}).get("values", {}).get(value)
    if given:
        return given[lang]
    if feature == "sex":
        return T[lang]["sex"].get(value, value)
    return value


def with_place_names(evaluation: Mapping[str, Any], place_names: Mapping[str, str]
                     ) -> Mapping[str, Any]:
    """The evaluation with municipality codes labelled by name, unless the organisers gave
    labels of their own."""
    labels = dict(evaluation.get("labels") or {})
    given = dict((labels.get("municipality_code") or {}).get("values") or {})
    names = {code: {"da": name, "en": name} for code, name in place_names.items()}
    labels["municipality_code"] = {**(labels.get("municipality_code") or {}),
                                   "values": {**names, **given}}
    return {**evaluation, "labels": labels}


def _plot(feature: Mapping[str, Any], title: str, labels: Sequence[str], t: Mapping
          ) -> tuple[bytes, bytes]:
    """Grouped bars of the shares at each stage; suppressed cells are left out."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    stages = feature["stages"]
    x = np.arange(len(labels))
    width = 0.8 / max(len(stages), 1)
    fig, ax = plt.subplots(figsize=(max(5.5, 0.7 * len(labels) + 2.5), 3.6), dpi=110)
    for j, stage in enumerate(stages):
        shares = [r[stage]["share"] if r[stage]["share"] is not None else np.nan
                  for r in feature["rows"]]
        ax.bar(x + (j - (len(stages) - 1) / 2) * width, shares, width,
               label=t["stages"][stage], color=COLOURS[stage])
    ax.set_xticks(x, labels, rotation=30 if len(labels) > 4 else 0,
                  ha="right" if len(labels) > 4 else "center", fontsize=8)
    ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, ncols=min(len(stages), 5), loc="upper center",
              bbox_to_anchor=(0.5, -0.25 if len(labels) > 4 else -0.12), frameon=False)
    fig.tight_layout()
    out = []
    for fmt in ("svg", "png"):
        buf = io.BytesIO()
        # A fixed date keeps the SVG the same for the same data.
        fig.savefig(buf, format=fmt, metadata={"Date": None} if fmt == "svg" else None)
        out.append(buf.getvalue())
    plt.close(fig)
    return out[0], out[1]


# --- the built-in sections ----------------------------------------------------------------------


def representativeness_section(e: Mapping[str, Any], lang: str) -> ReportSection:
    t, k = T[lang], e["min_cell"]
    r = e["representativeness"]
    blocks: list[Any] = [t["repr_intro"]]
    totals = r["totals"]
    if not r["features"]:
        blocks.append(t["no_repr"])
    else:
        blocks.append(t["funnel"].format(**{key: _n(totals.get(stage), lang) for key, stage in (
            ("p", "population"), ("i", "invited"), ("s", "signed_up"), ("d", "drawn"),
            ("e", "seated"))}))
    for f in r["features"]:
        name = _feature(f["feature"], e, lang)
        labels = [_value(f["feature"], row["value"], e, lang) for row in f["rows"]]
        blocks.append(TableBlock(
            caption=name, header=[t["value"], *(t["stages"][s] for s in f["stages"])],
            rows=[[label, *(_cell(row[s], k, lang) for s in f["stages"])]
                  for label, row in zip(labels, f["rows"], strict=True)],
            numeric=tuple(range(1, len(f["stages"]) + 1))))
        if f["distance_signed_up"] is not None or f["distance_drawn"] is not None:
            blocks.append(t["distance"].format(s=_pct(f["distance_signed_up"], 1),
                                               d=_pct(f["distance_drawn"], 1),
                                               e=_pct(f["distance_seated"], 1)))
        # Only a real skew that the lottery reduced is worth a sentence.
        if (f["distance_signed_up"] or 0) >= 0.02 and f["distance_drawn"] is not None \
                and f["distance_drawn"] < f["distance_signed_up"]:
            corrected = 1 - f["distance_drawn"] / f["distance_signed_up"]
            blocks.append(t["corrected"].format(c=_pct(max(corrected, 0.0)), f=name.lower()))
        if f["population_source"] == "targets":
            blocks.append(t["targets"].format(f=name.lower()))
        svg, png = _plot(f, t["plot"].format(f=name.lower()), labels, t)
        blocks.append(FigureBlock(f"representativeness-{f['feature']}",
                                  t["plot"].format(f=name.lower()), svg, png))
    return ReportSection("representativeness", t["repr"], 10, blocks)


def selection_section(e: Mapping[str, Any], lang: str) -> ReportSection | None:
    s, t = e.get("selection"), T[lang]
    if not s:
        return None
    rows = []
    for key, label in t["sel_rows"].items():
        value = s.get(key)
        if key in ("min_probability", "geometric_mean", "k_over_n"):
            text = "–" if value is None else f"{value:.4f}"
        elif key in ("gini", "share_below_k_over_n"):
            text = _pct(value, 1)
        elif key == "lottery_sha256":
            text = value or "–"
        else:
            text = _n(value, lang)
        rows.append([label, text])
    return ReportSection("selection", t["selection"], 20, [
        t["selection_intro"].format(a=s.get("algorithm", "")),
        TableBlock(t["selection"], [t["figure"], t["value_col"]], rows, numeric=(1,))])


def process_section(e: Mapping[str, Any], lang: str) -> ReportSection:
    p, t = e["process"], T[lang]
    blocks: list[Any] = [t["hours"].format(n=p["sessions_held"], m=p["sessions_planned"],
                                           h=p["held_hours"], p=p["planned_hours"])]
    if p["sessions"]:
        blocks.append(TableBlock(t["process"], [t["session"], t["date"], t["planned"],
                                                t["held"], t["present"], t["attendance"]], [
            [s["title"], s["date"] or "", "–" if s["planned_hours"] is None
             else f"{s['planned_hours']:g}", "–" if s.get("held_hours") is None
             else f"{s['held_hours']:g}",
             f"{s['present']} / {s['seated']}" if s["held"] else "–",
             _pct(s["present"] / s["seated"]) if s["held"] and s["seated"] else "–"]
            for s in p["sessions"]], numeric=(2, 3, 4, 5)))
    if p["mean_attendance"] is not None:
        blocks.append(t["mean_attendance"].format(a=_pct(p["mean_attendance"])))
    if p.get("withdrawals") is not None:
        blocks.append(t["dropouts"].format(w=p["withdrawals"], c=p["withdrawals_after_cutoff"],
                                           r=p["replacements"], d=p["declined_offers"],
                                           o=p["open_vacancies"]))
    blocks.append(TableBlock(t["guests"], [t["guest_name"], t["organisation"], t["guest_kind"]],
                             [[g["name"], g["organisation"], g["kind"]] for g in p["guests"]])
                  if p["guests"] else f"{t['guests']}: {t['none']}")
    blocks.append(t["recs"].format(v=p["recommendations_voted"],
                                   a=p["recommendations_adopted"]))
    a = p["answers"]
    blocks.append(t["answers"].format(t=a["on_time"], l=a["late"], n=a["not_yet"]))
    return ReportSection("process", t["process"], 30, blocks)


def experience_sections(e: Mapping[str, Any], lang: str) -> list[ReportSection]:
    t, k = T[lang], e["min_cell"]
    blocks: list[Any] = [t["experience_intro"]]
    comments: list[Any] = []
    if not e["experience"]:
        blocks.append(t["no_questionnaires"])
    for q in e["experience"]:
        title = q["title"][lang]
        blocks.append(f"{title}: " + t["responses"].format(n=q["responses"],
                                                           a=t["audience"][q["audience"]]))
        if q["suppressed"]:
            blocks.append(t["too_few"].format(k=k))
            continue
        blocks.append(TableBlock(title, [t["question"], t["answered"], t["mean"], t["agree"]], [
            [item["text"][lang], str(item["answered"]),
             f"{item['mean']:.2f}" if item.get("mean") is not None else "–",
             _pct(item.get("agree_share"))]
            for item in q["questions"] if item["kind"] != "text"], numeric=(1, 2, 3)))
        for item in q["questions"]:
            if item["kind"] == "text" and item.get("comments"):
                comments.append(TableBlock(f"{title} – {item['text'][lang]}", [t["answer"]],
                                           [[c] for c in item["comments"]]))
    sections = [ReportSection("experience", t["experience"], 40, blocks)]
    if comments:
        sections.append(ReportSection("experience_comments", t["comments"], 45, comments,
                                      public=False))
    return sections


def impact_section(e: Mapping[str, Any], lang: str) -> ReportSection:
    i, t = e["impact"], T[lang]
    if not i["handed_over_on"]:
        return ReportSection("impact", t["impact"], 50, [t["not_handed"]])
    intro = t["impact_intro_final" if i["final"] else "impact_intro_interim"].format(
        h=i["handed_over_on"], d=i["as_of"])
    summary = "; ".join(f"{t['answer_names'].get(a, a)}: {n}" for a, n in
                        sorted(i["answers"].items())) or t["none"]
    progress = "; ".join(f"{t['impl_names'].get(s, s)}: {n}" for s, n in
                         sorted(i["implementation"].items())) or t["none"]
    return ReportSection("impact", t["impact"], 50, [
        intro, f"{t['answer']}: {summary}.", f"{t['implementation']}: {progress}.",
        TableBlock(t["impact"], [t["no"], t["recommendation"], t["answer"], t["implementation"]],
                   [[str(r["number"]), r["title"], t["answer_names"].get(r["answer"], r["answer"]),
                     t["impl_names"].get(r["implementation"], r["implementation"])
                     + (f" ({r['percent']} %)" if r["percent"] is not None else "")]
                    for r in i["recommendations"]], numeric=(0,))])


def builtin_sections(evaluation: Mapping[str, Any], language: str,
                     place_names: Mapping[str, str] | None = None) -> list[ReportSection]:
    check_language(language, "evaluation report")
    evaluation = with_place_names(evaluation, place_names or {})
    sections = [representativeness_section(evaluation, language),
                selection_section(evaluation, language),
                process_section(evaluation, language),
                *experience_sections(evaluation, language),
                impact_section(evaluation, language)]
    return [s for s in sections if s is not None]


# --- rendering ------------------------------------------------------------------------------------


HTML = jinja2.Environment(autoescape=True).from_string(template("evaluation.html"))


def _safe_svg(svg: str) -> str:
    # The SVG is matplotlib's own output from our data (labels escaped by matplotlib); only
    # the XML prolog and doctype are dropped for inline use.
    from markupsafe import Markup
    start = svg.find("<svg")
    return Markup(svg[start:] if start >= 0 else "")


HTML.environment.filters["safe_svg"] = _safe_svg


def _title(e: Mapping[str, Any], lang: str) -> str:
    return (e.get("title") or {}).get(lang) or e.get("name") or e["assembly_id"]


def _note(e: Mapping[str, Any], lang: str) -> str:
    return T[lang]["internal_note" if e.get("audience") == "internal" else "public_note"].format(
        k=e["min_cell"])


def render_html(e: Mapping[str, Any], lang: str) -> str:
    return HTML.render(e=e, lang=lang, t=T[lang], title=_title(e, lang), note=_note(e, lang),
                       sections=e["sections"])


def render_pdf(e: Mapping[str, Any], lang: str) -> bytes:
    t, s = T[lang], styles()
    title = _title(e, lang)
    p = lambda text, style="body": Paragraph(escape(str(text)), s[style])  # noqa: E731
    story: list = [p(title, "title"), p(t["kind"], "sub"),
                   p(f"{t['generated']}: {e['generated_on']}", "sub"), Spacer(1, 3 * mm),
                   p(_note(e, lang), "quote")]
    width = 166 * mm
    for section in e["sections"]:
        story.append(p(section.title, "h1"))
        for b in section.blocks:
            if isinstance(b, str):
                story.append(p(b))
            elif isinstance(b, FigureBlock):
                img = Image(io.BytesIO(b.png))
                scale = min(1.0, width / img.imageWidth)
                img.drawWidth, img.drawHeight = img.imageWidth * scale, img.imageHeight * scale
                story.append(KeepTogether([img, p(b.caption, "quote")]))
            elif isinstance(b, TableBlock):
                cols = len(b.header)
                # Wide tables of figures (the five stages) leave the label column less room.
                first = width * (0.2 if cols > 4 else 0.4 if cols > 2 else 0.6)
                rest = (width - first) / max(cols - 1, 1)
                rows = [list(b.header), *[list(r) for r in b.rows]]
                story.append(p(b.caption, "h3"))
                story.append(table(rows, [first] + [rest] * (cols - 1), s,
                                    numeric_from=min(b.numeric) if b.numeric else cols))
    return build_pdf(story, title, f"{title} – {t['kind']}", None, lang, t["page"])


class EvaluationReport:
    name = "evaluation_report"
    kind = "evaluation"

    def produce(self, assembly: Mapping[str, Any], language: str) -> Iterable[ReportArtifact]:
        check_language(language, "evaluation report")
        edition = "internal" if assembly.get("audience") == "internal" else "public"
        stem = f"{assembly['assembly_id']}-evaluation-{edition}-{language}"
        yield from html_and_pdf(stem, render_html(assembly, language),
                                render_pdf(assembly, language))
        # The plots on their own, for a region's own template or a press release.
        for section in assembly["sections"]:
            for b in section.blocks:
                if isinstance(b, FigureBlock):
                    yield ReportArtifact(f"{stem}-{b.name}.svg", "image/svg+xml", b.svg)
                    yield ReportArtifact(f"{stem}-{b.name}.png", "image/png", b.png)
