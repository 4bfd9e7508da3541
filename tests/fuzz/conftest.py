"""Fixtures of the fuzz tests: each service on a temporary SQLite database, with some data
(assemblies, members, sessions, recommendations, invitations) for the fuzzer to hit."""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
for helpers in ("registry", "sessions", "recommendations"):
    if str(HERE.parent / helpers) not in sys.path:
        sys.path.append(str(HERE.parent / helpers))
