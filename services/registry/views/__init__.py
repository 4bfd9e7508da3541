"""The registry's blueprints, one per feature; ``app.create_app`` registers them all."""
from __future__ import annotations

from flask import Blueprint

from services.registry.views import (
    assemblies,
    extracts,
    pool,
    reference,
    registrants,
    rollouts,
    signup,
    templates,
)

BLUEPRINTS: tuple[Blueprint, ...] = (
    assemblies.blueprint,
    reference.blueprint,
    extracts.blueprint,
    templates.blueprint,
    rollouts.blueprint,
    pool.blueprint,
    registrants.blueprint,
    signup.blueprint,
)
