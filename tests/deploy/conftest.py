"""Fixtures for the deployment tests (defined in chart_helpers.py)."""
from chart_helpers import helm, renderer  # noqa: F401 - pytest fixtures
