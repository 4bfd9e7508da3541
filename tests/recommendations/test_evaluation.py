"""The evaluation: facts from the other services' aggregate events, representativeness with
small cells suppressed, process, experience and impact, and the reports through the hooks."""
from datetime import date

import pytest
from recommendations_support import ASSEMBLY, MEMBERS, adopt, codes

from services.common import events
from services.common.hookspecs import ReportSection, hookimpl
from services.contracts.kleroterion.v1.registry_events_pb2 import FunnelCount, FunnelCounted
from services.contracts.kleroterion.v1.sessions_events_pb2 import (
    CompositionCount,
    GuestHeard,
    ProcessSummarised,
    SessionHeld,
    SessionSummary,
)
from services.contracts.kleroterion.v1.sortition_events_pb2 import DistributionComputed
from services.recommendations.evaluation import suppress

FUNNEL = FunnelCounted(population_total=10_000, invited_total=2_000, signed_up_total=100,
                       pool_version="v1", counts=[
    FunnelCount(feature="sex", value="f", population=5_100, invited=1_000, signed_up=40),
    FunnelCount(feature="sex", value="m", population=4_900, invited=1_000, signed_up=60),
    FunnelCount(feature="age_band", value="18-29", population=2_000, invited=400, signed_up=3),
    FunnelCount(feature="age_band", value="30-59", population=5_000, invited=1_000,
                signed_up=47),
    FunnelCount(feature="age_band", value="60+", population=3_000, invited=600, signed_up=50),
    FunnelCount(feature="education", value="short", signed_up=30),
    FunnelCount(feature="education", value="long", signed_up=70)])

PROCESS = ProcessSummarised(
    seats=8, withdrawals=1, withdrawals_after_cutoff=0, replacements=1, open_vacancies=0,
    declined_offers=1,
    sessions=[SessionSummary(session_id="s1", title="Opstart", date="2025-01-10",
                             planned_hours=7, held=True, present=8, seated=8),
              SessionSummary(session_id="s2", title="Høring", date="2025-01-24",
                             planned_hours=7)],
    composition=[CompositionCount(feature="sex", value="f", drawn=4, seated=4),
                 CompositionCount(feature="sex", value="m", drawn=4, seated=4),
                 CompositionCount(feature="age_band", value="18-29", drawn=2, seated=1),
                 CompositionCount(feature="age_band", value="30-59", drawn=3, seated=4),
                 CompositionCount(feature="age_band", value="60+", drawn=3, seated=3),
                 CompositionCount(feature="education", value="short", drawn=3, seated=3),
                 CompositionCount(feature="education", value="long", drawn=5, seated=5)],
    guests=[GuestHeard(session_id="s1", kind="expert", name="Prof. Hansen",
                       organisation="DTU")])


def _feature(data, name):
    return next(f for f in data["representativeness"]["features"] if f["feature"] == name)


def test_suppression_hides_small_cells_and_a_lone_one_s_complement():
    assert suppress([2, 3, 50], 5) == [True, True, False]
    assert suppress([2, 30, 50], 5) == [True, True, False]  # else 2 = total - 80
    assert suppress([0, 30, 50], 5) == [False, False, False]  # zero is not a person
    assert suppress([None, 7], 5) == [False, False]
    assert suppress([4], 5) == [True]


def test_evaluation_joins_the_services_facts(recommendations):
    recommendations.publish(FUNNEL)
    recommendations.publish(DistributionComputed(run_id="r1", algorithm="leximin",
                                                 min_probability=0.05,
                                                 gini=0.12, geometric_mean=0.07,
                                                 share_below_k_over_n=0.3,
                                                 pool_size=100, seats=8, lottery_size=1000,
                                                 lottery_sha256="ab" * 32))
    recommendations.publish(PROCESS)
    recommendations.publish(SessionHeld(session_id="s1", hours=6.5, present=7, seated=8))
    r = recommendations.call("put", f"/assemblies/{ASSEMBLY}/evaluation/population-targets",
                             population_targets={"education": {"short": 0.6, "long": 0.4}})
    assert r.status_code == 200, r.json
    data = recommendations.call("get", f"/assemblies/{ASSEMBLY}/evaluation").json
    assert data["min_cell"] == 5
    sex = _feature(data, "sex")
    f = next(row for row in sex["rows"] if row["value"] == "f")
    assert f["population"] == {"count": 5100, "share": 0.51, "suppressed": False}
    assert f["signed_up"]["share"] == 0.4
    # the panel's cells of 4 are below 5: hidden, with their shares
    assert f["drawn"] == {"count": None, "share": None, "suppressed": True}
    age = _feature(data, "age_band")
    young = next(row for row in age["rows"] if row["value"] == "18-29")
    assert young["signed_up"]["suppressed"]  # 3 volunteers
    assert age["distance_signed_up"] is None  # a hidden cell would leak through it
    assert sex["distance_signed_up"] == pytest.approx(0.11)
    edu = _feature(data, "education")
    assert edu["population_source"] == "targets"
    assert [row["population"]["share"] for row in edu["rows"]] == [0.4, 0.6]  # long, short
    assert edu["distance_signed_up"] == pytest.approx(0.3)
    assert edu["rows"][0]["invited"]["count"] is None  # the extract does not hold it
    assert data["representativeness"]["totals"] == {
        "population": 10000, "invited": 2000, "signed_up": 100, "drawn": 8, "seated": 8}
    sel = data["selection"]
    assert sel["min_probability"] == 0.05 and sel["k_over_n"] == 0.08
    p = data["process"]
    assert (p["sessions_planned"], p["sessions_held"]) == (2, 1)
    assert (p["planned_hours"], p["held_hours"]) == (14, 6.5)
    assert p["sessions"][0]["present"] == 7 and p["mean_attendance"] == 0.875
    assert (p["withdrawals"], p["replacements"], p["declined_offers"]) == (1, 1, 1)
    assert p["guests"][0]["name"] == "Prof. Hansen"


