"""kleroterion's selection engine: fair lotteries over panels that meet the quotas.

Public API::

    load_instance(categories_path, respondents_path, seats, *, household_columns=None,
                  id_column=None, already_selected=(), strict_values=True) -> Instance
    check_feasibility(instance) -> FeasibilityReport
    compute_distribution(instance, algorithm="leximin", *, tolerance=1e-6, progress=None,
                         should_stop=None, seed=None) -> Distribution
    check_certificate(instance, distribution) -> bool
    verify_distribution(instance, distribution) -> list[str]
"""
from .csvio import (
    load_instance,
    load_people,
    load_quotas,
    write_people,
    write_quotas,
    write_remaining,
    write_selected,
)
from .distribution import (
    ALGORITHMS,
    check_certificate,
    compute_distribution,
    fairness_stats,
    verify_distribution,
)
from .feasibility import FeasibilityReport, QuotaChange, apply_relaxation, check_feasibility
from .model import (
    Certificate,
    Distribution,
    FairnessStats,
    Instance,
    InstanceError,
    Person,
    Quota,
)
from .problem import SolveCancelled
from .validation import validate_instance

__all__ = [
    "ALGORITHMS", "Certificate", "Distribution", "FairnessStats", "FeasibilityReport", "Instance",
    "InstanceError", "Person", "Quota", "QuotaChange", "SolveCancelled", "apply_relaxation",
    "check_certificate", "check_feasibility", "compute_distribution", "fairness_stats",
    "load_instance", "load_people", "load_quotas", "validate_instance", "verify_distribution",
    "write_people", "write_quotas", "write_remaining", "write_selected",
]
