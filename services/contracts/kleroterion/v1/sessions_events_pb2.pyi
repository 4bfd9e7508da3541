from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class MemberWithdrew(_message.Message):
    __slots__ = ("member_id", "before_session", "reason", "after_cutoff")
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    BEFORE_SESSION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    AFTER_CUTOFF_FIELD_NUMBER: _ClassVar[int]
    member_id: str
    before_session: int
    reason: str
    after_cutoff: bool
    def __init__(self, member_id: _Optional[str] = ..., before_session: _Optional[int] = ..., reason: _Optional[str] = ..., after_cutoff: _Optional[bool] = ...) -> None: ...

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

class SeatOffered(_message.Message):
    __slots__ = ("vacated_by", "substitute_id", "substitute_rank")
    VACATED_BY_FIELD_NUMBER: _ClassVar[int]
    SUBSTITUTE_ID_FIELD_NUMBER: _ClassVar[int]
    SUBSTITUTE_RANK_FIELD_NUMBER: _ClassVar[int]
    vacated_by: str
    substitute_id: str
    substitute_rank: int
    def __init__(self, vacated_by: _Optional[str] = ..., substitute_id: _Optional[str] = ..., substitute_rank: _Optional[int] = ...) -> None: ...

class MemberResponded(_message.Message):
    __slots__ = ("member_id", "answer")
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    ANSWER_FIELD_NUMBER: _ClassVar[int]
    member_id: str
    answer: str
    def __init__(self, member_id: _Optional[str] = ..., answer: _Optional[str] = ...) -> None: ...

class ReplacementRequested(_message.Message):
    __slots__ = ("vacated_by", "features", "before_session", "seated_ids", "withdrawn_ids")
    class FeaturesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    VACATED_BY_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    BEFORE_SESSION_FIELD_NUMBER: _ClassVar[int]
    SEATED_IDS_FIELD_NUMBER: _ClassVar[int]
    WITHDRAWN_IDS_FIELD_NUMBER: _ClassVar[int]
    vacated_by: str
    features: _containers.ScalarMap[str, str]
    before_session: int
    seated_ids: _containers.RepeatedScalarFieldContainer[str]
    withdrawn_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, vacated_by: _Optional[str] = ..., features: _Optional[_Mapping[str, str]] = ..., before_session: _Optional[int] = ..., seated_ids: _Optional[_Iterable[str]] = ..., withdrawn_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class AttendanceFlagged(_message.Message):
    __slots__ = ("member_id", "hours_attended", "hours_held", "min_share")
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    HOURS_ATTENDED_FIELD_NUMBER: _ClassVar[int]
    HOURS_HELD_FIELD_NUMBER: _ClassVar[int]
    MIN_SHARE_FIELD_NUMBER: _ClassVar[int]
    member_id: str
    hours_attended: float
    hours_held: float
    min_share: float
    def __init__(self, member_id: _Optional[str] = ..., hours_attended: _Optional[float] = ..., hours_held: _Optional[float] = ..., min_share: _Optional[float] = ...) -> None: ...

class GroupsAssigned(_message.Message):
    __slots__ = ("session_id", "agenda_item_id", "tables", "seated", "distinct_pairs_so_far", "repeat_pairs_so_far")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    AGENDA_ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    TABLES_FIELD_NUMBER: _ClassVar[int]
    SEATED_FIELD_NUMBER: _ClassVar[int]
    DISTINCT_PAIRS_SO_FAR_FIELD_NUMBER: _ClassVar[int]
    REPEAT_PAIRS_SO_FAR_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    agenda_item_id: str
    tables: int
    seated: int
    distinct_pairs_so_far: int
    repeat_pairs_so_far: int
    def __init__(self, session_id: _Optional[str] = ..., agenda_item_id: _Optional[str] = ..., tables: _Optional[int] = ..., seated: _Optional[int] = ..., distinct_pairs_so_far: _Optional[int] = ..., repeat_pairs_so_far: _Optional[int] = ...) -> None: ...

class SessionSummary(_message.Message):
    __slots__ = ("session_id", "title", "date", "planned_hours", "held", "present", "seated")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DATE_FIELD_NUMBER: _ClassVar[int]
    PLANNED_HOURS_FIELD_NUMBER: _ClassVar[int]
    HELD_FIELD_NUMBER: _ClassVar[int]
    PRESENT_FIELD_NUMBER: _ClassVar[int]
    SEATED_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    title: str
    date: str
    planned_hours: float
    held: bool
    present: int
    seated: int
    def __init__(self, session_id: _Optional[str] = ..., title: _Optional[str] = ..., date: _Optional[str] = ..., planned_hours: _Optional[float] = ..., held: _Optional[bool] = ..., present: _Optional[int] = ..., seated: _Optional[int] = ...) -> None: ...

class CompositionCount(_message.Message):
    __slots__ = ("feature", "value", "drawn", "seated")
    FEATURE_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    DRAWN_FIELD_NUMBER: _ClassVar[int]
    SEATED_FIELD_NUMBER: _ClassVar[int]
    feature: str
    value: str
    drawn: int
    seated: int
    def __init__(self, feature: _Optional[str] = ..., value: _Optional[str] = ..., drawn: _Optional[int] = ..., seated: _Optional[int] = ...) -> None: ...

class GuestHeard(_message.Message):
    __slots__ = ("session_id", "kind", "name", "organisation")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ORGANISATION_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    kind: str
    name: str
    organisation: str
    def __init__(self, session_id: _Optional[str] = ..., kind: _Optional[str] = ..., name: _Optional[str] = ..., organisation: _Optional[str] = ...) -> None: ...

class ProcessSummarised(_message.Message):
    __slots__ = ("sessions", "composition", "seats", "withdrawals", "withdrawals_after_cutoff", "replacements", "open_vacancies", "guests", "declined_offers")
    SESSIONS_FIELD_NUMBER: _ClassVar[int]
    COMPOSITION_FIELD_NUMBER: _ClassVar[int]
    SEATS_FIELD_NUMBER: _ClassVar[int]
    WITHDRAWALS_FIELD_NUMBER: _ClassVar[int]
    WITHDRAWALS_AFTER_CUTOFF_FIELD_NUMBER: _ClassVar[int]
    REPLACEMENTS_FIELD_NUMBER: _ClassVar[int]
    OPEN_VACANCIES_FIELD_NUMBER: _ClassVar[int]
    GUESTS_FIELD_NUMBER: _ClassVar[int]
    DECLINED_OFFERS_FIELD_NUMBER: _ClassVar[int]
    sessions: _containers.RepeatedCompositeFieldContainer[SessionSummary]
    composition: _containers.RepeatedCompositeFieldContainer[CompositionCount]
    seats: int
    withdrawals: int
    withdrawals_after_cutoff: int
    replacements: int
    open_vacancies: int
    guests: _containers.RepeatedCompositeFieldContainer[GuestHeard]
    declined_offers: int
    def __init__(self, sessions: _Optional[_Iterable[_Union[SessionSummary, _Mapping]]] = ..., composition: _Optional[_Iterable[_Union[CompositionCount, _Mapping]]] = ..., seats: _Optional[int] = ..., withdrawals: _Optional[int] = ..., withdrawals_after_cutoff: _Optional[int] = ..., replacements: _Optional[int] = ..., open_vacancies: _Optional[int] = ..., guests: _Optional[_Iterable[_Union[GuestHeard, _Mapping]]] = ..., declined_offers: _Optional[int] = ...) -> None: ...