def test_an_older_snapshot_does_not_replace_a_newer_one(recommendations):
    newer = events.new_event(PROCESS, assembly_id=ASSEMBLY, region="test", producer="test")
    older = events.new_event(ProcessSummarised(seats=8, withdrawals=5), assembly_id=ASSEMBLY,
                             region="test", producer="test")
    older.occurred_at.FromSeconds(newer.occurred_at.seconds - 60)
    for envelope in (newer, older):
        recommendations.bus.publish(envelope)
    while recommendations.consumer.poll_once(0.01):
        pass
    data = recommendations.call("get", f"/assemblies/{ASSEMBLY}/evaluation").json
    assert data["process"]["withdrawals"] == 1


def test_bad_population_targets_are_refused(recommendations):
    for body, field in [({}, "population_targets"),
                        ({"population_targets": {"education": {"a": 0.5, "b": 0.2}}},
                         "population_targets.education"),
                        ({"population_targets": {"education": {"a": 1.5}}},
                         "population_targets.education.a"),
                        ({"population_targets": {"education": []}},
                         "population_targets.education")]:
        r = recommendations.call("put", f"/assemblies/{ASSEMBLY}/evaluation/population-targets",
                                 **body)
        assert r.status_code == 400 and r.json["field"] == field, r.json
    assert recommendations.call("get", "/assemblies/nope/evaluation").status_code == 404


def _handover(recommendations):
    r = recommendations.call("put", f"/assemblies/{ASSEMBLY}/handover", role="administration",
                             receiving_body="Regionsrådet", body_kind="regional_council",
                             handed_over_on="2025-03-01", answer_deadline="2025-06-01")
    assert r.status_code == 200, r.json


def test_impact_a_year_on_and_answers_on_time(recommendations):
    rec_id, _ = adopt(recommendations)
    _handover(recommendations)
    recommendations.clock.today = date(2025, 7, 1)
    recommendations.call("post", f"/recommendations/{rec_id}/answers", role="administration",
                         answer="partly_accepted", reasons="Delvist", answered_on="2025-06-15")
    recommendations.call("post", f"/recommendations/{rec_id}/implementation", role="administration",
                         status="in_progress", percent=30)
    data = recommendations.call("get", f"/assemblies/{ASSEMBLY}/evaluation").json
    assert data["process"]["answers"] == {"on_time": 0, "late": 1, "not_yet": 0,
                                          "deadline": "2025-06-01"}
    impact = data["impact"]
    assert not impact["final"] and impact["as_of"] == "2025-07-01"
    assert impact["answers"] == {"partly_accepted": 1}
    # A later update does not count for the year-on view.
    recommendations.clock.today = date(2026, 6, 1)
    recommendations.call("post", f"/recommendations/{rec_id}/implementation", role="administration",
                         status="done", percent=100)
    impact = recommendations.call("get", f"/assemblies/{ASSEMBLY}/evaluation").json["impact"]
    assert impact["final"] and impact["as_of"] == "2026-03-01"
    assert impact["implementation"] == {"in_progress": 1}
    assert impact["recommendations"][0]["percent"] == 30


class RegionSection:
    """A region's own section, between the built-in ones, and one for the organisers."""

    @hookimpl
    def evaluation_report_sections(self, evaluation, language):
        return [ReportSection("region_budget", "Regionens budget", 25, ["Budget: 1,2 mio. kr."]),
                ReportSection("region_internal", "Kun internt", 60, ["Hemmeligt"],
                              public=False)]


