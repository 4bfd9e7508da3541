"""The sortition engine's data model: a pool, its quotas, and a distribution over panels.

These types are the contract between the engine (which computes distributions), the draw
(which turns a distribution into one verifiable panel) and the gRPC service. People are
addressed by their position in ``Instance.people``; ids are the pool's pseudonymous ids.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

# Told between solver iterations: (phase, iteration, lowest selection probability so far).
Progress = Callable[[str, int, float], None]
# Asked between solver iterations; True stops the solve with SolveCancelled.
ShouldStop = Callable[[], bool]
# A panel: sorted person indices.
Panel = tuple[int, ...]


class InstanceError(ValueError):
    """Bad input to the engine. ``field`` names what is wrong (e.g. ``quotas[3].max``)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class Person:
    id: str
    features: Mapping[str, str]
    household: str | None = None


@dataclass(frozen=True)
class Quota:
    feature: str
    value: str
    min: int
    max: int
    # How far an operator would accept the quota to move if it cannot be met.
    min_flex: int | None = None
    max_flex: int | None = None


@dataclass(frozen=True)
class Instance:
    people: Sequence[Person]
    quotas: Sequence[Quota]
    seats: int
    # Ids of people already seated (a top-up keeps them and fills the remaining seats).
    already_selected: Sequence[str] = ()
    # At most one person per household on any panel.
    one_per_household: bool = False


@dataclass(frozen=True)
class Certificate:
    """Dual evidence that the minimum selection probability cannot be raised.

    ``agent_weights`` is a probability vector y over people with sum 1 such that no feasible
    panel P has sum_{i in P} y_i > ``bound``; hence min_i p_i <= sum_i y_i p_i <= bound for
    every distribution, and the distribution's minimum equals ``bound`` up to ``tolerance``.
    """

    agent_weights: NDArray[np.float64]
    bound: float
    tolerance: float


@dataclass(frozen=True)
class FairnessStats:
    minimum: float
    gini: float
    geometric_mean: float
    share_below_k_over_n: float


@dataclass
class Distribution:
    """A lottery over panels. ``panels[j]`` is a sorted tuple of person indices and is drawn
    with probability ``weights[j]``; ``probabilities[i]`` is person i's selection chance."""

    algorithm: str
    panels: list[tuple[int, ...]]
    weights: NDArray[np.float64]
    probabilities: NDArray[np.float64]
    stats: FairnessStats
    certificate: Certificate | None = None
    # Solver facts for the record (iterations, columns generated, seconds, tolerance).
    info: dict[str, Any] = field(default_factory=dict)
