from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class MemberWithdrew(_message.Message):
    __slots__ = ("member_id", "before_session", "reason")
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    BEFORE_SESSION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    member_id: str
    before_session: int
    reason: str
    def __init__(self, member_id: _Optional[str] = ..., before_session: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...

class SeatFilled(_message.Message):
    __slots__ = ("vacated_by", "substitute_id")
    VACATED_BY_FIELD_NUMBER: _ClassVar[int]
    SUBSTITUTE_ID_FIELD_NUMBER: _ClassVar[int]
    vacated_by: str
    substitute_id: str
    def __init__(self, vacated_by: _Optional[str] = ..., substitute_id: _Optional[str] = ...) -> None: ...

class SessionHeld(_message.Message):
    __slots__ = ("session_id", "hours", "present", "seated")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    HOURS_FIELD_NUMBER: _ClassVar[int]
    PRESENT_FIELD_NUMBER: _ClassVar[int]
    SEATED_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    hours: float
    present: int
    seated: int
    def __init__(self, session_id: _Optional[str] = ..., hours: _Optional[float] = ..., present: _Optional[int] = ..., seated: _Optional[int] = ...) -> None: ...
