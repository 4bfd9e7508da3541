"""Structural validation of an Instance (independent of whether the quotas can be met)."""
from __future__ import annotations

from .model import Instance, InstanceError


def validate_instance(instance: Instance) -> None:
    """Raise InstanceError(field, reason) for the first structural problem found.

    Quota values that no pool member has are allowed (their quota simply counts nobody);
    whether the quotas can be met together is ``check_feasibility``'s business.
    """
    seats = instance.seats
    if isinstance(seats, bool) or not isinstance(seats, int):
        raise InstanceError("seats", f"must be an integer, got {seats!r}")
    if seats <= 0:
        raise InstanceError("seats", f"must be positive, got {seats}")
    if not instance.quotas and not instance.people:
        raise InstanceError("people", "the pool is empty")
    seen_ids: dict[str, int] = {}
    for i, p in enumerate(instance.people):
        if not isinstance(p.id, str) or not p.id.strip():
            raise InstanceError(f"people[{i}].id", "is empty")
        if p.id in seen_ids:
            raise InstanceError(f"people[{i}].id",
                                f"duplicate id {p.id!r} (also people[{seen_ids[p.id]}])")
        seen_ids[p.id] = i
    seen_q: dict[tuple[str, str], int] = {}
    for qi, q in enumerate(instance.quotas):
        f = f"quotas[{qi}]"
        if not q.feature or not str(q.feature).strip():
            raise InstanceError(f"{f}.feature", "is empty")
        if q.value is None or not str(q.value).strip():
            raise InstanceError(f"{f}.value", "is empty")
        for name in ("min", "max"):
            v = getattr(q, name)
            if isinstance(v, bool) or not isinstance(v, int):
                raise InstanceError(f"{f}.{name}", f"must be an integer, got {v!r}")
            if v < 0:
                raise InstanceError(f"{f}.{name}", f"must not be negative, got {v}")
        if q.min > q.max:
            raise InstanceError(f"{f}.min",
                                f"min {q.min} exceeds max {q.max} for {q.feature}={q.value}")
        if q.min_flex is not None and not 0 <= q.min_flex <= q.min:
            raise InstanceError(f"{f}.min_flex",
                                f"must lie in 0..min ({q.min}), got {q.min_flex}")
        if q.max_flex is not None and q.max_flex < q.max:
            raise InstanceError(f"{f}.max_flex",
                                f"must be at least max ({q.max}), got {q.max_flex}")
        key = (q.feature, q.value)
        if key in seen_q:
            raise InstanceError(f"{f}", f"duplicate quota for {q.feature}={q.value} "
                                        f"(also quotas[{seen_q[key]}])")
        seen_q[key] = qi
    seen_sel: set[str] = set()
    for j, sid in enumerate(instance.already_selected):
        if sid not in seen_ids:
            raise InstanceError(f"already_selected[{j}]", f"unknown person id {sid!r}")
        if sid in seen_sel:
            raise InstanceError(f"already_selected[{j}]", f"{sid!r} listed twice")
        seen_sel.add(sid)
    if len(seen_sel) > seats:
        raise InstanceError("already_selected",
                            f"{len(seen_sel)} people already seated for {seats} seats")
    if instance.one_per_household and len(seen_sel) > 1:
        hh = [instance.people[seen_ids[s]].household for s in seen_sel]
        hh = [h for h in hh if h]
        if len(hh) != len(set(hh)):
            raise InstanceError("already_selected", "two already-seated people share a household")
