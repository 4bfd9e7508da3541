"""Runs the reference library (sortition-algorithms, AGPL) on one instance; only called as a
program by the reference virtualenv's python, never imported by kleroterion.

    reference_driver.py CATEGORIES RESPONDENTS SEATS [ALGORITHM]

Input is the normalised form compare.py writes (categories: feature,value,min,max; people:
id plus one column per feature). Prints one JSON object: seconds, min_probability, panels,
or error.
"""
import csv
import json
import sys
import time


def _read(path):
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames), list(reader)


def main() -> int:
    categories, respondents, seats = sys.argv[1], sys.argv[2], int(sys.argv[3])
    algorithm = sys.argv[4] if len(sys.argv) > 4 else "maximin"
    from sortition_algorithms.committee_generation.maximin import find_distribution_maximin
    from sortition_algorithms.features import read_in_features
    from sortition_algorithms.people import read_in_people
    from sortition_algorithms.settings import Settings

    try:
        f_head, f_body = _read(categories)
        features, _, _ = read_in_features(f_head, f_body, seats)
        settings = Settings(id_column="id", columns_to_keep=[], selection_algorithm=algorithm,
                            solver_backend="highspy")
        p_head, p_body = _read(respondents)
        people, _ = read_in_people(p_head, p_body, features, settings)
        t0 = time.perf_counter()
        committees, probs, _ = find_distribution_maximin(features, people, seats, [], "highspy")
        seconds = time.perf_counter() - t0
    except Exception as exc:  # noqa: BLE001 - reported in the table, not fatal to the benchmark
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"[:300]}))
        return 0
    marginal = {pid: 0.0 for pid, _ in people.items()} if hasattr(people, "items") else {}
    for committee, p in zip(committees, probs, strict=True):
        for pid in committee:
            marginal[pid] = marginal.get(pid, 0.0) + p
    ids = [row["id"] for row in p_body]
    min_prob = min(marginal.get(pid, 0.0) for pid in ids)
    print(json.dumps({"seconds": seconds, "min_probability": min_prob, "panels": len(committees)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
