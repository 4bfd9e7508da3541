"""The built-in reports, a plugin like any other (registered through the
``kleroterion.plugins`` entry point): the final report of the citizens' recommendations
(final.py) and the evaluation report with its sections (evaluation.py). A region's plugin
adds its own report formats with ``register_reports`` and its own evaluation sections with
``evaluation_report_sections``.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kleroterion.plugin import Report, ReportSection, hookimpl


@hookimpl
def register_reports(settings: Mapping[str, Any]) -> list[Report]:
    from plugins.reports.evaluation import EvaluationReport
    from plugins.reports.final import FinalReport
    return [FinalReport(), EvaluationReport()]


@hookimpl
def evaluation_report_sections(evaluation: Mapping[str, Any], language: str,
                               place_names: Mapping[str, str]) -> list[ReportSection]:
    from plugins.reports.evaluation import builtin_sections
    return builtin_sections(evaluation, language, place_names)
