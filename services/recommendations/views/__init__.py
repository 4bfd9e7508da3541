"""The service's blueprints, one per feature."""
from __future__ import annotations

from flask import Blueprint

from services.recommendations.views import (
    answers,
    assemblies,
    drafting,
    evaluation,
    public,
    questionnaires,
    voting,
)

BLUEPRINTS: tuple[Blueprint, ...] = (
    assemblies.blueprint,
    drafting.blueprint,
    voting.blueprint,
    answers.blueprint,
    public.blueprint,
    questionnaires.blueprint,
    evaluation.blueprint,
)
