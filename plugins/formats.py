"""The built-in assembly formats: borgerpanel, borgersamling and borgerting.

Minimum hours follow the OECD's good-practice principles (at least four full days of
deliberation for an assembly; our users' rule is 20 hours over several days).
"""
from __future__ import annotations

from kleroterion.plugin import AssemblyFormat, DropoutPolicy, hookimpl

DEFAULT_FEATURES = ("sex", "age_band", "education", "geography")

PANEL = AssemblyFormat(
    name="panel",
    title={"da": "Borgerpanel", "en": "Citizens' panel"},
    min_seats=12, max_seats=18, default_seats=15,
    min_hours=20, min_sessions=3,
    default_quota_features=DEFAULT_FEATURES,
    dropout=DropoutPolicy(replace_before_session=2, substitutes_per_seat=0.5),
)

ASSEMBLY = AssemblyFormat(
    name="assembly",
    title={"da": "Borgersamling", "en": "Citizens' assembly"},
    min_seats=24, max_seats=48, default_seats=36,
    min_hours=20, min_sessions=4,
    default_quota_features=DEFAULT_FEATURES + ("attitude",),
    dropout=DropoutPolicy(replace_before_session=2, substitutes_per_seat=0.5),
)

NATIONAL = AssemblyFormat(
    name="national",
    title={"da": "Borgerting", "en": "National citizens' assembly"},
    min_seats=99, max_seats=99, default_seats=99,
    min_hours=20, min_sessions=4,
    default_quota_features=DEFAULT_FEATURES + ("attitude", "region"),
    # A national assembly draws as many substitutes as seats.
    dropout=DropoutPolicy(replace_before_session=2, substitutes_per_seat=1.0),
)


@hookimpl
def register_assembly_formats() -> list[AssemblyFormat]:
    return [PANEL, ASSEMBLY, NATIONAL]
