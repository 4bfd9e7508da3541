import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from services.contracts.kleroterion.v1 import platform_events_pb2 as _platform_events_pb2
from services.contracts.kleroterion.v1 import registry_events_pb2 as _registry_events_pb2
from services.contracts.kleroterion.v1 import sortition_events_pb2 as _sortition_events_pb2
from services.contracts.kleroterion.v1 import sessions_events_pb2 as _sessions_events_pb2
from services.contracts.kleroterion.v1 import recommendations_events_pb2 as _recommendations_events_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Envelope(_message.Message):
    __slots__ = ("event_id", "event_type", "occurred_at", "assembly_id", "region", "schema_version", "producer", "correlation_id", "invitation_requested", "invitation_delivered", "signup_received", "pool_exported", "funnel_counted", "seat_answered", "distribution_computed", "panel_drawn", "substitutes_drawn", "lottery_published", "member_withdrew", "seat_filled", "session_held", "seat_offered", "member_responded", "replacement_requested", "attendance_flagged", "groups_assigned", "process_summarised", "recommendation_adopted", "answer_recorded", "implementation_updated", "bus_probe", "assembly_created")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    ASSEMBLY_ID_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_VERSION_FIELD_NUMBER: _ClassVar[int]
    PRODUCER_FIELD_NUMBER: _ClassVar[int]
    CORRELATION_ID_FIELD_NUMBER: _ClassVar[int]
    INVITATION_REQUESTED_FIELD_NUMBER: _ClassVar[int]
    INVITATION_DELIVERED_FIELD_NUMBER: _ClassVar[int]
    SIGNUP_RECEIVED_FIELD_NUMBER: _ClassVar[int]
    POOL_EXPORTED_FIELD_NUMBER: _ClassVar[int]
    FUNNEL_COUNTED_FIELD_NUMBER: _ClassVar[int]
    SEAT_ANSWERED_FIELD_NUMBER: _ClassVar[int]
    DISTRIBUTION_COMPUTED_FIELD_NUMBER: _ClassVar[int]
    PANEL_DRAWN_FIELD_NUMBER: _ClassVar[int]
    SUBSTITUTES_DRAWN_FIELD_NUMBER: _ClassVar[int]
    LOTTERY_PUBLISHED_FIELD_NUMBER: _ClassVar[int]
    MEMBER_WITHDREW_FIELD_NUMBER: _ClassVar[int]
    SEAT_FILLED_FIELD_NUMBER: _ClassVar[int]
    SESSION_HELD_FIELD_NUMBER: _ClassVar[int]
    SEAT_OFFERED_FIELD_NUMBER: _ClassVar[int]
    MEMBER_RESPONDED_FIELD_NUMBER: _ClassVar[int]
    REPLACEMENT_REQUESTED_FIELD_NUMBER: _ClassVar[int]
    ATTENDANCE_FLAGGED_FIELD_NUMBER: _ClassVar[int]
    GROUPS_ASSIGNED_FIELD_NUMBER: _ClassVar[int]
    PROCESS_SUMMARISED_FIELD_NUMBER: _ClassVar[int]
    RECOMMENDATION_ADOPTED_FIELD_NUMBER: _ClassVar[int]
    ANSWER_RECORDED_FIELD_NUMBER: _ClassVar[int]
    IMPLEMENTATION_UPDATED_FIELD_NUMBER: _ClassVar[int]
    BUS_PROBE_FIELD_NUMBER: _ClassVar[int]
    ASSEMBLY_CREATED_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    event_type: str
    occurred_at: _timestamp_pb2.Timestamp
    assembly_id: str
    region: str
    schema_version: int
    producer: str
    correlation_id: str
    invitation_requested: _registry_events_pb2.InvitationRequested
    invitation_delivered: _registry_events_pb2.InvitationDelivered
    signup_received: _registry_events_pb2.SignupReceived
    pool_exported: _registry_events_pb2.PoolExported
    funnel_counted: _registry_events_pb2.FunnelCounted
    seat_answered: _registry_events_pb2.SeatAnswered
    distribution_computed: _sortition_events_pb2.DistributionComputed
    panel_drawn: _sortition_events_pb2.PanelDrawn
    substitutes_drawn: _sortition_events_pb2.SubstitutesDrawn
    lottery_published: _sortition_events_pb2.LotteryPublished
    member_withdrew: _sessions_events_pb2.MemberWithdrew
    seat_filled: _sessions_events_pb2.SeatFilled
    session_held: _sessions_events_pb2.SessionHeld
    seat_offered: _sessions_events_pb2.SeatOffered
    member_responded: _sessions_events_pb2.MemberResponded
    replacement_requested: _sessions_events_pb2.ReplacementRequested
    attendance_flagged: _sessions_events_pb2.AttendanceFlagged
    groups_assigned: _sessions_events_pb2.GroupsAssigned
    process_summarised: _sessions_events_pb2.ProcessSummarised
    recommendation_adopted: _recommendations_events_pb2.RecommendationAdopted
    answer_recorded: _recommendations_events_pb2.AnswerRecorded
    implementation_updated: _recommendations_events_pb2.ImplementationUpdated
    bus_probe: _platform_events_pb2.BusProbe
    assembly_created: _platform_events_pb2.AssemblyCreated
    def __init__(self, event_id: _Optional[str] = ..., event_type: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., assembly_id: _Optional[str] = ..., region: _Optional[str] = ..., schema_version: _Optional[int] = ..., producer: _Optional[str] = ..., correlation_id: _Optional[str] = ..., invitation_requested: _Optional[_Union[_registry_events_pb2.InvitationRequested, _Mapping]] = ..., invitation_delivered: _Optional[_Union[_registry_events_pb2.InvitationDelivered, _Mapping]] = ..., signup_received: _Optional[_Union[_registry_events_pb2.SignupReceived, _Mapping]] = ..., pool_exported: _Optional[_Union[_registry_events_pb2.PoolExported, _Mapping]] = ..., funnel_counted: _Optional[_Union[_registry_events_pb2.FunnelCounted, _Mapping]] = ..., seat_answered: _Optional[_Union[_registry_events_pb2.SeatAnswered, _Mapping]] = ..., distribution_computed: _Optional[_Union[_sortition_events_pb2.DistributionComputed, _Mapping]] = ..., panel_drawn: _Optional[_Union[_sortition_events_pb2.PanelDrawn, _Mapping]] = ..., substitutes_drawn: _Optional[_Union[_sortition_events_pb2.SubstitutesDrawn, _Mapping]] = ..., lottery_published: _Optional[_Union[_sortition_events_pb2.LotteryPublished, _Mapping]] = ..., member_withdrew: _Optional[_Union[_sessions_events_pb2.MemberWithdrew, _Mapping]] = ..., seat_filled: _Optional[_Union[_sessions_events_pb2.SeatFilled, _Mapping]] = ..., session_held: _Optional[_Union[_sessions_events_pb2.SessionHeld, _Mapping]] = ..., seat_offered: _Optional[_Union[_sessions_events_pb2.SeatOffered, _Mapping]] = ..., member_responded: _Optional[_Union[_sessions_events_pb2.MemberResponded, _Mapping]] = ..., replacement_requested: _Optional[_Union[_sessions_events_pb2.ReplacementRequested, _Mapping]] = ..., attendance_flagged: _Optional[_Union[_sessions_events_pb2.AttendanceFlagged, _Mapping]] = ..., groups_assigned: _Optional[_Union[_sessions_events_pb2.GroupsAssigned, _Mapping]] = ..., process_summarised: _Optional[_Union[_sessions_events_pb2.ProcessSummarised, _Mapping]] = ..., recommendation_adopted: _Optional[_Union[_recommendations_events_pb2.RecommendationAdopted, _Mapping]] = ..., answer_recorded: _Optional[_Union[_recommendations_events_pb2.AnswerRecorded, _Mapping]] = ..., implementation_updated: _Optional[_Union[_recommendations_events_pb2.ImplementationUpdated, _Mapping]] = ..., bus_probe: _Optional[_Union[_platform_events_pb2.BusProbe, _Mapping]] = ..., assembly_created: _Optional[_Union[_platform_events_pb2.AssemblyCreated, _Mapping]] = ...) -> None: ...
