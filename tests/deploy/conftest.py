"""Fixtures for the deployment tests (defined in deploy_support.py)."""
from deploy_support import helm, renderer  # noqa: F401 - pytest fixtures
