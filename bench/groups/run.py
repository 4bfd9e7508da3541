"""Rotating groups: distinct pairs met and repeat pairings, ours versus independent random
shuffles, for the two sizes our users run (a borgersamling and a borgerting).

Members get synthetic stratification features drawn with a fixed seed; the figures are
deterministic. The target is under 5 s per case for our planner.
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from itertools import combinations

from services.sessions.groups import pair_stats, plan_rounds, random_rounds

CASES = [(36, 6, 10), (99, 8, 12)]
FEATURES = {"sex": ["female", "male"], "age_band": ["18-29", "30-44", "45-59", "60+"],
            "education": ["basic", "vocational", "higher"],
            "geography": ["capital", "city", "rural"]}


def members_with_features(n: int, seed: int):
    rng = random.Random(seed)
    ids = [f"m{i:03d}" for i in range(n)]
    return ids, {m: {k: rng.choice(v) for k, v in FEATURES.items()} for m in ids}


def mixed_tables(plan, features) -> tuple[int, int]:
    """Tables where some feature has a single value, and all tables."""
    single = total = 0
    for tables in plan:
        for table in tables:
            total += 1
            single += any(len({features[m][k] for m in table}) == 1 for k in FEATURES)
    return single, total


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    slow = False
    print(f"{'case':<22} {'planner':<9} {'distinct':>9} {'repeats':>8} {'max met':>8} "
          f"{'1-value tables':>15} {'time s':>7}")
    for n, size, rounds in CASES:
        ids, features = members_with_features(n, args.seed)
        possible = len(list(combinations(ids, 2)))
        started = time.perf_counter()
        ours = plan_rounds(ids, features, size, rounds, seed=args.seed)
        ours_s = time.perf_counter() - started
        started = time.perf_counter()
        base = random_rounds(ids, size, rounds, seed=args.seed)
        base_s = time.perf_counter() - started
        case = f"{n} in {size}s x {rounds}"
        for name, plan, secs in (("ours", ours, ours_s), ("baseline", base, base_s)):
            st = pair_stats(plan)
            single, total = mixed_tables(plan, features)
            print(f"{case:<22} {name:<9} {st['distinct_pairs']:>9} {st['repeat_pairings']:>8} "
                  f"{st['max_meetings']:>8} {f'{single}/{total}':>15} {secs:>7.2f}")
        print(f"{'':<22} (possible pairs {possible})")
        slow |= ours_s >= 5.0
    if slow:
        print("bench-groups: a case took 5 s or more", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
