"""Where ``kleroterion select``'s whole-process time goes (issue 21, investigation).

Replays services/sortition/commands.py's ``_select`` step by step in one fresh process, timing
each step: the CLI's imports (every command module, as ``kleroterion`` builds its parser),
CSV reading, compute_distribution's phases (timed by wrapping the engine's functions from the
outside; the engine is not changed), the rounding to the 1,000-panel lottery (pipage, the
improvement steps and whether they stopped on their own or on the time budget), writing the
lottery and probabilities.csv, the plot, the draw and selected/remaining.csv.

    .venv/bin/python bench/sortition/profile_select.py POOL_DIR [--cprofile OUT.txt]
        [--budgets 0,0.5,2,10] [--json OUT.json]

POOL_DIR holds categories.csv, respondents.csv and seats.txt (typical.py writes them). Prints
JSON. Run it in a fresh process per pool: the import timings are only right the first time.
"""
from __future__ import annotations

T_START = __import__("time").perf_counter()

import argparse  # noqa: E402
import functools  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import defaultdict  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

TIMES: dict[str, float] = defaultdict(float)
CALLS: dict[str, int] = defaultdict(int)


def wrap(owner: Any, attr: str, label: str) -> None:
    """Replace ``owner.attr`` by a wrapper adding its (inclusive) time to TIMES[label]."""
    inner = getattr(owner, attr)

    @functools.wraps(inner)
    def timed(*args: Any, **kwargs: Any) -> Any:
        t = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            TIMES[label] += time.perf_counter() - t
            CALLS[label] += 1

    setattr(owner, attr, timed)


class Clock:
    """Counts calls of time.monotonic: the rounding's improvement loop reads it once a step."""

    def __init__(self) -> None:
        self.calls = 0

    def monotonic(self) -> float:
        self.calls += 1
        return time.monotonic()


def instrument_engine() -> None:
    from services.sortition.engine import (
        distribution,
        expand,
        face_sampling,
        feasibility,
        leximin,
        pricing,
        validation,
    )

    wrap(validation, "validate_instance", "validate_instance")
    wrap(distribution, "compile_instance", "compile_instance")
    wrap(feasibility, "check_feasibility", "check_feasibility")
    cg = leximin.ColumnGeneration
    wrap(cg, "__init__", "ColumnGeneration.__init__ (master LP build)")
    wrap(cg, "initial_columns", "initial_columns")
    wrap(cg, "frac_leximin", "frac_leximin (fractional leximin LPs)")
    wrap(cg, "_face", "_face")
    wrap(cg, "_sampled_lottery", "_sampled_lottery (sampled path, total)")
    wrap(cg, "_solve_round", "_solve_round (column generation)")
    wrap(cg, "solve_master", "solve_master")
    wrap(leximin, "solve_lottery_lp", "solve_lottery_lp (IPM)")
    wrap(leximin, "basic_lottery", "basic_lottery (Caratheodory)")
    wrap(face_sampling.FaceSampler, "batch", "FaceSampler.batch (draw face panels)")
    wrap(pricing.Pricer, "exact", "Pricer.exact (pricing IP)")
    wrap(pricing.Pricer, "improving", "Pricer.improving")
    wrap(distribution, "expand", "expand (types -> people panels)")
    wrap(distribution, "build_distribution", "build_distribution")
    del expand


IMPORTS = {
    "python -c pass": "pass",
    "numpy": "import numpy",
    "scipy.linalg": "import scipy.linalg",
    "highspy": "import highspy",
    "engine + draw + csvio (what select needs)": (
        "import services.sortition.engine.distribution, services.sortition.draw, "
        "services.sortition.engine.csvio, tqdm"),
    "kleroterion.cli build_parser (what select imports today)": (
        "import kleroterion.cli as c; c.build_parser()"),
    "matplotlib.pyplot (Agg)": "import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot",
}


def import_costs(repeat: int = 3) -> dict[str, float]:
    """Best-of-``repeat`` wall seconds of a fresh interpreter doing only these imports."""
    import os
    import subprocess

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = {}
    for label, code in IMPORTS.items():
        best = float("inf")
        for _ in range(repeat):
            t = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, check=True)
            best = min(best, time.perf_counter() - t)
        out[label] = round(best, 3)
    return out


