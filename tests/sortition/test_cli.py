"""``kleroterion select`` and ``kleroterion verify`` end to end."""
from __future__ import annotations

import csv
import json

from kleroterion import cli
from services.sortition import draw as drawing


def _published(d, out):
    """What verify checks the lottery against: the quotas, the pool, the distribution."""
    return ["--categories", str(d / "categories.csv"), "--respondents",
            str(d / "respondents.csv"), "--probabilities", str(out / "probabilities.csv")]


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
                   "--expect-sha256", digest, *_published(d, out)])
    printed = capsys.readouterr().out
    assert rc == 0
    assert "every panel meets every quota" in printed
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
    rc = cli.main(["verify", "--lottery", str(tampered), "--seed", "1", "--expect-sha256", digest,
                   *_published(d, out)])
    assert rc == 1
    assert "MISMATCH" in capsys.readouterr().err
    assert cli.main(["verify", "--lottery", str(out / "lottery.json"), "--seed", "1",
                     "--expect-sha256", digest, "--expect-index", "100",
                     *_published(d, out)]) == 1


def _lottery_of(obj, tmp_path, name):
    for p in obj["panels"]:
        p.sort()
    obj["panels"].sort()
    obj["size"] = len(obj["panels"])
    path = tmp_path / name
    path.write_bytes(drawing.canonical_bytes(obj))
    return path


def test_verify_fails_a_rigged_lottery_with_or_without_its_hash(shared_instances, tmp_path,
                                                                capsys):
    d = shared_instances / "example_small_20"
    out = tmp_path / "out"
    assert cli.main(["select", "--categories", str(d / "categories.csv"), "--respondents",
                     str(d / "respondents.csv"), "--seats", "20", "--out", str(out),
                     "--publish-only", "--quiet", "--lottery-size", "100"]) == 0
    honest = json.loads((out / "lottery.json").read_bytes())
    # Issue 15's rigged lottery: one (valid) panel listed m times, published with its own
    # hash, so the hash check alone passes.
    rigged = _lottery_of({**honest, "panels": [list(honest["panels"][0])] * 100}, tmp_path,
                         "rigged.json")
    digest = drawing.sha256_hex(rigged.read_bytes())
    for expect in ([], ["--expect-sha256", digest]):
        capsys.readouterr()
        assert cli.main(["verify", "--lottery", str(rigged), "--seed", "1", *expect,
                         *_published(d, out)]) == 1
        err = capsys.readouterr().err
        assert "MISMATCH: the lottery's chances are not the published distribution's" in err
        assert "in the published distribution (off by" in err
    # A panel that breaks the quotas is named, whatever the chances.
    # This quota file is category,feature,min,max: feature is the category's value.
    with open(d / "categories.csv", encoding="utf-8-sig") as fh:
        quota = next(csv.DictReader(fh))
    feature, value = quota["category"], quota["feature"]
    people = _rows(d / "respondents.csv")
    column = people[0].index(feature)
    outside = [str(i) for i, row in enumerate(people[1:]) if row[column] != value][:20]
    broken = _lottery_of({**honest, "panels": [*honest["panels"][:-1], outside]}, tmp_path,
                         "broken.json")
    capsys.readouterr()
    assert cli.main(["verify", "--lottery", str(broken), "--seed", "1",
                     *_published(d, out)]) == 1
    err = capsys.readouterr().err
    assert "break the quotas" in err and f"{feature}={value}: 0 not in" in err
    # The honest lottery passes the same checks.
    assert cli.main(["verify", "--lottery", str(out / "lottery.json"), "--seed", "1",
                     *_published(d, out)]) == 0
