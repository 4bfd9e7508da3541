"""Between the wire and the engine: protobuf requests into the engine's types (every bad
field named by its path in the request), the engine's results into protobuf messages, and
the request errors into gRPC statuses. Used by the servicer and by the top-up draws."""
from __future__ import annotations

from collections.abc import Iterable
from typing import NoReturn

import grpc
import numpy as np

from services.contracts.kleroterion.v1 import sortition_events_pb2 as ev
from services.contracts.kleroterion.v1 import sortition_pb2 as pb
from services.sortition import draw as drawing
from services.sortition.engine import (
    Distribution,
    FeasibilityReport,
    Instance,
    InstanceError,
    Person,
    Quota,
    validate_instance,
)

# The infeasible pool's diagnosis rides with FAILED_PRECONDITION as a serialised
# FeasibilityReport in this trailer (binary: the key ends in -bin).
FEASIBILITY_TRAILER = "kleroterion-feasibility-bin"


class RequestError(ValueError):
    """A request field the service refuses: INVALID_ARGUMENT naming the field."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field


class Abort(Exception):
    """A refusal with a status other than INVALID_ARGUMENT (and trailers to send with it)."""

    def __init__(self, code: grpc.StatusCode, message: str,
                 trailers: Iterable[tuple[str, bytes]] = ()) -> None:
        super().__init__(message)
        self.code, self.message, self.trailers = code, message, tuple(trailers)


# What a call's handling may raise for a bad request; anything else is the service's fault.
REQUEST_ERRORS: tuple[type[Exception], ...] = (
    RequestError, drawing.LotteryError, InstanceError, Abort)


def abort(context: grpc.ServicerContext, exc: Exception) -> NoReturn:
    """End the call with the status the request error stands for."""
    if isinstance(exc, Abort):
        if exc.trailers:
            context.set_trailing_metadata(exc.trailers)
        context.abort(exc.code, exc.message)
    if isinstance(exc, InstanceError):
        context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"{exc.field}: {exc.reason}")
    context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
    raise AssertionError("unreachable: ServicerContext.abort raises")


def in_pool(exc: InstanceError) -> RequestError:
    """An engine error about the request's pool, named by its path in the request."""
    return RequestError(f"pool.{exc.field}", exc.reason)


# ---- requests -> engine types -------------------------------------------------------------

def instance_from_pool(pool: pb.Pool, field: str = "pool") -> Instance:
    """Check the pool field by field and build the engine's Instance; errors name the field
    by its path in the request."""
    if pool.seats <= 0:
        raise RequestError(f"{field}.seats", "must be positive")
    if not pool.people:
        raise RequestError(f"{field}.people", "the pool is empty")
    if not pool.quotas:
        raise RequestError(f"{field}.quotas", "at least one quota is needed")
    quotas = []
    categories: list[str] = []
    for qi, q in enumerate(pool.quotas):
        f = f"{field}.quotas[{qi}]"
        if not q.feature.strip():
            raise RequestError(f"{f}.feature", "is empty")
        if not q.value.strip():
            raise RequestError(f"{f}.value", "is empty")
        if q.max < q.min:
            raise RequestError(f"{f}.max", f"must be >= min ({q.min}), got {q.max}")
        if q.HasField("min_flex") and q.min_flex > q.min:
            raise RequestError(f"{f}.min_flex", f"must be <= min ({q.min}), got {q.min_flex}")
        if q.HasField("max_flex") and q.max_flex < q.max:
            raise RequestError(f"{f}.max_flex", f"must be >= max ({q.max}), got {q.max_flex}")
        quotas.append(Quota(q.feature, q.value, q.min, q.max,
                            q.min_flex if q.HasField("min_flex") else None,
                            q.max_flex if q.HasField("max_flex") else None))
        if q.feature not in categories:
            categories.append(q.feature)
    people = []
    for i, p in enumerate(pool.people):
        if not p.id.strip():
            raise RequestError(f"{field}.people[{i}].id", "is empty")
        for cat in categories:
            if not p.features.get(cat, "").strip():
                # without a value the person would escape that category's quotas
                raise RequestError(f"{field}.people[{i}].features",
                                   f"no value for quota category {cat!r}")
        people.append(Person(p.id, dict(p.features), p.household or None))
    if pool.household_rule not in pb.HouseholdRule.values():
        raise RequestError(f"{field}.household_rule", f"unknown value {pool.household_rule}")
    instance = Instance(
        people=people, quotas=quotas, seats=pool.seats,
        already_selected=tuple(pool.already_selected),
        one_per_household=pool.household_rule == pb.HOUSEHOLD_RULE_ONE_PER_HOUSEHOLD)
    try:
        validate_instance(instance)
    except InstanceError as exc:
        raise RequestError(f"{field}.{exc.field}", exc.reason) from None
    return instance


