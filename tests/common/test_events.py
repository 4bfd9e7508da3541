import pytest

from services.common import events
from services.contracts.kleroterion.v1.envelope_pb2 import Envelope
from services.contracts.kleroterion.v1.sortition_events_pb2 import PanelDrawn


def test_envelope_round_trip_and_topic_rule():
    e = events.new_event(PanelDrawn(run_id="r1", member_ids=["p1", "p2"]), assembly_id="as-1",
                         region="hovedstaden", producer="sortition", correlation_id="c1")
    back = events.decode(events.encode(e))
    assert back.event_type == "panel_drawn" and back.panel_drawn.member_ids == ["p1", "p2"]
    assert back.schema_version == events.SCHEMA_VERSION and back.region == "hovedstaden"
    assert back.occurred_at.seconds > 0 and len(back.event_id) == 36
    assert events.topic_for("panel_drawn") == "kleroterion.sortition.panel_drawn"
    assert events.topic_for("signup_received", "dk") == "dk.registry.signup_received"
    assert events.dead_letter_topic("sessions.panel") == "kleroterion.dead-letter.sessions.panel"


def test_every_event_type_has_an_owner():
    assert set(events.EVENT_TYPES.values()) <= {"registry", "sortition", "sessions",
                                                "recommendations", "platform"}


@pytest.mark.parametrize("data,field", [
    (b"\xff\xff\xff", "envelope"),
    (Envelope(event_type="panel_drawn").SerializeToString(), "event_id"),
    (Envelope(event_id="x", event_type="panel_drawn").SerializeToString(), "payload"),
])
def test_poison_is_named(data, field):
    with pytest.raises(events.EventError) as err:
        events.decode(data)
    assert err.value.field == field


def test_mismatched_type_is_poison():
    e = events.new_event(PanelDrawn(run_id="r"), assembly_id="a", region="r", producer="p")
    e.event_type = "seat_filled"
    with pytest.raises(events.EventError, match="event_type"):
        events.decode(e.SerializeToString())


def test_new_event_checks_input():
    with pytest.raises(events.EventError, match="assembly_id"):
        events.new_event(PanelDrawn(), assembly_id="", region="r", producer="p")
    with pytest.raises(events.EventError, match="payload"):
        events.new_event(Envelope(), assembly_id="a", region="r", producer="p")
