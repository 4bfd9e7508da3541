"""The sessions service's blueprints, one per feature; ``create_app`` registers them all."""
from __future__ import annotations

from flask import Blueprint

from services.sessions.views import attendance, audit, groups, panel, programme, public

BLUEPRINTS: tuple[Blueprint, ...] = (programme.blueprint, panel.blueprint,
                                     attendance.blueprint, groups.blueprint, audit.blueprint,
                                     public.blueprint)
