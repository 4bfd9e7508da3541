"""Benchmark (``make bench-sortition``): our leximin and maximin against the reference
library's maximin (sortition-algorithms with HiGHS), side by side, on every shared instance
and two synthetic pools (815/36/5 features; 5,000/99/7 features for a national borgerting);
then the generated ``typical`` family (typical.py, family.py: pools of 150-2,000
respondents, 12-99 seats, 4-7 features, fixed seeds), ours and the reference both as whole
process and algorithm alone, worst ratio first.

The reference runs in its own virtualenv (.venv-bench-reference, AGPL: only ever called as a
program) through reference_driver.py, which prints JSON. Not a test: it prints a table.

    .venv/bin/python bench/sortition/compare.py [--only NAME ...] [--skip-reference]
        [--reference-timeout SECONDS] [--no-synthetic] [--family all|instances|typical]
        [--repeat N] [--json OUT]

``make bench-sortition BENCH_ARGS="--family typical --json out.json"`` runs the generated
family alone.
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from typing import Any

REPO = pathlib.Path(__file__).resolve().parents[2]
HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(HERE))

from services.sortition.engine.csvio import load_instance, write_people, write_quotas  # noqa: E402
from services.sortition.engine.model import Instance  # noqa: E402

REFERENCE_PYTHON = REPO / ".venv-bench-reference" / "bin" / "python"
SYNTHETIC = [("synthetic_815_36_5f", 815, 36, 5, 1), ("synthetic_5000_99_7f", 5000, 99, 7, 2)]


def shared_dir() -> pathlib.Path:
    default = REPO.parent / "shared" / "instances"
    return pathlib.Path(os.environ.get("KLERO_SHARED_INSTANCES", default))


def _files(folder: pathlib.Path) -> tuple[pathlib.Path, pathlib.Path] | None:
    cats, resp = folder / "categories.csv", folder / "respondents.csv"
    return (cats, resp) if cats.exists() and resp.exists() else None


def _seats(name: str) -> int | None:
    # The shared folders end in the panel size (example_small_20, geneva_30, ...).
    tail = name.rsplit("_", 1)[-1]
    return int(tail) if tail.isdigit() else None


def _write_synthetic(folder: pathlib.Path, n: int, k: int, n_features: int, seed: int) -> None:
    try:
        from synthetic import write_synthetic  # the engine engineer's generator
    except ImportError:
        raise SystemExit("bench/sortition/synthetic.py (write_synthetic) is missing; the engine "
                         "provides it") from None
    write_synthetic(folder, n, k, n_features, seed)


def instances(work: pathlib.Path, only: list[str], synthetic: bool
              ) -> Iterator[tuple[str, pathlib.Path, pathlib.Path, int]]:
    root = shared_dir()
    for folder in sorted(p for p in root.iterdir() if p.is_dir()) if root.exists() else []:
        files, k = _files(folder), _seats(folder.name)
        if files and k and (not only or folder.name in only):
            yield folder.name, files[0], files[1], k
    if synthetic:
        for name, n, k, nf, seed in SYNTHETIC:
            if only and name not in only:
                continue
            folder = work / name
            folder.mkdir(parents=True, exist_ok=True)
            _write_synthetic(folder, n, k, nf, seed)
            files = _files(folder)
            if files is None:
                raise SystemExit("write_synthetic wrote no categories.csv/respondents.csv "
                                 f"in {folder}")
            yield name, files[0], files[1], k


def run_ours(files: tuple[pathlib.Path, pathlib.Path, int], algorithm: str) -> dict[str, Any]:
    """Our engine on (categories, respondents, seats), in a fresh process of its own so that
    its peak memory is its own (bench/sortition/run_ours.py)."""
    from run_ours import run_ours as engine_run

    return engine_run(files, algorithm)


def run_reference(instance: Instance, work: pathlib.Path, name: str, timeout: float
                  ) -> dict[str, Any]:
    if not REFERENCE_PYTHON.exists():
        return {"error": "no .venv-bench-reference (make bench-sortition creates it)"}
    folder = work / f"ref_{name}"
    folder.mkdir(parents=True, exist_ok=True)
    # One normalised format for the reference, so its reader sees the same pool as ours.
    write_quotas(folder / "categories.csv", instance.quotas, "feature,value", flex=False)
    write_people(folder / "respondents.csv", instance.people, id_column="id")
    cmd = [str(REFERENCE_PYTHON), str(HERE / "reference_driver.py"), str(folder / "categories.csv"),
           str(folder / "respondents.csv"), str(instance.seats)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout after {timeout:.0f} s"}
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if not lines:
        return {"error": f"exit {proc.returncode}: {proc.stderr.strip()[-200:]}"}
    return json.loads(lines[-1])


def _fmt(v: object, spec: str) -> str:
    return format(v, spec) if isinstance(v, (int, float)) else "-"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", default=[], help="instance names to run")
    parser.add_argument("--skip-reference", action="store_true")
    parser.add_argument("--no-synthetic", action="store_true")
    parser.add_argument("--reference-timeout", type=float, default=3600)
    parser.add_argument("--json", type=pathlib.Path,
                        help="also write the rows as JSON: {instances: [...], typical: [...]}")
    parser.add_argument("--family", choices=("all", "instances", "typical"), default="all",
                        help="instances: the shared instances and the two synthetic pools; "
                             "typical: only the generated family; all (default): both")
    parser.add_argument("--repeat", type=int, default=1,
                        help="typical family: run each side N times and keep the fastest")
    args = parser.parse_args(argv)
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-sortition-") as tmp:
        work = pathlib.Path(tmp)
        if args.family in ("all", "instances"):
            result["instances"] = _instances_table(args, work)
        if args.family in ("all", "typical"):
            from family import run_family

            result["typical"] = run_family(work / "typical", args.only,
                                           skip_reference=args.skip_reference,
                                           timeout=args.reference_timeout, repeat=args.repeat)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


def _instances_table(args: argparse.Namespace, work: pathlib.Path) -> list[dict[str, Any]]:
    header = (f"{'instance':<22} {'n':>5} {'k':>4} {'leximin s':>10} {'maximin s':>10} "
              f"{'ref s':>9} {'ratio':>7} {'our min':>9} {'ref min':>9} {'our Gini':>9} "
              f"{'peak MB':>8}")
    print(header)
    print("-" * len(header), flush=True)
    rows = []
    for name, cats, resp, k in instances(work, args.only, not args.no_synthetic):
        inst = load_instance(cats, resp, k, strict_values=False)
        lex = run_ours((cats, resp, k), "leximin")
        mm = run_ours((cats, resp, k), "maximin")
        ref = ({"error": "skipped"} if args.skip_reference
               else run_reference(inst, work, name, args.reference_timeout))
        ratio = ((ref["seconds"] / lex["seconds"])
                 if "seconds" in ref and lex["seconds"] > 0 else None)
        row = {"instance": name, "n": len(inst.people), "k": k, "ours_leximin": lex,
               "ours_maximin": mm, "reference_maximin": ref, "ratio_ref_over_leximin": ratio}
        rows.append(row)
        print(f"{name:<22} {len(inst.people):>5} {k:>4} {_fmt(lex['seconds'], '10.2f')} "
              f"{_fmt(mm['seconds'], '10.2f')} {_fmt(ref.get('seconds'), '9.2f')} "
              f"{_fmt(ratio, '7.1f')} {_fmt(lex['min_probability'], '9.5f')} "
              f"{_fmt(ref.get('min_probability'), '9.5f')} {_fmt(lex.get('gini'), '9.4f')} "
              f"{_fmt(lex.get('peak_memory_mb'), '8.0f')}"
              + (f"  (reference: {ref['error']})" if "error" in ref else ""), flush=True)
    print("ratio = reference maximin seconds / our leximin seconds (higher: we are faster)")
    return rows


if __name__ == "__main__":
    sys.exit(main())
