"""``kleroterion demo`` end to end on a smaller population: every output is written, the
printed ``kleroterion verify`` command reproduces the drawn panel, and the panel has its
seats and meets the quotas."""
from __future__ import annotations

import json
import re
import shlex
from collections import Counter

import pytest

from demos import run
from kleroterion import cli


@pytest.mark.slow
def test_demo_runs_a_whole_assembly(tmp_path, capsys):
    out = tmp_path / "demo"
    assert run(out, population=20_000, invitations=2_000) == 0
    printed = capsys.readouterr().out

    for name in ("hovedstaden-klima-2025-final-report-da.html",
                 "hovedstaden-klima-2025-final-report-da.pdf",
                 "hovedstaden-klima-2025-final-report-en.pdf", "transparency.html",
                 "composition.png", "lottery.json", "lottery.json.sha256", "region.toml"):
        assert (out / name).stat().st_size > 0, name
    assert (out / "composition.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "hovedstaden-klima-2025-final-report-da.pdf").read_bytes()[:5] == b"%PDF-"
    assert list((out / "channels" / "digital_post" / "outbox").glob("*.xml"))
    assert list((out / "channels" / "letter").glob("letters-*.pdf"))

    panel = json.loads((out / "panel.json").read_text())
    assert len(panel["panel_ids"]) == 36 and len(set(panel["panel_ids"])) == 36
    for q in panel["quotas"]:
        n = Counter(panel["pool_features"][i][q["feature"]] for i in panel["panel_ids"])
        assert q["min"] <= n[q["value"]] <= q["max"], q
    # The dropout was replaced: the final panel still has every seat.
    assert panel["withdrawn"] and panel["replacement"]
    assert len(panel["final_panel"]) == 36 and panel["withdrawn"] not in panel["final_panel"]

    # At least one recommendation adopted and one not, as the report says.
    assert "ADOPTED" in printed and "not adopted" in printed
    html = (out / "hovedstaden-klima-2025-final-report-da.html").read_text()
    assert "Vedtagne anbefalinger" in html

    # The printed command re-checks the draw from the published file and the seed.
    command = re.search(r"check the draw yourself: (kleroterion verify .+)", printed).group(1)
    argv = shlex.split(command)[1:]
    assert cli.main(argv) == 0
    verified = capsys.readouterr().out
    assert f"panel index: {panel['panel_index']} of 1000" in verified
    drawn = re.search(r"^panel: (.+)$", verified, re.M).group(1).split(",")
    assert sorted(drawn) == sorted(panel["panel_ids"])
