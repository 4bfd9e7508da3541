"""The evaluation of an assembly: the organisers' data and population targets, and the
evaluation reports (the organisers' and the public one) rendered by the report plugins with
every enabled plugin's sections."""
from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, url_for
from markupsafe import escape

from services.common import auth
from services.common.service import current_context
from services.common.web import ApiError, json_body
from services.recommendations import evaluation, inputs, queries
from services.recommendations.inputs import a_language, language
from services.recommendations.roles import FACILITATOR, OPERATORS
from services.recommendations.settings import settings_of
from services.recommendations.views.shared import change, log_change, today

blueprint = Blueprint("evaluation", __name__)

# A report's file with the name of the report it belongs to.
Files = list[tuple[str, Any]]


@blueprint.put("/assemblies/<assembly_id>/evaluation/population-targets")
@auth.require(*FACILITATOR)
def set_population_targets(assembly_id: str) -> Response:
    """Population shares for features the extract does not hold (the assembly's own
    questions, e.g. education), so the report can compare them too."""
    targets = inputs.population_targets(json_body().get("population_targets"))
    with change() as conn:
        queries.assembly_row(conn, assembly_id)
        evaluation.store_fact(conn, assembly_id, "population_targets", targets, datetime.now(UTC))
        log_change(conn, "evaluation.population_targets", f"assembly:{assembly_id}",
                   {"features": sorted(targets)})
    return jsonify(assembly_id=assembly_id, population_targets=targets)


def _data(assembly_id: str, audience: str) -> dict[str, Any]:
    ctx = current_context()
    with ctx.engine.connect() as conn:
        return evaluation.evaluation_data(conn, queries.assembly_row(conn, assembly_id), today(),
                                          settings_of(ctx).min_cell_size, audience)


@blueprint.get("/assemblies/<assembly_id>/evaluation")
@auth.require(*OPERATORS)
def get_evaluation(assembly_id: str) -> Response:
    """The evaluation data for the organisers (free-text answers included)."""
    return jsonify(_data(assembly_id, "internal"))


class _Rendered:
    """The last few renderings, keyed by the data they were made from: the index page and
    every file of one report (HTML, PDF, each plot) would otherwise each render them all."""

    size = 8

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._files: OrderedDict[tuple[str, ...], Files] = OrderedDict()

    def get(self, key: tuple[str, ...], render: Callable[[], Files]) -> Files:
        with self._lock:
            if key in self._files:
                self._files.move_to_end(key)
                return self._files[key]
        files = render()
        with self._lock:
            self._files[key] = files
            while len(self._files) > self.size:
                self._files.popitem(last=False)
        return files


def artifacts(assembly_id: str, lang: str, audience: str) -> Files:
    """The files of every enabled evaluation report (``Report.kind == "evaluation"``), with
    the sections of every enabled plugin."""
    a_language(lang)
    data = _data(assembly_id, audience)
    host = current_context().plugins

    def render() -> Files:
        sections = [s for s in host.evaluation_sections(data, lang)
                    if audience == "internal" or s.public]
        full = {**data, "sections": sections}
        return [(name, artifact) for name, report in host.reports("evaluation").items()
                for artifact in report.produce(full, lang)]

    digest = hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()
    plugins = tuple(sorted(name for name, _ in host.pm.list_name_plugin()))
    rendered: _Rendered = current_app.extensions.setdefault("kleroterion.evaluation_files",
                                                            _Rendered())
    return rendered.get((assembly_id, lang, audience, digest, *plugins), render)


@blueprint.get("/assemblies/<assembly_id>/evaluation/reports/<lang>")
@auth.require(*OPERATORS)
def list_evaluation_reports(assembly_id: str, lang: str) -> Response:
    return jsonify(reports=[{"report": name, "name": a.name, "media_type": a.media_type,
                             "size": len(a.content),
                             "url": url_for("evaluation.get_evaluation_report",
                                            assembly_id=assembly_id, lang=lang, name=a.name)}
                            for name, a in artifacts(assembly_id, lang, "internal")])


def _file(assembly_id: str, lang: str, name: str, audience: str) -> Response:
    for _report, artifact in artifacts(assembly_id, lang, audience):
        if artifact.name == name:
            return Response(artifact.content, mimetype=artifact.media_type,
                            headers={"Content-Disposition": f'inline; filename="{name}"'})
    raise ApiError("name", f"no evaluation report file {name!r}", 404)


@blueprint.get("/assemblies/<assembly_id>/evaluation/reports/<lang>/<name>")
@auth.require(*OPERATORS)
def get_evaluation_report(assembly_id: str, lang: str, name: str) -> Response:
    """The organisers' evaluation report: every section, free-text answers included."""
    return _file(assembly_id, lang, name, "internal")


@blueprint.get("/public/assemblies/<assembly_id>/evaluation/<lang>/<name>")
def public_evaluation_report(assembly_id: str, lang: str, name: str) -> Response:
    """The public evaluation report, linked from the transparency page: the public sections
    only, aggregates with small cells suppressed."""
    response = _file(assembly_id, lang, name, "public")
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _public_file_url(assembly_id: str, lang: str, name: str) -> str:
    return url_for("evaluation.public_evaluation_report", assembly_id=assembly_id, lang=lang,
                   name=name)


INDEX = {"da": ("Evaluering", "Evalueringsrapporten for", "Filer"),
         "en": ("Evaluation", "The evaluation report of", "Files")}


@blueprint.get("/public/assemblies/<assembly_id>/evaluation")
def public_evaluation_index(assembly_id: str) -> Response:
    """The public evaluation report's files, linked from the transparency page."""
    lang = language()
    files = artifacts(assembly_id, lang, "public")
    with current_context().engine.connect() as conn:
        a = queries.assembly_row(conn, assembly_id)
    title, lead, heading = INDEX[lang]
    links = "".join(
        f'<li><a href="{escape(_public_file_url(assembly_id, lang, f.name))}">'
        f"{escape(f.name)}</a> ({escape(f.media_type.split(';')[0])})</li>" for _n, f in files)
    html = (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{title} – {escape(a.name or assembly_id)}</title></head><body><main>"
            f"<h1>{title}</h1><p>{lead} {escape(a.name or assembly_id)}.</p>"
            f"<h2>{heading}</h2><ul>{links}</ul></main></body></html>")
    return Response(html, mimetype="text/html", headers={"Access-Control-Allow-Origin": "*"})
