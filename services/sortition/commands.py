"""Sortition subcommands: ``select`` and ``verify`` (the service runs with ``kleroterion serve
sortition``)."""
from __future__ import annotations

import argparse
import csv
import os
import pathlib
import secrets
import sys
from collections.abc import Sequence
from typing import TypeAlias

from numpy.typing import ArrayLike

from services.sortition import draw as drawing

# What ``add_parser(sub)`` receives from the command line (``kleroterion.cli``).
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"

LOTTERY_FILE = "lottery.json"


def _respondent_rows(path: str | os.PathLike[str]) -> tuple[list[str], list[list[str]]]:
    """The respondents file's header and data rows exactly as given, numbered the way the
    engine numbers people (blank lines skipped), so the outputs keep the input's columns."""
    with open(path, newline="", encoding="utf-8-sig") as fh:
        rows = [r for r in csv.reader(fh) if any(c.strip() for c in r)]
    return rows[0], rows[1:]


def _write_rows(path: pathlib.Path, header: Sequence[str],
               rows: Sequence[Sequence[str]]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    tmp.replace(path)


def _write_bytes(path: pathlib.Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def plot_probabilities(path: pathlib.Path, probabilities: ArrayLike, k: int,
                       title: str) -> None:
    """Sorted selection probabilities against the equal chance k/n every volunteer would
    have without quotas."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    p = np.sort(np.asarray(probabilities, dtype=float))
    n = len(p)
    fig, ax = plt.subplots(figsize=(7, 4), dpi=120)
    ax.plot(np.arange(1, n + 1), p, drawstyle="steps-post", label="selection probability")
    ax.axhline(k / n, color="tab:red", linestyle="--", label=f"k/n = {k}/{n} = {k / n:.4f}")
    ax.set_xlabel("pool members, sorted by probability")
    ax.set_ylabel("probability of selection")
    ax.set_ylim(0, max(float(p.max()), k / n) * 1.1)
    ax.set_title(title)
    ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)


def _select(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from services.sortition.engine import compute_distribution, load_instance

    instance = load_instance(args.categories, args.respondents, args.seats,
                             household_columns=args.household_columns or None,
                             id_column=args.id_column, strict_values=not args.lenient)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    bar = tqdm(desc=f"{args.algorithm}", unit="it", file=sys.stderr, disable=args.quiet)

    def progress(phase: str, iteration: int, min_probability: float) -> None:
        bar.set_description(phase)
        bar.set_postfix(min_probability=f"{min_probability:.6f}")
        bar.update(1)

    try:
        distribution = compute_distribution(instance, args.algorithm, progress=progress)
    finally:
        bar.close()
    rounded = drawing.make_lottery(instance, distribution, args.lottery_size)
    lottery = rounded.lottery
    _write_bytes(out / LOTTERY_FILE, lottery.data)
    _write_bytes(out / f"{LOTTERY_FILE}.sha256", f"{lottery.sha256}  {LOTTERY_FILE}\n".encode())
    ids = [p.id for p in instance.people]
    _write_rows(out / "probabilities.csv", ["id", "probability", "lottery_probability"],
                [[pid, f"{p:.9f}", f"{lp:.9f}"] for pid, p, lp in
                 zip(ids, distribution.probabilities, rounded.lottery_probabilities,
                     strict=False)])
    plot_probabilities(out / "probabilities.png", distribution.probabilities, instance.seats,
                       f"{args.algorithm}: {len(ids)} volunteers, {instance.seats} seats")
    s = distribution.stats
    print(f"{args.algorithm}: min probability {s.minimum:.6f} "
          f"(k/n {instance.seats / len(ids):.6f}), "
          f"Gini {s.gini:.4f}, {len(distribution.panels)} panels")
    print(f"lottery: {lottery.size} panels, largest rounding deviation {rounded.max_deviation:.6f}")
    print(f"published list: {out / LOTTERY_FILE}\nSHA-256: {lottery.sha256}")
    if args.publish_only:
        print("publish the file and its SHA-256, then draw with: kleroterion verify "
              f"--lottery {out / LOTTERY_FILE} --seed <public seed>")
        return 0
    seed = args.seed
    if seed is None:
        # Not a public seed: fine for a rehearsal, not for a draw anyone must trust.
        seed = secrets.token_hex(16)
        print(f"warning: no --seed given; drew with the private random seed {seed}",
              file=sys.stderr)
    result = drawing.draw(lottery, seed)
    chosen_ids = set(result.panel)
    position = {pid: i for i, pid in enumerate(ids)}
    chosen = {position[pid] for pid in chosen_ids}
    header, rows = _respondent_rows(args.respondents)
    _write_rows(out / "selected.csv", header, [r for i, r in enumerate(rows) if i in chosen])
    _write_rows(out / "remaining.csv", header, [r for i, r in enumerate(rows) if i not in chosen])
    print(f"seed {result.seed!r} drew panel {result.panel_index} of {result.size}: "
          f"{out / 'selected.csv'}, {out / 'remaining.csv'}")
    return 0


def _verify(args: argparse.Namespace) -> int:
    from services.sortition import lottery_check
    from services.sortition.engine import InstanceError, load_instance

    data = pathlib.Path(args.lottery).read_bytes()
    try:
        result = drawing.verify(data, args.seed, args.expect_sha256)
        lottery = drawing.parse_lottery(data)
        published = lottery_check.read_distribution(args.probabilities)
        instance = load_instance(args.categories, args.respondents, lottery.seats,
                                 household_columns=args.household_columns or None,
                                 id_column=args.id_column, strict_values=not args.lenient)
    except (drawing.LotteryError, InstanceError, OSError) as exc:
        print(f"kleroterion verify: MISMATCH: {exc}", file=sys.stderr)
        return 1
    # The tolerance is what was published: the stated one, else the largest rounding
    # deviation the probabilities file shows, else one panel's weight (1/m).
    tolerance = args.tolerance
    if tolerance is None:
        tolerance = published.largest_deviation
    if tolerance is None:
        tolerance = 1.0 / lottery.size
    panels = lottery_check.panel_problems(lottery, instance)
    chances, largest = lottery_check.probability_problems(lottery, published, tolerance)
    failed = False
    if panels:
        failed = True
        print("kleroterion verify: MISMATCH: panels of the lottery break the quotas or the "
              "panel size:\n  " + "\n  ".join(panels), file=sys.stderr)
    if chances:
        failed = True
        print("kleroterion verify: MISMATCH: the lottery's chances are not the published "
              f"distribution's (tolerance {tolerance:.6f}):\n  " + "\n  ".join(chances),
              file=sys.stderr)
    if args.expect_index is not None and result.panel_index != args.expect_index:
        failed = True
        print(f"kleroterion verify: MISMATCH: the seed draws panel {result.panel_index}, "
              f"not {args.expect_index}", file=sys.stderr)
    if failed:
        return 1
    print(f"SHA-256: {result.lottery_sha256}")
    print(f"lottery: {lottery.size} panels, {len(set(lottery.panels))} distinct; every panel "
          f"meets every quota; chances within {largest:.6f} of the published distribution "
          f"(tolerance {tolerance:.6f})")
    print(f"seed: {result.seed!r}")
    print(f"panel index: {result.panel_index} of {result.size} (0-based)")
    print("panel: " + ",".join(result.panel))
    return 0


def add_parser(sub: Subparsers) -> None:
    p = sub.add_parser("select", help="select a panel from a pool: fair distribution, published "
                                      "lottery, draw")
    p.add_argument("--categories", required=True, help="quota file (CSV)")
    p.add_argument("--respondents", required=True, help="pool file (CSV)")
    p.add_argument("--seats", required=True, type=int, help="panel size k")
    p.add_argument("--algorithm", default="leximin",
                   choices=("leximin", "maximin", "nash", "legacy"))
    p.add_argument("--out", default="out/selection", help="output folder")
    p.add_argument("--seed", help="public seed for the draw (entered after publishing)")
    p.add_argument("--publish-only", action="store_true",
                   help="stop after writing the lottery and its SHA-256 (draw later with verify)")
    p.add_argument("--lottery-size", type=int, default=drawing.DEFAULT_LOTTERY_SIZE,
                   help="m, panels in the uniform lottery (default 1000)")
    p.add_argument("--household-columns", nargs="+", metavar="COLUMN",
                   help="respondent columns forming the household key (one per household)")
    p.add_argument("--id-column", help="respondent column holding the pseudonymous id")
    p.add_argument("--lenient", action="store_true",
                   help="accept respondent values that have no quota in their category")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_select)

    p = sub.add_parser("verify", help="check a published lottery against the quotas and the "
                                      "published distribution, and recompute its draw")
    p.add_argument("--lottery", required=True, help="the published lottery file")
    p.add_argument("--seed", required=True, help="the public seed")
    p.add_argument("--categories", required=True,
                   help="the quota file (CSV): every panel must meet every quota")
    p.add_argument("--respondents", required=True,
                   help="the pool file (CSV, pseudonymous ids and quota answers)")
    p.add_argument("--probabilities", required=True,
                   help="the published distribution (CSV: id,probability[,lottery_probability])")
    p.add_argument("--tolerance", type=float,
                   help="largest accepted |lottery chance - published probability|; default the "
                        "published largest rounding deviation")
    p.add_argument("--household-columns", nargs="+", metavar="COLUMN",
                   help="respondent columns forming the household key (one per household)")
    p.add_argument("--id-column", help="respondent column holding the pseudonymous id")
    p.add_argument("--lenient", action="store_true",
                   help="accept respondent values that have no quota in their category")
    p.add_argument("--expect-sha256", help="the published SHA-256; a different file fails")
    p.add_argument("--expect-index", type=int, help="the announced panel index; another fails")
    p.set_defaults(func=_verify)
