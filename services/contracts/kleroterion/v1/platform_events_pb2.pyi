from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class BusProbe(_message.Message):
    __slots__ = ("note", "sequence")
    NOTE_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    note: str
    sequence: int
    def __init__(self, note: _Optional[str] = ..., sequence: _Optional[int] = ...) -> None: ...

class AssemblyCreated(_message.Message):
    __slots__ = ("name", "format", "seats", "scope")
    NAME_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    SEATS_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    name: str
    format: str
    seats: int
    scope: str
    def __init__(self, name: _Optional[str] = ..., format: _Optional[str] = ..., seats: _Optional[int] = ..., scope: _Optional[str] = ...) -> None: ...
