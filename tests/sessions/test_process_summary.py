"""The process snapshot for the evaluation: published with every change the sessions
service announces, computed in that change's transaction, counts only."""
from __future__ import annotations

from sessions_support import assembly_created, panel_drawn, session_body, substitutes_drawn

PANEL = [f"p{i:02d}" for i in range(12)]
FEATURES = {**{m: {"sex": "female" if i < 6 else "male"} for i, m in enumerate(PANEL)},
            "s1": {"sex": "male"}, "s2": {"sex": "male"}, "s3": {"sex": "female"}}
QUOTAS = [{"feature": "sex", "value": v, "min": 6, "max": 6} for v in ("female", "male")]


def _latest(sessions):
    return sessions.sent("process_summarised")[-1]


def _call(sessions, method, path, **body):
    r = sessions.call(method, path, role="facilitator", json=body)
    assert r.status_code == 200, r.json
    return r


def test_the_process_snapshot_follows_seats_sessions_and_dropouts(sessions):
    sessions.deliver(assembly_created())
    sessions.deliver(panel_drawn(PANEL, FEATURES, QUOTAS))
    sessions.deliver(substitutes_drawn(["s1", "s2", "s3"], features=FEATURES))
    seated = _latest(sessions)  # the panel's seating announces nothing else
    assert seated.seats == 12 and list(seated.sessions) == []
    assert {(c.feature, c.value, c.drawn, c.seated) for c in seated.composition} == {
        ("sex", "female", 6, 6), ("sex", "male", 6, 6)}

    for sid, day, hours in (("m1", 1, 7), ("m2", 8, 7), ("m3", 15, 5)):
        r = sessions.call("post", "/api/assemblies/a1/sessions",
                          json=session_body(sid, day, hours=hours))
        assert r.status_code == 201
    assert len(sessions.sent("process_summarised")) == 2  # a programme change has no event
    for member in PANEL:
        _call(sessions, "put", "/api/sessions/m1/attendance", member_id=member,
              present=member != "p05")
    _call(sessions, "post", "/api/sessions/m1/held")
    # Before the cut-off: p02 (a woman) is replaced by s3; p09 (a man) by s1, who declines,
    # and then by s2. After it: p08 leaves for good.
    before = len(sessions.sent("process_summarised"))
    _call(sessions, "post", "/api/assemblies/a1/members/p02/withdraw", before_session=2)
    assert len(sessions.sent("process_summarised")) == before + 1  # one per change, no echo
    _call(sessions, "post", "/api/assemblies/a1/members/s3/response", answer="confirmed")
    _call(sessions, "post", "/api/assemblies/a1/members/p09/withdraw", before_session=2)
    _call(sessions, "post", "/api/assemblies/a1/members/s1/response", answer="declined")
    _call(sessions, "post", "/api/assemblies/a1/members/p08/withdraw", before_session=3)
    for member in [*PANEL, "s2", "s3"]:
        if member not in ("p02", "p08", "p09"):
            _call(sessions, "put", "/api/sessions/m2/attendance", member_id=member,
                  present=member != "p00")
    _call(sessions, "post", "/api/sessions/m2/held")

    snap = _latest(sessions)
    assert [(s.session_id, s.date, s.planned_hours, s.held, s.present, s.seated)
            for s in snap.sessions] == [("m1", "2025-03-01", 7.0, True, 11, 12),
                                        ("m2", "2025-03-08", 7.0, True, 10, 11),
                                        ("m3", "2025-03-15", 5.0, False, 0, 0)]
    assert [s.title for s in snap.sessions] == ["Møde 1", "Møde 8", "Møde 15"]
    # Drawn: the panel as sortition drew it; seated: who holds a seat now (s2 and s3 came in,
    # p02, p08 and p09 left).
    assert {(c.feature, c.value, c.drawn, c.seated) for c in snap.composition} == {
        ("sex", "female", 6, 6), ("sex", "male", 6, 5)}
    assert snap.seats == 12
    # Seats given up: p02, p09, s1 (declined), p08 (after the cut-off).
    assert (snap.withdrawals, snap.withdrawals_after_cutoff) == (4, 1)
    assert (snap.replacements, snap.declined_offers, snap.open_vacancies) == (2, 1, 0)
    # Guests of the sessions held only: the third has not been.
    assert [(g.session_id, g.kind, g.name, g.organisation) for g in snap.guests] == [
        ("m1", "expert", "Prof. Ida Hansen", "DTU"), ("m2", "expert", "Prof. Ida Hansen", "DTU")]
    raw = snap.SerializeToString()
    assert not any(member.encode() in raw for member in [*PANEL, "s1", "s2", "s3"])


def test_a_top_up_request_leaves_the_vacancy_open_in_the_snapshot(sessions):
    sessions.deliver(assembly_created())
    sessions.deliver(panel_drawn(PANEL, FEATURES, QUOTAS))
    sessions.deliver(substitutes_drawn(["s1"], features=FEATURES))
    # A woman leaves and the only substitute is a man: sortition is asked for a top-up.
    _call(sessions, "post", "/api/assemblies/a1/members/p01/withdraw", before_session=1)
    assert sessions.sent("replacement_requested")
    snap = _latest(sessions)
    assert (snap.withdrawals, snap.open_vacancies, snap.replacements) == (1, 1, 0)
    assert {(c.value, c.drawn, c.seated) for c in snap.composition} == {
        ("female", 6, 5), ("male", 6, 6)}
    sessions.deliver(substitutes_drawn(["t1"], run_id="top", features={"t1": {"sex": "female"}}))
    snap = _latest(sessions)
    assert (snap.withdrawals, snap.open_vacancies, snap.replacements) == (1, 0, 1)
    assert {(c.value, c.drawn, c.seated) for c in snap.composition} == {
        ("female", 6, 6), ("male", 6, 6)}
