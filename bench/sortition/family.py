"""The generated ``typical`` family (issue 21): ours against the reference on pools nobody
tuned for, whole process and algorithm alone, from the same run.

Per pool (typical.py writes its CSVs once; both sides read the same files):

- ours, whole process: ``kleroterion select --categories C --respondents R --seats K --out D
  --seed bench --quiet`` as a fresh process (imports, CSV reading, leximin, rounding to the
  1,000-panel lottery, lottery.json + SHA-256, probabilities.csv, the plot, the draw,
  selected.csv and remaining.csv), timed from start to exit;
- ours, algorithm alone: ``compute_distribution(instance, "leximin")`` in a fresh process
  (run_ours.py), CSV reading and imports not counted;
- reference, whole process: reference_pipeline.py (the library's own csv command: settings,
  CSV reading, maximin with HiGHS, lottery rounding, the draw, selected/remaining CSVs);
- reference, algorithm alone: reference_driver.py (find_distribution_maximin only).

Ratios are reference seconds / our seconds (higher: we are faster); the table lists the
worst whole-process ratio first. Our leximin minimum must equal the reference's maximin
minimum within 1e-4 (both are the maximin optimum); a larger difference is flagged.
"""
from __future__ import annotations

import json
import math
import os
import re
import statistics
import sys
from pathlib import Path
from typing import Any

from measure import Timed, timed_run
from run_ours import run_ours
from typical import FAMILY, Shape, write_pool

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
REFERENCE_PYTHON = REPO / ".venv-bench-reference" / "bin" / "python"
MIN_TOLERANCE = 1e-4
TARGET_RATIO = 10.0

REFERENCE_SETTINGS = """\
# written by bench/sortition/family.py: maximin with HiGHS, no address check
id_column = "id"
check_same_address = false
check_same_address_columns = []
max_attempts = 1
columns_to_keep = []
selection_algorithm = "maximin"
solver_backend = "highspy"
random_number_seed = 1
"""


def _select_command() -> list[str]:
    """``kleroterion select`` exactly as a user runs it: the console script beside this
    python, else the same entry point through -m."""
    script = Path(sys.executable).parent / "kleroterion"
    return [str(script)] if script.exists() else [sys.executable, "-m", "kleroterion.cli"]


def _env() -> dict[str, str]:
    # This checkout's code first, whichever checkout the virtualenv was installed from.
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def _best(runs: list[Timed]) -> Timed:
    """The fastest of repeated runs (noise on a shared machine only ever adds time)."""
    ok = [r for r in runs if r.ok]
    return min(ok, key=lambda r: r.seconds) if ok else runs[-1]


def ours_whole(cats: Path, resp: Path, k: int, out: Path, timeout: float,
               repeat: int = 1) -> dict[str, Any]:
    cmd = [*_select_command(), "select", "--categories", str(cats), "--respondents", str(resp),
           "--seats", str(k), "--out", str(out), "--seed", "bench", "--quiet"]
    runs: list[Timed] = []
    for _ in range(repeat):
        runs.append(timed_run(cmd, cwd=REPO, env=_env(), timeout=timeout))
        if not runs[-1].ok:
            break
    r = _best(runs)
    if not r.ok:
        return {"error": r.error()}
    m = re.search(r"min probability ([0-9.]+)", r.stdout)
    dev = re.search(r"largest rounding deviation ([0-9.]+)", r.stdout)
    return {"seconds": r.seconds, "cpu_seconds": r.cpu_seconds, "peak_memory_mb": r.peak_mb,
            "min_probability_printed": float(m.group(1)) if m else None,
            "rounding_deviation": float(dev.group(1)) if dev else None,
            "all_seconds": [x.seconds for x in runs]}


def ours_alone(cats: Path, resp: Path, k: int, timeout: float, repeat: int = 1
               ) -> dict[str, Any]:
    runs = []
    for _ in range(repeat):
        runs.append(run_ours((cats, resp, k), "leximin", timeout=timeout))
        if "error" in runs[-1]:
            return runs[-1]
    best = min(runs, key=lambda r: float(r["seconds"]))
    best["all_seconds"] = [r["seconds"] for r in runs]
    return best


