"""Who may do what in the registry: the roles its operator tokens carry and the groups of
them that routes require."""
from __future__ import annotations

ROLES: tuple[str, ...] = ("platform_operator", "region_admin", "observer")
# Change an assembly, its population, letters, rollouts and pool.
OPERATORS: tuple[str, ...] = ("platform_operator", "region_admin")
# Read anything the operator API shows (counts and states, never personal data).
ANYONE: tuple[str, ...] = ROLES
# End an assembly: erasing its personal data cannot be undone.
PLATFORM: tuple[str, ...] = ("platform_operator",)
