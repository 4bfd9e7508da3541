from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class RecommendationAdopted(_message.Message):
    __slots__ = ("recommendation_id", "title", "support_share", "threshold", "round_id", "round_number", "version", "votes", "abstentions")
    RECOMMENDATION_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    SUPPORT_SHARE_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    ROUND_ID_FIELD_NUMBER: _ClassVar[int]
    ROUND_NUMBER_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    VOTES_FIELD_NUMBER: _ClassVar[int]
    ABSTENTIONS_FIELD_NUMBER: _ClassVar[int]
    recommendation_id: str
    title: str
    support_share: float
    threshold: float
    round_id: str
    round_number: int
    version: int
    votes: int
    abstentions: int
    def __init__(self, recommendation_id: _Optional[str] = ..., title: _Optional[str] = ..., support_share: _Optional[float] = ..., threshold: _Optional[float] = ..., round_id: _Optional[str] = ..., round_number: _Optional[int] = ..., version: _Optional[int] = ..., votes: _Optional[int] = ..., abstentions: _Optional[int] = ...) -> None: ...

class AnswerRecorded(_message.Message):
    __slots__ = ("recommendation_id", "answer", "answered_by", "answered_on")
    RECOMMENDATION_ID_FIELD_NUMBER: _ClassVar[int]
    ANSWER_FIELD_NUMBER: _ClassVar[int]
    ANSWERED_BY_FIELD_NUMBER: _ClassVar[int]
    ANSWERED_ON_FIELD_NUMBER: _ClassVar[int]
    recommendation_id: str
    answer: str
    answered_by: str
    answered_on: str
    def __init__(self, recommendation_id: _Optional[str] = ..., answer: _Optional[str] = ..., answered_by: _Optional[str] = ..., answered_on: _Optional[str] = ...) -> None: ...

class ImplementationUpdated(_message.Message):
    __slots__ = ("recommendation_id", "status", "percent", "responsible_committee")
    RECOMMENDATION_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PERCENT_FIELD_NUMBER: _ClassVar[int]
    RESPONSIBLE_COMMITTEE_FIELD_NUMBER: _ClassVar[int]
    recommendation_id: str
    status: str
    percent: int
    responsible_committee: str
    def __init__(self, recommendation_id: _Optional[str] = ..., status: _Optional[str] = ..., percent: _Optional[int] = ..., responsible_committee: _Optional[str] = ...) -> None: ...
