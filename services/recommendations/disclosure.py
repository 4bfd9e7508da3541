"""Statistical disclosure control for everything this service publishes about people:
no report shows a non-zero count small enough to point at a member."""
from __future__ import annotations


def suppress(counts: list[int | None], min_cell: int) -> list[bool]:
    """Which cells of one column (the values of one feature) to hide. A non-zero count below
    ``min_cell`` is hidden; when that leaves a single hidden cell, the smallest other
    non-zero cell goes too, since the column's total would otherwise give it away."""
    hidden = [c is not None and 0 < c < min_cell for c in counts]
    if sum(hidden) == 1:
        others = [(c, i) for i, c in enumerate(counts) if c and not hidden[i]]
        if others:
            hidden[min(others)[1]] = True
    return hidden
