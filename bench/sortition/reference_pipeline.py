"""The reference library's whole selection pipeline (sortition-algorithms, AGPL), run as a
program by the reference virtualenv's python, never imported by kleroterion.

    reference_pipeline.py SETTINGS CATEGORIES RESPONDENTS SEATS SELECTED REMAINING

It is the library's own ``csv`` command (sortition_algorithms/__main__.py, 0.12.15) step for
step — settings file, features, people, run_stratification (maximin distribution, lottery
rounding, the draw and its report), the selected/remaining tables and their CSV files — less
the click front end, which the library only installs as an extra. compare.py times this
process from start to exit as the reference's "whole process".
"""
from __future__ import annotations

import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    settings_path, categories, respondents, seats, selected, remaining = argv
    from sortition_algorithms import adapters, core
    from sortition_algorithms.settings import Settings

    source = adapters.CSVFileDataSource(
        features_file=Path(categories), people_file=Path(respondents),
        already_selected_file=None, selected_file=Path(selected),
        remaining_file=Path(remaining))
    data = adapters.SelectionData(source)
    settings, report = Settings.load_from_file(Path(settings_path))
    print(report.as_text())
    features, report = data.load_features(int(seats))
    print(report.as_text())
    if features is None:
        print("could not load features", file=sys.stderr)
        return 1
    people, report = data.load_people(settings, features)
    print(report.as_text())
    if people is None:
        print("could not load people", file=sys.stderr)
        return 1
    already, report = data.load_already_selected(settings)
    print(report.as_text())
    success, chosen, report = core.run_stratification(
        features=features, people=people, number_people_wanted=int(seats), settings=settings,
        already_selected=already, progress_reporter=None)
    print(report.as_text())
    if not success:
        print("selection not successful, no files written", file=sys.stderr)
        return 1
    selected_rows, remaining_rows, _ = core.selected_remaining_tables(
        full_people=people, people_selected=chosen[0], features=features, settings=settings,
        already_selected=already, exclude_matching_addresses=False)
    data.output_selected_remaining(
        people_selected_rows=selected_rows, people_remaining_rows=remaining_rows,
        settings=settings, already_selected=already)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