def reference_whole(cats: Path, resp: Path, k: int, work: Path, timeout: float,
                    repeat: int = 1) -> dict[str, Any]:
    if not REFERENCE_PYTHON.exists():
        return {"error": "no .venv-bench-reference (make bench-sortition creates it)"}
    work.mkdir(parents=True, exist_ok=True)
    settings = work / "settings.toml"
    settings.write_text(REFERENCE_SETTINGS)
    cmd = [str(REFERENCE_PYTHON), str(HERE / "reference_pipeline.py"), str(settings), str(cats),
           str(resp), str(k), str(work / "selected.csv"), str(work / "remaining.csv")]
    runs: list[Timed] = []
    for _ in range(repeat):
        runs.append(timed_run(cmd, cwd=work, timeout=timeout))
        if not runs[-1].ok:
            break
    r = _best(runs)
    if not r.ok:
        return {"error": r.error(), "timed_out": r.timed_out, "seconds_at_least": r.seconds}
    return {"seconds": r.seconds, "cpu_seconds": r.cpu_seconds, "peak_memory_mb": r.peak_mb,
            "all_seconds": [x.seconds for x in runs]}


def reference_alone(cats: Path, resp: Path, k: int, timeout: float, repeat: int = 1
                    ) -> dict[str, Any]:
    if not REFERENCE_PYTHON.exists():
        return {"error": "no .venv-bench-reference (make bench-sortition creates it)"}
    cmd = [str(REFERENCE_PYTHON), str(HERE / "reference_driver.py"), str(cats), str(resp),
           str(k)]
    rows: list[dict[str, Any]] = []
    for _ in range(repeat):
        r = timed_run(cmd, timeout=timeout)
        lines = [line for line in r.stdout.splitlines() if line.startswith("{")]
        if r.timed_out or not lines:
            return {"error": r.error(), "timed_out": r.timed_out, "seconds_at_least": r.seconds}
        row = json.loads(lines[-1])
        if "error" in row:
            return row
        rows.append({**row, "peak_memory_mb": r.peak_mb})
    best = min(rows, key=lambda x: float(x["seconds"]))
    return {**best, "all_seconds": [x["seconds"] for x in rows]}


def _ratio(ref: dict[str, Any], ours: dict[str, Any]) -> tuple[float | None, bool]:
    """(reference / ours, whether it is only a lower bound because the reference timed
    out)."""
    if "seconds" not in ours or ours["seconds"] <= 0:
        return None, False
    if "seconds" in ref:
        return ref["seconds"] / ours["seconds"], False
    if ref.get("timed_out"):
        return ref["seconds_at_least"] / ours["seconds"], True
    return None, False


def run_pool(shape: Shape, work: Path, *, skip_reference: bool, timeout: float,
             repeat: int = 1) -> dict[str, Any]:
    folder = work / shape.name
    cats, resp = write_pool(folder, shape)
    row: dict[str, Any] = {"pool": shape.name, "n": shape.n, "k": shape.k,
                           "features": len(shape.features), "slack": shape.slack,
                           "bias": shape.bias, "seed": shape.seed}
    row["ours_whole"] = ours_whole(cats, resp, shape.k, folder / "ours-out", timeout, repeat)
    row["ours_alone"] = ours_alone(cats, resp, shape.k, timeout, repeat)
    if skip_reference:
        row["reference_whole"] = row["reference_alone"] = {"error": "skipped"}
    else:
        row["reference_whole"] = reference_whole(cats, resp, shape.k, folder / "ref-out",
                                                 timeout, repeat)
        if row["reference_whole"].get("timed_out"):
            # the same computation again would only time out again
            row["reference_alone"] = {**row["reference_whole"],
                                      "error": "not run: the whole process timed out"}
        else:
            row["reference_alone"] = reference_alone(cats, resp, shape.k, timeout, repeat)
    row["ratio_whole"], row["ratio_whole_lower_bound"] = _ratio(row["reference_whole"],
                                                                row["ours_whole"])
    row["ratio_alone"], row["ratio_alone_lower_bound"] = _ratio(row["reference_alone"],
                                                                row["ours_alone"])
    ours_min = row["ours_alone"].get("min_probability")
    ref_min = row["reference_alone"].get("min_probability")
    row["min_difference"] = (abs(ours_min - ref_min)
                             if ours_min is not None and ref_min is not None else None)
    diff = row["min_difference"]
    row["min_mismatch"] = diff is not None and diff > MIN_TOLERANCE
    return row


def _f(value: Any, spec: str, bound: bool = False) -> str:
    if not isinstance(value, (int, float)) or (isinstance(value, float) and math.isnan(value)):
        return "-".rjust(int(spec.split(".")[0].rstrip("f") or 0))
    text = format(value, spec)
    return (">" + text.strip()).rjust(len(text)) if bound else text


def _sort_key(row: dict[str, Any]) -> tuple[float, float]:
    def key(value: float | None) -> float:
        return math.inf if value is None else value
    return key(row["ratio_whole"]), key(row["ratio_alone"])


