"""Who may do what in the sessions service: its roles and the groups of them routes require."""
from __future__ import annotations

ROLES = ("platform_operator", "host", "facilitator", "observer")
READERS = ROLES
PLANNERS = ("platform_operator", "host")
FACILITATORS = ("platform_operator", "facilitator")
