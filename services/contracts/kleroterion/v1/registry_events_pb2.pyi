from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional

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
