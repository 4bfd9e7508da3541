from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class HouseholdRule(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    HOUSEHOLD_RULE_UNSPECIFIED: _ClassVar[HouseholdRule]
    HOUSEHOLD_RULE_NONE: _ClassVar[HouseholdRule]
    HOUSEHOLD_RULE_ONE_PER_HOUSEHOLD: _ClassVar[HouseholdRule]
HOUSEHOLD_RULE_UNSPECIFIED: HouseholdRule
HOUSEHOLD_RULE_NONE: HouseholdRule
HOUSEHOLD_RULE_ONE_PER_HOUSEHOLD: HouseholdRule

class PoolMember(_message.Message):
    __slots__ = ("id", "features", "household")
    class FeaturesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    HOUSEHOLD_FIELD_NUMBER: _ClassVar[int]
    id: str
    features: _containers.ScalarMap[str, str]
    household: str
    def __init__(self, id: _Optional[str] = ..., features: _Optional[_Mapping[str, str]] = ..., household: _Optional[str] = ...) -> None: ...

class Quota(_message.Message):
    __slots__ = ("feature", "value", "min", "max", "min_flex", "max_flex")
    FEATURE_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    MIN_FIELD_NUMBER: _ClassVar[int]
    MAX_FIELD_NUMBER: _ClassVar[int]
    MIN_FLEX_FIELD_NUMBER: _ClassVar[int]
    MAX_FLEX_FIELD_NUMBER: _ClassVar[int]
    feature: str
    value: str
    min: int
    max: int
    min_flex: int
    max_flex: int
    def __init__(self, feature: _Optional[str] = ..., value: _Optional[str] = ..., min: _Optional[int] = ..., max: _Optional[int] = ..., min_flex: _Optional[int] = ..., max_flex: _Optional[int] = ...) -> None: ...

class Pool(_message.Message):
    __slots__ = ("people", "quotas", "seats", "already_selected", "household_rule")
    PEOPLE_FIELD_NUMBER: _ClassVar[int]
    QUOTAS_FIELD_NUMBER: _ClassVar[int]
    SEATS_FIELD_NUMBER: _ClassVar[int]
    ALREADY_SELECTED_FIELD_NUMBER: _ClassVar[int]
    HOUSEHOLD_RULE_FIELD_NUMBER: _ClassVar[int]
    people: _containers.RepeatedCompositeFieldContainer[PoolMember]
    quotas: _containers.RepeatedCompositeFieldContainer[Quota]
    seats: int
    already_selected: _containers.RepeatedScalarFieldContainer[str]
    household_rule: HouseholdRule
    def __init__(self, people: _Optional[_Iterable[_Union[PoolMember, _Mapping]]] = ..., quotas: _Optional[_Iterable[_Union[Quota, _Mapping]]] = ..., seats: _Optional[int] = ..., already_selected: _Optional[_Iterable[str]] = ..., household_rule: _Optional[_Union[HouseholdRule, str]] = ...) -> None: ...

class CheckFeasibilityRequest(_message.Message):
    __slots__ = ("pool",)
    POOL_FIELD_NUMBER: _ClassVar[int]
    pool: Pool
    def __init__(self, pool: _Optional[_Union[Pool, _Mapping]] = ...) -> None: ...

class QuotaRef(_message.Message):
    __slots__ = ("feature", "value")
    FEATURE_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    feature: str
    value: str
    def __init__(self, feature: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...

class QuotaChange(_message.Message):
    __slots__ = ("feature", "value", "old_min", "new_min", "old_max", "new_max")
    FEATURE_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    OLD_MIN_FIELD_NUMBER: _ClassVar[int]
    NEW_MIN_FIELD_NUMBER: _ClassVar[int]
    OLD_MAX_FIELD_NUMBER: _ClassVar[int]
    NEW_MAX_FIELD_NUMBER: _ClassVar[int]
    feature: str
    value: str
    old_min: int
    new_min: int
    old_max: int
    new_max: int
    def __init__(self, feature: _Optional[str] = ..., value: _Optional[str] = ..., old_min: _Optional[int] = ..., new_min: _Optional[int] = ..., old_max: _Optional[int] = ..., new_max: _Optional[int] = ...) -> None: ...

class FeasibilityReport(_message.Message):
    __slots__ = ("feasible", "problems", "conflicting", "relaxation", "relaxation_found", "example_panel", "seconds", "summary")
    FEASIBLE_FIELD_NUMBER: _ClassVar[int]
    PROBLEMS_FIELD_NUMBER: _ClassVar[int]
    CONFLICTING_FIELD_NUMBER: _ClassVar[int]
    RELAXATION_FIELD_NUMBER: _ClassVar[int]
    RELAXATION_FOUND_FIELD_NUMBER: _ClassVar[int]
    EXAMPLE_PANEL_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    feasible: bool
    problems: _containers.RepeatedScalarFieldContainer[str]
    conflicting: _containers.RepeatedCompositeFieldContainer[QuotaRef]
    relaxation: _containers.RepeatedCompositeFieldContainer[QuotaChange]
    relaxation_found: bool
    example_panel: _containers.RepeatedScalarFieldContainer[str]
    seconds: float
    summary: str
    def __init__(self, feasible: _Optional[bool] = ..., problems: _Optional[_Iterable[str]] = ..., conflicting: _Optional[_Iterable[_Union[QuotaRef, _Mapping]]] = ..., relaxation: _Optional[_Iterable[_Union[QuotaChange, _Mapping]]] = ..., relaxation_found: _Optional[bool] = ..., example_panel: _Optional[_Iterable[str]] = ..., seconds: _Optional[float] = ..., summary: _Optional[str] = ...) -> None: ...

class ComputeDistributionRequest(_message.Message):
    __slots__ = ("assembly_id", "pool", "algorithm", "lottery_size", "tolerance")
    ASSEMBLY_ID_FIELD_NUMBER: _ClassVar[int]
    POOL_FIELD_NUMBER: _ClassVar[int]
    ALGORITHM_FIELD_NUMBER: _ClassVar[int]
    LOTTERY_SIZE_FIELD_NUMBER: _ClassVar[int]
    TOLERANCE_FIELD_NUMBER: _ClassVar[int]
    assembly_id: str
    pool: Pool
    algorithm: str
    lottery_size: int
    tolerance: float
    def __init__(self, assembly_id: _Optional[str] = ..., pool: _Optional[_Union[Pool, _Mapping]] = ..., algorithm: _Optional[str] = ..., lottery_size: _Optional[int] = ..., tolerance: _Optional[float] = ...) -> None: ...

class SolveProgress(_message.Message):
    __slots__ = ("phase", "iteration", "min_probability", "elapsed_seconds")
    PHASE_FIELD_NUMBER: _ClassVar[int]
    ITERATION_FIELD_NUMBER: _ClassVar[int]
    MIN_PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    ELAPSED_SECONDS_FIELD_NUMBER: _ClassVar[int]
    phase: str
    iteration: int
    min_probability: float
    elapsed_seconds: float
    def __init__(self, phase: _Optional[str] = ..., iteration: _Optional[int] = ..., min_probability: _Optional[float] = ..., elapsed_seconds: _Optional[float] = ...) -> None: ...

class FairnessStats(_message.Message):
    __slots__ = ("min_probability", "gini", "geometric_mean", "share_below_k_over_n")
    MIN_PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    GINI_FIELD_NUMBER: _ClassVar[int]
    GEOMETRIC_MEAN_FIELD_NUMBER: _ClassVar[int]
    SHARE_BELOW_K_OVER_N_FIELD_NUMBER: _ClassVar[int]
    min_probability: float
    gini: float
    geometric_mean: float
    share_below_k_over_n: float
    def __init__(self, min_probability: _Optional[float] = ..., gini: _Optional[float] = ..., geometric_mean: _Optional[float] = ..., share_below_k_over_n: _Optional[float] = ...) -> None: ...

class PersonProbability(_message.Message):
    __slots__ = ("id", "probability", "lottery_probability")
    ID_FIELD_NUMBER: _ClassVar[int]
    PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    LOTTERY_PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    id: str
    probability: float
    lottery_probability: float
    def __init__(self, id: _Optional[str] = ..., probability: _Optional[float] = ..., lottery_probability: _Optional[float] = ...) -> None: ...

class DistributionResult(_message.Message):
    __slots__ = ("run_id", "algorithm", "stats", "probabilities", "support_size", "lottery_size", "lottery_sha256", "max_rounding_deviation", "pool_sha256", "seconds", "lottery_json")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    ALGORITHM_FIELD_NUMBER: _ClassVar[int]
    STATS_FIELD_NUMBER: _ClassVar[int]
    PROBABILITIES_FIELD_NUMBER: _ClassVar[int]
    SUPPORT_SIZE_FIELD_NUMBER: _ClassVar[int]
    LOTTERY_SIZE_FIELD_NUMBER: _ClassVar[int]
    LOTTERY_SHA256_FIELD_NUMBER: _ClassVar[int]
    MAX_ROUNDING_DEVIATION_FIELD_NUMBER: _ClassVar[int]
    POOL_SHA256_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    LOTTERY_JSON_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    algorithm: str
    stats: FairnessStats
    probabilities: _containers.RepeatedCompositeFieldContainer[PersonProbability]
    support_size: int
    lottery_size: int
    lottery_sha256: str
    max_rounding_deviation: float
    pool_sha256: str
    seconds: float
    lottery_json: bytes
    def __init__(self, run_id: _Optional[str] = ..., algorithm: _Optional[str] = ..., stats: _Optional[_Union[FairnessStats, _Mapping]] = ..., probabilities: _Optional[_Iterable[_Union[PersonProbability, _Mapping]]] = ..., support_size: _Optional[int] = ..., lottery_size: _Optional[int] = ..., lottery_sha256: _Optional[str] = ..., max_rounding_deviation: _Optional[float] = ..., pool_sha256: _Optional[str] = ..., seconds: _Optional[float] = ..., lottery_json: _Optional[bytes] = ...) -> None: ...

class ComputeDistributionUpdate(_message.Message):
    __slots__ = ("progress", "result")
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    progress: SolveProgress
    result: DistributionResult
    def __init__(self, progress: _Optional[_Union[SolveProgress, _Mapping]] = ..., result: _Optional[_Union[DistributionResult, _Mapping]] = ...) -> None: ...

class PublishLotteryRequest(_message.Message):
    __slots__ = ("run_id", "published_by")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    PUBLISHED_BY_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    published_by: str
    def __init__(self, run_id: _Optional[str] = ..., published_by: _Optional[str] = ...) -> None: ...

class PublishLotteryResponse(_message.Message):
    __slots__ = ("run_id", "assembly_id", "lottery_sha256", "lottery_size", "published_by", "published_at")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    ASSEMBLY_ID_FIELD_NUMBER: _ClassVar[int]
    LOTTERY_SHA256_FIELD_NUMBER: _ClassVar[int]
    LOTTERY_SIZE_FIELD_NUMBER: _ClassVar[int]
    PUBLISHED_BY_FIELD_NUMBER: _ClassVar[int]
    PUBLISHED_AT_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    assembly_id: str
    lottery_sha256: str
    lottery_size: int
    published_by: str
    published_at: str
    def __init__(self, run_id: _Optional[str] = ..., assembly_id: _Optional[str] = ..., lottery_sha256: _Optional[str] = ..., lottery_size: _Optional[int] = ..., published_by: _Optional[str] = ..., published_at: _Optional[str] = ...) -> None: ...

class DrawPanelRequest(_message.Message):
    __slots__ = ("run_id", "seed", "entered_by", "seed_source")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    ENTERED_BY_FIELD_NUMBER: _ClassVar[int]
    SEED_SOURCE_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    seed: str
    entered_by: str
    seed_source: str
    def __init__(self, run_id: _Optional[str] = ..., seed: _Optional[str] = ..., entered_by: _Optional[str] = ..., seed_source: _Optional[str] = ...) -> None: ...

class DrawPanelResponse(_message.Message):
    __slots__ = ("run_id", "panel_ids", "panel_index", "lottery_sha256", "lottery_size", "seed", "entered_by", "entered_at", "seed_source", "published_at")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    PANEL_IDS_FIELD_NUMBER: _ClassVar[int]
    PANEL_INDEX_FIELD_NUMBER: _ClassVar[int]
    LOTTERY_SHA256_FIELD_NUMBER: _ClassVar[int]
    LOTTERY_SIZE_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    ENTERED_BY_FIELD_NUMBER: _ClassVar[int]
    ENTERED_AT_FIELD_NUMBER: _ClassVar[int]
    SEED_SOURCE_FIELD_NUMBER: _ClassVar[int]
    PUBLISHED_AT_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    panel_ids: _containers.RepeatedScalarFieldContainer[str]
    panel_index: int
    lottery_sha256: str
    lottery_size: int
    seed: str
    entered_by: str
    entered_at: str
    seed_source: str
    published_at: str
    def __init__(self, run_id: _Optional[str] = ..., panel_ids: _Optional[_Iterable[str]] = ..., panel_index: _Optional[int] = ..., lottery_sha256: _Optional[str] = ..., lottery_size: _Optional[int] = ..., seed: _Optional[str] = ..., entered_by: _Optional[str] = ..., entered_at: _Optional[str] = ..., seed_source: _Optional[str] = ..., published_at: _Optional[str] = ...) -> None: ...

class DrawSubstitutesRequest(_message.Message):
    __slots__ = ("run_id", "count", "depth")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    DEPTH_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    count: int
    depth: int
    def __init__(self, run_id: _Optional[str] = ..., count: _Optional[int] = ..., depth: _Optional[int] = ...) -> None: ...

class Replacement(_message.Message):
    __slots__ = ("member_id", "substitute_id")
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    SUBSTITUTE_ID_FIELD_NUMBER: _ClassVar[int]
    member_id: str
    substitute_id: str
    def __init__(self, member_id: _Optional[str] = ..., substitute_id: _Optional[str] = ...) -> None: ...

class DrawSubstitutesResponse(_message.Message):
    __slots__ = ("run_id", "substitute_ids", "first_replacements", "uncovered_member_ids", "lottery_sha256")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    SUBSTITUTE_IDS_FIELD_NUMBER: _ClassVar[int]
    FIRST_REPLACEMENTS_FIELD_NUMBER: _ClassVar[int]
    UNCOVERED_MEMBER_IDS_FIELD_NUMBER: _ClassVar[int]
    LOTTERY_SHA256_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    substitute_ids: _containers.RepeatedScalarFieldContainer[str]
    first_replacements: _containers.RepeatedCompositeFieldContainer[Replacement]
    uncovered_member_ids: _containers.RepeatedScalarFieldContainer[str]
    lottery_sha256: str
    def __init__(self, run_id: _Optional[str] = ..., substitute_ids: _Optional[_Iterable[str]] = ..., first_replacements: _Optional[_Iterable[_Union[Replacement, _Mapping]]] = ..., uncovered_member_ids: _Optional[_Iterable[str]] = ..., lottery_sha256: _Optional[str] = ...) -> None: ...