def _full_assembly(recommendations):
    recommendations.publish(FUNNEL)
    recommendations.publish(PROCESS)
    q = recommendations.call("post", f"/assemblies/{ASSEMBLY}/questionnaires", audience="member",
                             stage="final").json
    member_codes = codes(recommendations)
    for n, member in enumerate(MEMBERS[:6]):
        r = recommendations.client.post(f"/public/questionnaires/{q['questionnaire_id']}/responses",
                                        json={"member_code": member_codes[member],
                                              "answers": {"heard": str(3 + n % 3),
                                                          "comment": f"Personlig kommentar {n}"}})
        assert r.status_code == 201


def test_reports_render_every_plugin_s_sections_public_and_internal(recommendations):
    recommendations.ctx.plugins.pm.register(RegionSection(), name="region")
    _full_assembly(recommendations)
    listing = recommendations.call("get",
                                   f"/assemblies/{ASSEMBLY}/evaluation/reports/da").json["reports"]
    names = {f["name"] for f in listing}
    stem = f"{ASSEMBLY}-evaluation-internal-da"
    assert {f"{stem}.html", f"{stem}.pdf", f"{stem}-representativeness-sex.svg",
            f"{stem}-representativeness-sex.png"} <= names
    internal = recommendations.call("get",
                                    f"/assemblies/{ASSEMBLY}/evaluation/reports/da/{stem}.html")
    html = internal.get_data(as_text=True)
    order = [html.index(f'id="{key}"') for key in ("representativeness", "region_budget",
                                                   "process", "experience", "impact",
                                                   "region_internal")]
    assert order == sorted(order)
    assert "Personlig kommentar 3" in html and "<svg" in html and "&lt; 5" in html
    pdf = recommendations.call("get", f"/assemblies/{ASSEMBLY}/evaluation/reports/da/{stem}.pdf")
    assert pdf.data.startswith(b"%PDF") and pdf.mimetype == "application/pdf"

    index = recommendations.client.get(f"/public/assemblies/{ASSEMBLY}/evaluation?lang=en")
    assert index.status_code == 200
    public_html_name = f"{ASSEMBLY}-evaluation-public-en.html"
    assert public_html_name in index.get_data(as_text=True)
    public = recommendations.client.get(
        f"/public/assemblies/{ASSEMBLY}/evaluation/en/{public_html_name}")
    text = public.get_data(as_text=True)
    assert public.status_code == 200 and "Representativeness" in text
    assert "Regionens budget" in text
    assert "Personlig kommentar" not in text and "Kun internt" not in text
    assert "6 responses from members" in text
    # the operators' files are not public
    r = recommendations.client.get(f"/assemblies/{ASSEMBLY}/evaluation/reports/da/{stem}.html")
    assert r.status_code == 401
    page = recommendations.client.get(f"/public/assemblies/{ASSEMBLY}?lang=en").get_data(
        as_text=True)
    assert f"/public/assemblies/{ASSEMBLY}/evaluation?lang=en" in page
    assert recommendations.client.get(
        f"/public/assemblies/{ASSEMBLY}/evaluation?lang=fr").status_code == 400
    missing = recommendations.client.get(f"/public/assemblies/{ASSEMBLY}/evaluation/en/nothing.pdf")
    assert missing.status_code == 404 and missing.json["field"] == "name"


def test_a_plugin_returning_something_else_is_named(recommendations):
    class Broken:
        @hookimpl
        def evaluation_report_sections(self, evaluation, language):
            return ["not a section"]

    recommendations.ctx.plugins.pm.register(Broken(), name="broken")
    from services.common.plugins import PluginError
    with pytest.raises(PluginError, match="broken"):
        recommendations.ctx.plugins.evaluation_sections(
            recommendations.call("get", f"/assemblies/{ASSEMBLY}/evaluation").json, "da")


class CountingSection:
    """Counts how often the report's sections are asked for (once per rendering)."""

    calls = 0

    @hookimpl
    def evaluation_report_sections(self, evaluation, language):
        CountingSection.calls += 1
        return []


def test_the_files_of_one_report_are_rendered_once_until_the_data_change(recommendations):
    recommendations.ctx.plugins.pm.register(CountingSection(), name="counting")
    CountingSection.calls = 0
    recommendations.publish(FUNNEL)
    index = recommendations.client.get(f"/public/assemblies/{ASSEMBLY}/evaluation?lang=da")
    assert index.status_code == 200
    for name in (f"{ASSEMBLY}-evaluation-public-da.html", f"{ASSEMBLY}-evaluation-public-da.pdf"):
        assert recommendations.client.get(
            f"/public/assemblies/{ASSEMBLY}/evaluation/da/{name}").status_code == 200
    assert CountingSection.calls == 1
    recommendations.publish(PROCESS)  # new data: a new rendering, with the panel in it
    html = recommendations.client.get(f"/public/assemblies/{ASSEMBLY}/evaluation/da/"
                                      f"{ASSEMBLY}-evaluation-public-da.html").get_data(as_text=True)
    assert CountingSection.calls == 2 and "Udtrukne" in html
