"""Who may do what: the operators' roles and the groups of them the routes require.

Panel members and the public need no token: members vote and answer questionnaires with
their member code, the public reads what tracking.py calls public.
"""
from __future__ import annotations

ROLES = ("facilitator", "administration")

# Reading the drafts, the rounds, the tracking and the reports.
OPERATORS = ROLES
# Drafting, voting rounds, member codes, questionnaires and the report input.
FACILITATOR = ("facilitator",)
# The handover, the answers, the implementation and the audit log.
ADMINISTRATION = ("administration",)
