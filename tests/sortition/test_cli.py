"""``kleroterion select`` and ``kleroterion verify`` end to end."""
from __future__ import annotations

import csv
import json

from kleroterion import cli
from services.sortition import draw as drawing


def _rows(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def test_select_writes_everything_and_verify_agrees(shared_instances, tmp_path, capsys):
    d = shared_instances / "example_small_20"
    out = tmp_path / "out"
    rc = cli.main(["select", "--categories", str(d / "categories.csv"), "--respondents",
                   str(d / "respondents.csv"), "--seats", "20", "--out", str(out),
                   "--seed", "4 8 15 16 23 42", "--quiet"])
    assert rc == 0
    selected, remaining = _rows(out / "selected.csv"), _rows(out / "remaining.csv")
    source = _rows(d / "respondents.csv")
    # the input's convention: same header, original rows, split 20 / the rest
    assert selected[0] == remaining[0] == source[0]
    assert len(selected) - 1 == 20 and len(selected) + len(remaining) - 2 == len(source) - 1
    probs = _rows(out / "probabilities.csv")
    assert probs[0] == ["id", "probability", "lottery_probability"] and len(probs) == 201
    assert min(float(r[1]) for r in probs[1:]) > 0.0999   # leximin optimum is uniform 0.1
    png = (out / "probabilities.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    digest = (out / "lottery.json.sha256").read_text().split()[0]
    assert digest == drawing.sha256_hex((out / "lottery.json").read_bytes())
    capsys.readouterr()

    rc = cli.main(["verify", "--lottery", str(out / "lottery.json"), "--seed", "4 8 15 16 23 42",
                   "--expect-sha256", digest])
    printed = capsys.readouterr().out
    assert rc == 0
    panel_line = next(line for line in printed.splitlines() if line.startswith("panel: "))
    lottery = json.loads((out / "lottery.json").read_bytes())
    index = int(next(line for line in printed.splitlines()
                     if line.startswith("panel index:")).split()[2])
    assert panel_line[len("panel: "):].split(",") == lottery["panels"][index]
    # no id column in this file: ids are data-row numbers, so selected.csv holds those rows
    chosen = {int(i) for i in lottery["panels"][index]}
    assert selected[1:] == [source[1 + i] for i in sorted(chosen)]


def test_verify_detects_a_tampered_lottery(shared_instances, tmp_path, capsys):
    d = shared_instances / "example_small_20"
    out = tmp_path / "out"
    assert cli.main(["select", "--categories", str(d / "categories.csv"), "--respondents",
                     str(d / "respondents.csv"), "--seats", "20", "--out", str(out),
                     "--publish-only", "--quiet", "--lottery-size", "100"]) == 0
    assert not (out / "selected.csv").exists()
    digest = (out / "lottery.json.sha256").read_text().split()[0]
    obj = json.loads((out / "lottery.json").read_bytes())
    obj["panels"][-1][0], obj["panels"][0][0] = obj["panels"][0][0], obj["panels"][-1][0]
    for p in obj["panels"]:
        p.sort()
    obj["panels"].sort()
    tampered = tmp_path / "tampered.json"
    tampered.write_bytes(drawing.canonical_bytes(obj))
    capsys.readouterr()
    rc = cli.main(["verify", "--lottery", str(tampered), "--seed", "1", "--expect-sha256", digest])
    assert rc == 1
    assert "MISMATCH" in capsys.readouterr().err
    assert cli.main(["verify", "--lottery", str(out / "lottery.json"), "--seed", "1",
                     "--expect-sha256", digest, "--expect-index", "100"]) == 1
