from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class RecommendationAdopted(_message.Message):
    __slots__ = ("recommendation_id", "title", "support_share")
    RECOMMENDATION_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    SUPPORT_SHARE_FIELD_NUMBER: _ClassVar[int]
    recommendation_id: str
    title: str
    support_share: float
    def __init__(self, recommendation_id: _Optional[str] = ..., title: _Optional[str] = ..., support_share: _Optional[float] = ...) -> None: ...

class AnswerRecorded(_message.Message):
    __slots__ = ("recommendation_id", "answer", "answered_by")
    RECOMMENDATION_ID_FIELD_NUMBER: _ClassVar[int]
    ANSWER_FIELD_NUMBER: _ClassVar[int]
    ANSWERED_BY_FIELD_NUMBER: _ClassVar[int]
    recommendation_id: str
    answer: str
    answered_by: str
    def __init__(self, recommendation_id: _Optional[str] = ..., answer: _Optional[str] = ..., answered_by: _Optional[str] = ...) -> None: ...
