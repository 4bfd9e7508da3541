"""Benchmark kleroterion's selection engine on the shared instances and synthetic pools.

    python -m bench.sortition.run_ours [--algorithms leximin,maximin] [--only NAME,...]
                                       [--cache DIR] [--json OUT]

``run_ours(instance)`` is importable: ``instance`` is a folder (categories.csv,
respondents.csv, seats from seats.txt or the folder name's trailing number) or a tuple
(categories, respondents, seats). Each algorithm runs in a fresh subprocess so that the
peak memory (ru_maxrss) belongs to that run alone.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("KLERO_SHARED_INSTANCES", REPO.parent / "shared" / "instances"))
# the same pools (same seeds) as compare.py, so both runners measure the same instances
SYNTHETIC = [("synthetic_815_36_5f", 815, 36, 5, 1), ("synthetic_5000_99_7f", 5000, 99, 7, 2)]


def _resolve(instance):
    if isinstance(instance, (tuple, list)):
        cats, resp, seats = instance
        return Path(cats), Path(resp), int(seats), Path(cats).parent.name
    d = Path(instance)
    seats_file = d / "seats.txt"
    if seats_file.exists():
        seats = int(seats_file.read_text().strip())
    else:
        m = re.search(r"(\d+)$", d.name)
        if not m:
            raise ValueError(f"cannot tell the seat count of {d}; add seats.txt")
        seats = int(m.group(1))
    return d / "categories.csv", d / "respondents.csv", seats, d.name


def _measure(cats, resp, seats, algorithm, tolerance):
    import resource

    import numpy as np

    from services.sortition.engine import check_feasibility, compute_distribution, load_instance

    inst = load_instance(cats, resp, seats)
    t = time.perf_counter()
    feas = check_feasibility(inst)
    feas_s = time.perf_counter() - t
    t = time.perf_counter()
    d = compute_distribution(inst, algorithm, tolerance=tolerance)
    secs = time.perf_counter() - t
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return {
        "n": len(inst.people), "k": seats, "algorithm": algorithm, "seconds": round(secs, 3),
        "feasibility_seconds": round(feas_s, 4), "feasible": feas.feasible,
        "min_probability": float(d.stats.minimum), "gini": float(d.stats.gini),
        "geometric_mean": float(d.stats.geometric_mean), "panels": len(d.panels),
        "peak_memory_mb": round(peak_mb, 1),
        "info": {k: v for k, v in d.info.items() if k != "levels"},
        "sorted_probabilities_head": [float(x) for x in np.sort(d.probabilities)[:5]],
    }


def run_ours(instance, algorithm: str = "leximin", *, tolerance: float = 1e-6,
             subprocess_isolated: bool = True, timeout: float | None = 1800) -> dict:
    """Run one algorithm on one instance; return the measurements as a dict."""
    cats, resp, seats, name = _resolve(instance)
    if not subprocess_isolated:
        out = _measure(cats, resp, seats, algorithm, tolerance)
    else:
        code = ("import json,sys; from bench.sortition.run_ours import _measure; "
                "print(json.dumps(_measure(sys.argv[1], sys.argv[2], int(sys.argv[3]), "
                "sys.argv[4], "
                "float(sys.argv[5]))))")
        try:
            proc = subprocess.run([sys.executable, "-c", code, str(cats), str(resp), str(seats),
                                   algorithm, str(tolerance)], cwd=REPO, capture_output=True,
                                  text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return {"instance": name, "algorithm": algorithm, "error": f"timeout after {timeout} s"}
        if proc.returncode != 0:
            return {"instance": name, "algorithm": algorithm,
                    "error": proc.stderr.strip().splitlines()[-1:]}
        out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["instance"] = name
    return out


def instances(cache: Path, only=None):
    from bench.sortition.synthetic import write_synthetic

    found = []
    if SHARED.is_dir():
        for d in sorted(SHARED.iterdir()):
            if (d / "categories.csv").exists() and (d / "respondents.csv").exists():
                found.append(d)
    for name, n, k, f, seed in SYNTHETIC:
        d = cache / name
        write_synthetic(d, n, k, f, seed)  # cheap, and a stale cache could hold another seed
        found.append(d)
    if only:
        found = [d for d in found if d.name in only]
    return found


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--algorithms", default="leximin,maximin")
    ap.add_argument("--only", default="")
    ap.add_argument("--cache", default=str(REPO / ".cache" / "bench-sortition"))
    ap.add_argument("--json", default="")
    args = ap.parse_args(argv)
    only = set(filter(None, args.only.split(",")))
    rows = []
    header = (f"{'instance':<24}{'n':>6}{'k':>5}  {'algorithm':<9}{'seconds':>9}{'min prob':>10}"
              f"{'gini':>8}{'peak MB':>9}")
    print(header)
    print("-" * len(header))
    for d in instances(Path(args.cache), only):
        for alg in args.algorithms.split(","):
            r = run_ours(d, alg)
            rows.append(r)
            if "error" in r:
                print(f"{r['instance']:<24} {alg:<9} ERROR {r['error']}")
                continue
            print(f"{r['instance']:<24}{r['n']:>6}{r['k']:>5}  {alg:<9}{r['seconds']:>9.2f}"
                  f"{r['min_probability']:>10.4f}{r['gini']:>8.3f}{r['peak_memory_mb']:>9.0f}",
                  flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return rows


if __name__ == "__main__":
    main()