def no_sampling() -> None:
    """Switch the sampled path off (column generation on the face instead), from outside."""
    from services.sortition.engine import leximin

    init = leximin.ColumnGeneration.__init__

    def patched(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        self.use_sampling = False

    leximin.ColumnGeneration.__init__ = patched  # type: ignore[method-assign]


def step(out: dict[str, float], name: str, since: float) -> float:
    now = time.perf_counter()
    out[name] = round(now - since, 4)
    return now


def profile(pool: Path, cprofile_out: Path | None, budgets: list[float],
            sampling: bool = True) -> dict[str, Any]:
    phases: dict[str, float] = {}
    t = time.perf_counter()
    phases["python start-up to this script"] = round(t - T_START, 4)
    import kleroterion.cli as cli

    cli.build_parser()  # what `kleroterion select` imports before it does anything
    t = step(phases, "import: build_parser (all command modules)", t)
    from tqdm import tqdm

    from services.sortition import draw as drawing
    from services.sortition.commands import _respondent_rows, _write_bytes, _write_rows
    from services.sortition.engine.csvio import load_instance
    from services.sortition.engine.distribution import compute_distribution

    t = step(phases, "import: select's own imports (after the parser)", t)
    if not sampling:
        no_sampling()
    instrument_engine()
    seats = int((pool / "seats.txt").read_text())
    cats, resp = pool / "categories.csv", pool / "respondents.csv"
    t = time.perf_counter()
    instance = load_instance(cats, resp, seats)
    t = step(phases, "load_instance (CSV reading)", t)
    bar = tqdm(disable=True)
    profiler = None
    if cprofile_out:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    distribution = compute_distribution(instance, "leximin", progress=lambda *a: bar.update(1))
    if profiler:
        profiler.disable()
    t = step(phases, "compute_distribution", t)
    if profiler and cprofile_out:
        import io
        import pstats

        buf = io.StringIO()
        pstats.Stats(profiler, stream=buf).sort_stats("cumulative").print_stats(45)
        cprofile_out.write_text(buf.getvalue())
    engine = {k: {"seconds": round(v, 4), "calls": CALLS[k]} for k, v in TIMES.items()}
    TIMES.clear()
    CALLS.clear()

    # rounding, as make_lottery does it, with the improvement loop's steps counted
    import numpy as np

    n_people = len(instance.people)
    w = np.clip(np.asarray(distribution.weights, dtype=float), 0.0, None)
    x = drawing.DEFAULT_LOTTERY_SIZE * w / w.sum()
    t = time.perf_counter()
    counts0 = drawing._fix_total(drawing._pipage(x, np.random.default_rng(0)), x,
                                 drawing.DEFAULT_LOTTERY_SIZE)
    members = drawing.PanelMembers(distribution.panels, n_people)
    t = step(phases, "rounding: pipage + panel index", t)
    p = np.asarray(distribution.probabilities, dtype=float)

    def deviation(counts: np.ndarray) -> float:
        got = np.bincount(members.members.ravel(),
                          weights=np.repeat(counts, members.members.shape[1]),
                          minlength=n_people + 1)[:n_people] / drawing.DEFAULT_LOTTERY_SIZE
        return float(np.abs(got - p).max())

    rounding: dict[str, Any] = {"after_pipage_max_deviation": deviation(counts0),
                                "budgets": []}
    real_time = drawing.time
    for budget in budgets:
        clock = Clock()
        drawing.time = clock  # type: ignore[assignment]
        try:
            t0 = time.perf_counter()
            counts = drawing._improve(counts0.copy(), members, p, drawing.DEFAULT_LOTTERY_SIZE,
                                      budget, 20000)
            secs = time.perf_counter() - t0
        finally:
            drawing.time = real_time
        steps = clock.calls - 1
        rounding["budgets"].append({
            "budget_seconds": budget, "seconds": round(secs, 3), "steps": max(0, steps),
            "stopped_by": ("time budget" if secs >= budget else
                           "max_steps" if steps >= 20000 else "no improving move"),
            "max_deviation": deviation(counts)})
    phases["rounding: improvement (10 s budget, as select)"] = next(
        (b["seconds"] for b in rounding["budgets"] if b["budget_seconds"] == 10.0), float("nan"))

    # the rest of _select, as it runs after the rounding
    t = time.perf_counter()
    rounded = drawing.make_lottery(instance, distribution, drawing.DEFAULT_LOTTERY_SIZE,
                                   time_budget=0.0)
    t = step(phases, "make_lottery with a 0 s budget (build_lottery, hash, probabilities)", t)
    out = Path(tempfile.mkdtemp(prefix="profile-select-"))
    lottery = rounded.lottery
    _write_bytes(out / "lottery.json", lottery.data)
    _write_bytes(out / "lottery.json.sha256", f"{lottery.sha256}  lottery.json\n".encode())
    ids = [person.id for person in instance.people]
    _write_rows(out / "probabilities.csv", ["id", "probability", "lottery_probability"],
                [[pid, f"{a:.9f}", f"{b:.9f}"] for pid, a, b in
                 zip(ids, distribution.probabilities, rounded.lottery_probabilities,
                     strict=True)])
    t = step(phases, "write lottery.json, sha256, probabilities.csv", t)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot

    t = step(phases, "plot: import matplotlib", t)
    from services.sortition.commands import plot_probabilities

    plot_probabilities(out / "probabilities.png", distribution.probabilities, seats, "leximin")
    t = step(phases, "plot: draw and save png", t)
    result = drawing.draw(lottery, "bench")
    chosen = {ids.index(pid) for pid in result.panel}
    header, rows = _respondent_rows(resp)
    _write_rows(out / "selected.csv", header, [r for i, r in enumerate(rows) if i in chosen])
    _write_rows(out / "remaining.csv", header,
                [r for i, r in enumerate(rows) if i not in chosen])
    step(phases, "draw, selected.csv, remaining.csv", t)
    return {"pool": pool.name, "n": n_people, "k": seats, "phases": phases, "engine": engine,
            "engine_info": {k: v for k, v in distribution.info.items() if k != "levels"},
            "min_probability": float(distribution.stats.minimum), "rounding": rounding}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("pool", type=Path, nargs="?")
    ap.add_argument("--cprofile", type=Path, help="write cProfile's top functions here")
    ap.add_argument("--budgets", default="0,0.5,2,10",
                    help="rounding improvement budgets to try, seconds")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--no-sampling", action="store_true",
                    help="column generation on the face instead of the sampled path")
    ap.add_argument("--imports", action="store_true",
                    help="only measure import costs, each in fresh interpreters")
    args = ap.parse_args(argv)
    if args.imports:
        print(json.dumps(import_costs(), indent=1))
        return 0
    budgets = [float(b) for b in args.budgets.split(",") if b]
    result = profile(args.pool, args.cprofile, budgets, sampling=not args.no_sampling)
    text = json.dumps(result, indent=1)
    if args.json:
        args.json.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