HEADER = (f"{'pool':<26} {'n':>5} {'k':>3} {'f':>2} {'sl':>2} | {'ours s':>7} {'ref s':>8} "
          f"{'ratio':>7} | {'ours alg':>8} {'ref alg':>8} {'ratio':>7} | {'our min':>8} "
          f"{'ref min':>8} {'ok':>3} | {'MB ours':>7} {'MB ref':>7} | {'cpu ours':>8} "
          f"{'cpu ref':>8}")


def format_row(row: dict[str, Any]) -> str:
    ow, oa = row["ours_whole"], row["ours_alone"]
    rw, ra = row["reference_whole"], row["reference_alone"]
    if row["min_difference"] is None:
        ok = "-"
    else:
        ok = "NO" if row["min_mismatch"] else "yes"
    line = (f"{row['pool']:<26} {row['n']:>5} {row['k']:>3} {row['features']:>2} "
            f"{row['slack']:>2} | {_f(ow.get('seconds'), '7.2f')} "
            f"{_f(rw.get('seconds', rw.get('seconds_at_least')), '8.2f', 'seconds' not in rw)} "
            f"{_f(row['ratio_whole'], '7.1f', row['ratio_whole_lower_bound'])} | "
            f"{_f(oa.get('seconds'), '8.2f')} "
            f"{_f(ra.get('seconds', ra.get('seconds_at_least')), '8.2f', 'seconds' not in ra)} "
            f"{_f(row['ratio_alone'], '7.1f', row['ratio_alone_lower_bound'])} | "
            f"{_f(oa.get('min_probability'), '8.5f')} {_f(ra.get('min_probability'), '8.5f')} "
            f"{ok:>3} | {_f(ow.get('peak_memory_mb'), '7.0f')} "
            f"{_f(rw.get('peak_memory_mb'), '7.0f')} | {_f(ow.get('cpu_seconds'), '8.2f')} "
            f"{_f(rw.get('cpu_seconds'), '8.2f')}")
    errors = [f"{side}: {d['error']}" for side, d in
              (("ours", ow), ("ours alone", oa), ("reference", rw), ("reference alone", ra))
              if "error" in d and d["error"] != "skipped"]
    return line + (f"  ({'; '.join(errors)})" if errors else "")


def summary(rows: list[dict[str, Any]]) -> list[str]:
    lines = []
    for key, what in (("ratio_whole", "whole process"), ("ratio_alone", "algorithm alone")):
        have = [r for r in rows if r[key] is not None]
        if not have:
            continue
        worst = min(have, key=lambda r: r[key])
        below = [r["pool"] for r in have if r[key] < TARGET_RATIO]
        lines.append(f"{what}: worst ratio {worst[key]:.1f}x ({worst['pool']}), median "
                     f"{statistics.median(r[key] for r in have):.1f}x; below "
                     f"{TARGET_RATIO:.0f}x: {', '.join(below) if below else 'none'}")
    bad = [r["pool"] for r in rows if r["min_mismatch"]]
    checked = sum(r["min_difference"] is not None for r in rows)
    lines.append(f"minimum probability, ours = reference within {MIN_TOLERANCE:g}: "
                 + (f"DIFFERS on {', '.join(bad)}" if bad else f"equal on all {checked} checked"))
    return lines


def run_family(work: Path, only: list[str], *, skip_reference: bool, timeout: float,
               repeat: int = 1) -> list[dict[str, Any]]:
    """Run every pool of the family (or those named in ``only``), print the table worst
    ratio first, and return the rows in that order."""
    shapes = [s for s in FAMILY if not only or s.name in only]
    print(f"\ngenerated typical pools (typical.py, fixed seeds): {len(shapes)} pools; "
          f"seconds are wall-clock{', best of ' + str(repeat) if repeat > 1 else ''}")
    print(HEADER)
    print("-" * len(HEADER), flush=True)
    rows = []
    for shape in shapes:
        row = run_pool(shape, work, skip_reference=skip_reference, timeout=timeout,
                       repeat=repeat)
        rows.append(row)
        print(format_row(row), flush=True)
    rows.sort(key=_sort_key)
    print("\nworst whole-process ratio first:")
    print(HEADER)
    print("-" * len(HEADER))
    for row in rows:
        print(format_row(row))
    for line in summary(rows):
        print(line)
    print("ratio = reference maximin seconds / our leximin seconds (higher: we are faster); "
          "'>' = the reference timed out; sl = seats of slack; ok = our min equals the "
          "reference's within 1e-4; cpu = user+system seconds of the whole process")
    return rows
