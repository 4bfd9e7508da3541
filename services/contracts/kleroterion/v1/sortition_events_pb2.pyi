from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DistributionComputed(_message.Message):
    __slots__ = ("run_id", "algorithm", "min_probability", "gini", "panel_count", "pool_version", "lottery_sha256", "lottery_size", "max_rounding_deviation", "geometric_mean", "share_below_k_over_n", "pool_size", "seats")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    ALGORITHM_FIELD_NUMBER: _ClassVar[int]
    MIN_PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    GINI_FIELD_NUMBER: _ClassVar[int]
    PANEL_COUNT_FIELD_NUMBER: _ClassVar[int]
    POOL_VERSION_FIELD_NUMBER: _ClassVar[int]
    LOTTERY_SHA256_FIELD_NUMBER: _ClassVar[int]
    LOTTERY_SIZE_FIELD_NUMBER: _ClassVar[int]
    MAX_ROUNDING_DEVIATION_FIELD_NUMBER: _ClassVar[int]
    GEOMETRIC_MEAN_FIELD_NUMBER: _ClassVar[int]
    SHARE_BELOW_K_OVER_N_FIELD_NUMBER: _ClassVar[int]
    POOL_SIZE_FIELD_NUMBER: _ClassVar[int]
    SEATS_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    algorithm: str
    min_probability: float
    gini: float
    panel_count: int
    pool_version: str
    lottery_sha256: str
    lottery_size: int
    max_rounding_deviation: float
    geometric_mean: float
    share_below_k_over_n: float
    pool_size: int
    seats: int
    def __init__(self, run_id: _Optional[str] = ..., algorithm: _Optional[str] = ..., min_probability: _Optional[float] = ..., gini: _Optional[float] = ..., panel_count: _Optional[int] = ..., pool_version: _Optional[str] = ..., lottery_sha256: _Optional[str] = ..., lottery_size: _Optional[int] = ..., max_rounding_deviation: _Optional[float] = ..., geometric_mean: _Optional[float] = ..., share_below_k_over_n: _Optional[float] = ..., pool_size: _Optional[int] = ..., seats: _Optional[int] = ...) -> None: ...

class LotteryPublished(_message.Message):
    __slots__ = ("run_id", "lottery_sha256", "lottery_size", "pool_sha256", "published_by", "max_rounding_deviation")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    LOTTERY_SHA256_FIELD_NUMBER: _ClassVar[int]
    LOTTERY_SIZE_FIELD_NUMBER: _ClassVar[int]
    POOL_SHA256_FIELD_NUMBER: _ClassVar[int]
    PUBLISHED_BY_FIELD_NUMBER: _ClassVar[int]
    MAX_ROUNDING_DEVIATION_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    lottery_sha256: str
    lottery_size: int
    pool_sha256: str
    published_by: str
    max_rounding_deviation: float
    def __init__(self, run_id: _Optional[str] = ..., lottery_sha256: _Optional[str] = ..., lottery_size: _Optional[int] = ..., pool_sha256: _Optional[str] = ..., published_by: _Optional[str] = ..., max_rounding_deviation: _Optional[float] = ...) -> None: ...

class PanelMember(_message.Message):
    __slots__ = ("member_id", "features")
    class FeaturesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    member_id: str
    features: _containers.ScalarMap[str, str]
    def __init__(self, member_id: _Optional[str] = ..., features: _Optional[_Mapping[str, str]] = ...) -> None: ...

class QuotaRange(_message.Message):
    __slots__ = ("feature", "value", "min", "max")
    FEATURE_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    MIN_FIELD_NUMBER: _ClassVar[int]
    MAX_FIELD_NUMBER: _ClassVar[int]
    feature: str
    value: str
    min: int
    max: int
    def __init__(self, feature: _Optional[str] = ..., value: _Optional[str] = ..., min: _Optional[int] = ..., max: _Optional[int] = ...) -> None: ...

class PanelDrawn(_message.Message):
    __slots__ = ("run_id", "lottery_sha256", "seed", "panel_index", "member_ids", "members", "quotas", "seed_entered_by", "seed_entered_at", "seed_source")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    LOTTERY_SHA256_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    PANEL_INDEX_FIELD_NUMBER: _ClassVar[int]
    MEMBER_IDS_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    QUOTAS_FIELD_NUMBER: _ClassVar[int]
    SEED_ENTERED_BY_FIELD_NUMBER: _ClassVar[int]
    SEED_ENTERED_AT_FIELD_NUMBER: _ClassVar[int]
    SEED_SOURCE_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    lottery_sha256: str
    seed: str
    panel_index: int
    member_ids: _containers.RepeatedScalarFieldContainer[str]
    members: _containers.RepeatedCompositeFieldContainer[PanelMember]
    quotas: _containers.RepeatedCompositeFieldContainer[QuotaRange]
    seed_entered_by: str
    seed_entered_at: str
    seed_source: str
    def __init__(self, run_id: _Optional[str] = ..., lottery_sha256: _Optional[str] = ..., seed: _Optional[str] = ..., panel_index: _Optional[int] = ..., member_ids: _Optional[_Iterable[str]] = ..., members: _Optional[_Iterable[_Union[PanelMember, _Mapping]]] = ..., quotas: _Optional[_Iterable[_Union[QuotaRange, _Mapping]]] = ..., seed_entered_by: _Optional[str] = ..., seed_entered_at: _Optional[str] = ..., seed_source: _Optional[str] = ...) -> None: ...

class SubstitutesDrawn(_message.Message):
    __slots__ = ("run_id", "substitute_ids", "lottery_sha256", "panel_index", "uncovered_member_ids", "substitutes", "published_run_id", "published_lottery_sha256")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    SUBSTITUTE_IDS_FIELD_NUMBER: _ClassVar[int]
    LOTTERY_SHA256_FIELD_NUMBER: _ClassVar[int]
    PANEL_INDEX_FIELD_NUMBER: _ClassVar[int]
    UNCOVERED_MEMBER_IDS_FIELD_NUMBER: _ClassVar[int]
    SUBSTITUTES_FIELD_NUMBER: _ClassVar[int]
    PUBLISHED_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    PUBLISHED_LOTTERY_SHA256_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    substitute_ids: _containers.RepeatedScalarFieldContainer[str]
    lottery_sha256: str
    panel_index: int
    uncovered_member_ids: _containers.RepeatedScalarFieldContainer[str]
    substitutes: _containers.RepeatedCompositeFieldContainer[PanelMember]
    published_run_id: str
    published_lottery_sha256: str
    def __init__(self, run_id: _Optional[str] = ..., substitute_ids: _Optional[_Iterable[str]] = ..., lottery_sha256: _Optional[str] = ..., panel_index: _Optional[int] = ..., uncovered_member_ids: _Optional[_Iterable[str]] = ..., substitutes: _Optional[_Iterable[_Union[PanelMember, _Mapping]]] = ..., published_run_id: _Optional[str] = ..., published_lottery_sha256: _Optional[str] = ...) -> None: ...
