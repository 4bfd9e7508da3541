"""Checking a published lottery against what it claims to be (``kleroterion verify``).

The hash only proves that the file is the one published. Whether the file is a *fair*
lottery is a separate question anyone can answer from public material:

- every panel listed meets every quota and has the panel's size, with no person twice
  (``panel_problems``);
- every person's chance in the lottery (panels listing them / m) is within the published
  rounding deviation of their chance in the published distribution
  (``probability_problems``).

A rigged lottery (say, the same panel listed m times) passes the first test at best, never
the second.
"""
from __future__ import annotations

import csv
import math
import os
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from services.sortition.draw import Lottery, LotteryError
from services.sortition.engine import Instance
from services.sortition.substitutes import panel_problems as quota_problems

# The probabilities file writes 9 decimals; its rounding must not fail a fair lottery.
CSV_ROUNDING = 1e-9
# Problems printed per check before "... and N more".
SHOWN = 5


@dataclass(frozen=True)
class PublishedDistribution:
    """Per person id, the chance in the computed distribution and (when published) in the
    lottery; ``largest_deviation`` is the published largest |lottery - computed|."""

    probabilities: Mapping[str, float]
    lottery_probabilities: Mapping[str, float] | None

    @property
    def largest_deviation(self) -> float | None:
        if self.lottery_probabilities is None:
            return None
        return max((abs(self.lottery_probabilities[i] - p)
                    for i, p in self.probabilities.items()), default=0.0)


def read_distribution(path: str | os.PathLike[str]) -> PublishedDistribution:
    """The published probabilities file (``id,probability[,lottery_probability]``, as
    ``kleroterion select`` writes it)."""
    with open(path, newline="", encoding="utf-8-sig") as fh:
        rows = [r for r in csv.reader(fh) if any(c.strip() for c in r)]
    if not rows:
        raise LotteryError("probabilities", "the file is empty")
    header = [h.strip().lower() for h in rows[0]]
    if header[:2] != ["id", "probability"]:
        raise LotteryError("probabilities", "header must start with id,probability; got "
                                            + ",".join(rows[0]))
    has_lottery = len(header) > 2 and header[2] == "lottery_probability"
    computed: dict[str, float] = {}
    in_lottery: dict[str, float] = {}
    for line, row in enumerate(rows[1:], start=2):
        try:
            values = [float(v) for v in row[1:3 if has_lottery else 2]]
        except (ValueError, IndexError):
            raise LotteryError(f"probabilities line {line}", "needs numbers") from None
        if not all(math.isfinite(v) and 0.0 <= v <= 1.0 for v in values):
            raise LotteryError(f"probabilities line {line}", "probabilities lie in [0, 1]")
        pid = row[0].strip()
        if pid in computed:
            raise LotteryError(f"probabilities line {line}", f"id {pid!r} appears twice")
        computed[pid] = values[0]
        if has_lottery:
            in_lottery[pid] = values[1]
    return PublishedDistribution(computed, in_lottery if has_lottery else None)


def _listed(problems: list[str]) -> list[str]:
    if len(problems) <= SHOWN:
        return problems
    return [*problems[:SHOWN], f"... and {len(problems) - SHOWN} more"]


def panel_problems(lottery: Lottery, instance: Instance) -> list[str]:
    """Every distinct panel of the lottery against the pool's quotas and the panel size."""
    if lottery.seats != instance.seats:
        return [f"the lottery is for {lottery.seats} seats, the quotas for {instance.seats}"]
    position = {p.id: i for i, p in enumerate(instance.people)}
    problems = []
    for panel, copies in sorted(Counter(lottery.panels).items()):
        unknown = [pid for pid in panel if pid not in position]
        where = f"panel {lottery.panels.index(panel)} (listed {copies} times)"
        if unknown:
            problems.append(f"{where}: {len(unknown)} ids not in the pool, e.g. {unknown[0]}")
            continue
        if len(set(panel)) != len(panel):
            problems.append(f"{where}: a person is listed twice")
        problems += [f"{where}: {p}" for p in quota_problems(instance,
                                                              [position[i] for i in panel])]
    return _listed(problems)


def probability_problems(lottery: Lottery, published: PublishedDistribution,
                         tolerance: float) -> tuple[list[str], float]:
    """People whose chance in the lottery is further than ``tolerance`` from the published
    distribution (or from the published lottery chance), and the largest such distance."""
    counts = Counter(pid for panel in lottery.panels for pid in panel)
    problems = []
    unknown = sorted(set(counts) - set(published.probabilities))
    if unknown:
        problems.append(f"{len(unknown)} people in the lottery have no published probability, "
                        f"e.g. {unknown[0]}")
    largest = 0.0
    for pid, p in sorted(published.probabilities.items()):
        chance = counts.get(pid, 0) / lottery.size
        off = abs(chance - p)
        largest = max(largest, off)
        if off > tolerance + CSV_ROUNDING:
            problems.append(f"{pid}: chance {chance:.6f} in the lottery, {p:.6f} in the "
                            f"published distribution (off by {off:.6f} > {tolerance:.6f})")
        if published.lottery_probabilities is not None:
            said = published.lottery_probabilities[pid]
            if abs(chance - said) > CSV_ROUNDING:
                problems.append(f"{pid}: chance {chance:.9f} in the lottery, but "
                                f"{said:.9f} was published")
    return _listed(problems), largest