# ---- engine results -> messages -----------------------------------------------------------

def report_message(instance: Instance, report: FeasibilityReport) -> pb.FeasibilityReport:
    out = pb.FeasibilityReport(feasible=report.feasible, problems=report.trivial,
                               seconds=report.seconds, summary=report.summary(),
                               relaxation_found=report.relaxation is not None)
    for f, v in report.conflicting:
        out.conflicting.add(feature=f, value=v)
    for c in report.relaxation or ():
        out.relaxation.add(feature=c.feature, value=c.value, old_min=c.old_min,
                           new_min=c.new_min, old_max=c.old_max, new_max=c.new_max)
    if report.example_panel:
        out.example_panel.extend(instance.people[i].id for i in report.example_panel)
    return out


def infeasible(instance: Instance, report: FeasibilityReport) -> Abort:
    """FAILED_PRECONDITION for quotas no panel meets, with the diagnosis as a trailer."""
    message = report_message(instance, report)
    return Abort(grpc.StatusCode.FAILED_PRECONDITION,
                 "pool.quotas: no panel meets the quotas: " + report.summary(),
                 [(FEASIBILITY_TRAILER, message.SerializeToString())])


def distribution_result(*, run_id: str, instance: Instance, distribution: Distribution,
                        rounded: drawing.RoundedLottery, pool_sha256: str,
                        seconds: float) -> pb.DistributionResult:
    s = distribution.stats
    lottery = rounded.lottery
    result = pb.DistributionResult(
        run_id=run_id, algorithm=distribution.algorithm,
        stats=pb.FairnessStats(min_probability=s.minimum, gini=s.gini,
                               geometric_mean=s.geometric_mean,
                               share_below_k_over_n=s.share_below_k_over_n),
        support_size=int(np.count_nonzero(distribution.weights > 0)),
        lottery_size=lottery.size, lottery_sha256=lottery.sha256,
        max_rounding_deviation=rounded.max_deviation, pool_sha256=pool_sha256,
        seconds=seconds, lottery_json=lottery.data)
    ids = [p.id for p in instance.people]
    for pid, p, lp in zip(ids, distribution.probabilities, rounded.lottery_probabilities,
                          strict=False):
        result.probabilities.add(id=pid, probability=float(p), lottery_probability=float(lp))
    return result


def panel_members(pool: pb.Pool, ids: Iterable[str]) -> list[ev.PanelMember]:
    """The people ``ids`` with their answers to the quota categories only: what seating and
    replacing them needs, and nothing the pool may carry beside (households, other columns)."""
    categories = {q.feature for q in pool.quotas}
    people = {p.id: p for p in pool.people}
    return [ev.PanelMember(member_id=pid, features={k: v for k, v in people[pid].features.items()
                                                    if k in categories})
            for pid in ids]


def quota_ranges(pool: pb.Pool) -> list[ev.QuotaRange]:
    return [ev.QuotaRange(feature=q.feature, value=q.value, min=q.min, max=q.max)
            for q in pool.quotas]


def probabilities_by_id(instance: Instance, distribution: Distribution) -> dict[str, float]:
    """Each person's selection probability by id, as a run stores them."""
    ids = [p.id for p in instance.people]
    return {pid: float(p) for pid, p in zip(ids, distribution.probabilities, strict=False)}

