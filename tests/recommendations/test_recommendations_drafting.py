"""Drafting: versions, amendments, merge and split."""
from recommendations_support import ASSEMBLY, draft


def test_edits_keep_every_version(recommendations):
    rec = draft(recommendations)
    assert rec["version"] == 1 and rec["number"] == 1 and rec["values"] == ["sundhed"]
    r = recommendations.call("put", f"/recommendations/{rec['id']}", text="Ny tekst",
                             note="gruppe 2")
    assert r.status_code == 200 and r.json["version"] == 2 and r.json["text"] == "Ny tekst"
    assert r.json["title"] == "Flere cykelstier"  # unchanged fields carry over
    old = recommendations.call("get", f"/recommendations/{rec['id']}/versions/1").json
    assert old["text"] == "Flere cykelstier: tekst"
    assert [v["version"] for v in r.json["versions"]] == [1, 2]


def test_bad_draft_names_the_field_and_writes_nothing(recommendations):
    r = recommendations.call("post", f"/assemblies/{ASSEMBLY}/recommendations", title="", text="x")
    assert r.status_code == 400 and r.json["field"] == "title"
    r = recommendations.call("post", f"/assemblies/{ASSEMBLY}/recommendations", title="t", text="x",
                             values="sundhed")
    assert r.json["field"] == "values"
    r = recommendations.call("post", f"/assemblies/{ASSEMBLY}/recommendations",
                             role="administration",
                             title="t", text="x")
    assert r.status_code == 403
    listed = recommendations.call("get", f"/assemblies/{ASSEMBLY}/recommendations")
    assert listed.json["recommendations"] == []


def test_amendments_are_proposed_then_accepted_or_rejected(recommendations):
    rec = draft(recommendations)
    r = recommendations.call("post", f"/recommendations/{rec['id']}/amendments",
                             changes={"title": "Sikre cykelstier"}, rationale="Tryghed")
    assert r.status_code == 201 and r.json["status"] == "proposed"
    a1 = r.json["id"]
    a2 = recommendations.call("post", f"/recommendations/{rec['id']}/amendments",
                              changes={"rationale": "Sundhed og klima"}).json["id"]
    a3 = recommendations.call("post", f"/recommendations/{rec['id']}/amendments",
                              changes={"title": "Brede cykelstier"}).json["id"]
    # A proposal alone changes nothing.
    assert recommendations.call("get", f"/recommendations/{rec['id']}").json["version"] == 1
    r = recommendations.call("post", f"/amendments/{a1}/accept")
    assert r.status_code == 200 and r.json["version"] == 2 and r.json["title"] == "Sikre cykelstier"
    # Written against version 1 but touching another field: still applies.
    r = recommendations.call("post", f"/amendments/{a2}/accept")
    assert r.json["version"] == 3 and r.json["rationale"] == "Sundhed og klima"
    assert r.json["title"] == "Sikre cykelstier"
    # The title changed since a3's base version: refused, nothing written.
    r = recommendations.call("post", f"/amendments/{a3}/accept")
    assert r.status_code == 409 and r.json["field"] == "changes"
    assert recommendations.call("get", f"/recommendations/{rec['id']}").json["version"] == 3
    assert recommendations.call("post", f"/amendments/{a3}/reject").json["status"] == "rejected"
    assert recommendations.call("post", f"/amendments/{a3}/accept").status_code == 409
    got = recommendations.call("get", f"/recommendations/{rec['id']}").json
    assert [(a["status"], a["result_version"]) for a in got["amendments"]] == [
        ("accepted", 2), ("accepted", 3), ("rejected", None)]
    assert [v["reason"] for v in got["versions"]] == ["draft", "amendment", "amendment"]
    r = recommendations.call("post", f"/recommendations/{rec['id']}/amendments",
                             changes={"colour": "x"})
    assert r.status_code == 400 and r.json["field"] == "changes"
    r = recommendations.call("post", "/amendments/nope/accept")
    assert r.status_code == 404 and r.json["field"] == "amendment_id"


def test_merge_and_split_keep_their_lineage(recommendations):
    a, b, c = draft(recommendations, "Cykelstier"), draft(recommendations,
                                                          "Cykelparkering"), draft(recommendations,
                                                                                   "Busser")
    r = recommendations.call("post", f"/assemblies/{ASSEMBLY}/recommendations/merge",
                             sources=[a["id"], b["id"]], title="Cykling", text="Stier og parkering")
    assert r.status_code == 201
    merged = r.json
    assert sorted(merged["merged_from"]) == sorted([a["id"], b["id"]])
    assert merged["versions"][0]["reason"] == "merge" and merged["number"] == 4
    source = recommendations.call("get", f"/recommendations/{a['id']}").json
    assert source["status"] == "merged" and source["became"] == [merged["id"]]
    # A merged draft can no longer be changed, merged again or voted on.
    assert recommendations.call("put", f"/recommendations/{a['id']}", text="x").status_code == 409
    r = recommendations.call("post", f"/assemblies/{ASSEMBLY}/recommendations/merge",
                             sources=[a["id"], c["id"]], title="t", text="x")
    assert r.status_code == 409 and r.json["field"] == "sources[0]"
    assert recommendations.call("post", f"/recommendations/{a['id']}/rounds").status_code == 409
    r = recommendations.call("post", f"/recommendations/{c['id']}/split",
                             parts=[{"title": "Flere busser", "text": "x"},
                                    {"title": "Billigere busser", "text": "y"}])
    assert r.status_code == 201
    parts = r.json["parts"]
    assert [p["split_from"] for p in parts] == [[c["id"]], [c["id"]]]
    assert recommendations.call("get", f"/recommendations/{c['id']}").json["status"] == "split"
    r = recommendations.call("post", f"/recommendations/{parts[0]['id']}/split",
                             parts=[{"title": "x", "text": "y"}, {"text": "z"}])
    assert r.status_code == 400 and r.json["field"] == "parts[1].title"
    r = recommendations.call("post", f"/assemblies/{ASSEMBLY}/recommendations/merge",
                             sources=[parts[0]["id"], "unknown"], title="t", text="x")
    assert r.status_code == 404 and r.json["field"] == "sources[1]"
    assert recommendations.call("get",
                                f"/recommendations/{parts[0]['id']}").json["status"] == "draft"
