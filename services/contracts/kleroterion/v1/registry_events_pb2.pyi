from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class InvitationRequested(_message.Message):
    __slots__ = ("invitation_id", "rollout_id", "template_id", "channel_order", "purpose")
    INVITATION_ID_FIELD_NUMBER: _ClassVar[int]
    ROLLOUT_ID_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_ORDER_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    invitation_id: str
    rollout_id: str
    template_id: str
    channel_order: _containers.RepeatedScalarFieldContainer[str]
    purpose: str
    def __init__(self, invitation_id: _Optional[str] = ..., rollout_id: _Optional[str] = ..., template_id: _Optional[str] = ..., channel_order: _Optional[_Iterable[str]] = ..., purpose: _Optional[str] = ...) -> None: ...

class InvitationDelivered(_message.Message):
    __slots__ = ("invitation_id", "channel", "status", "attempt", "detail")
    INVITATION_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    invitation_id: str
    channel: str
    status: str
    attempt: int
    detail: str
    def __init__(self, invitation_id: _Optional[str] = ..., channel: _Optional[str] = ..., status: _Optional[str] = ..., attempt: _Optional[int] = ..., detail: _Optional[str] = ...) -> None: ...

class SignupReceived(_message.Message):
    __slots__ = ("registrant_id", "features", "municipality_code")
    class FeaturesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    REGISTRANT_ID_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    MUNICIPALITY_CODE_FIELD_NUMBER: _ClassVar[int]
    registrant_id: str
    features: _containers.ScalarMap[str, str]
    municipality_code: str
    def __init__(self, registrant_id: _Optional[str] = ..., features: _Optional[_Mapping[str, str]] = ..., municipality_code: _Optional[str] = ...) -> None: ...

class PoolExported(_message.Message):
    __slots__ = ("pool_version", "registrant_count", "sha256")
    POOL_VERSION_FIELD_NUMBER: _ClassVar[int]
    REGISTRANT_COUNT_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    pool_version: str
    registrant_count: int
    sha256: str
    def __init__(self, pool_version: _Optional[str] = ..., registrant_count: _Optional[int] = ..., sha256: _Optional[str] = ...) -> None: ...

class FunnelCount(_message.Message):
    __slots__ = ("feature", "value", "population", "invited", "signed_up")
    FEATURE_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    POPULATION_FIELD_NUMBER: _ClassVar[int]
    INVITED_FIELD_NUMBER: _ClassVar[int]
    SIGNED_UP_FIELD_NUMBER: _ClassVar[int]
    feature: str
    value: str
    population: int
    invited: int
    signed_up: int
    def __init__(self, feature: _Optional[str] = ..., value: _Optional[str] = ..., population: _Optional[int] = ..., invited: _Optional[int] = ..., signed_up: _Optional[int] = ...) -> None: ...

class FunnelCounted(_message.Message):
    __slots__ = ("population_total", "invited_total", "signed_up_total", "counts", "pool_version")
    POPULATION_TOTAL_FIELD_NUMBER: _ClassVar[int]
    INVITED_TOTAL_FIELD_NUMBER: _ClassVar[int]
    SIGNED_UP_TOTAL_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    POOL_VERSION_FIELD_NUMBER: _ClassVar[int]
    population_total: int
    invited_total: int
    signed_up_total: int
    counts: _containers.RepeatedCompositeFieldContainer[FunnelCount]
    pool_version: str
    def __init__(self, population_total: _Optional[int] = ..., invited_total: _Optional[int] = ..., signed_up_total: _Optional[int] = ..., counts: _Optional[_Iterable[_Union[FunnelCount, _Mapping]]] = ..., pool_version: _Optional[str] = ...) -> None: ...

class SeatAnswered(_message.Message):
    __slots__ = ("registrant_id", "answer", "reason")
    REGISTRANT_ID_FIELD_NUMBER: _ClassVar[int]
    ANSWER_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    registrant_id: str
    answer: str
    reason: str
    def __init__(self, registrant_id: _Optional[str] = ..., answer: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...
