"""Thin helpers around highspy: quiet solvers and models built from row-wise sparse data."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import highspy
import numpy as np
from numpy.typing import NDArray

INF = highspy.kHighsInf


def quiet_highs() -> highspy.Highs:
    h = highspy.Highs()  # type: ignore[no-untyped-call]  # highspy leaves __init__ untyped
    h.setOptionValue("output_flag", False)
    h.setOptionValue("log_to_console", False)
    return h


def pass_model(
    h: highspy.Highs,
    cost: NDArray[Any],
    col_lower: NDArray[Any],
    col_upper: NDArray[Any],
    row_lower: NDArray[Any],
    row_upper: NDArray[Any],
    starts: NDArray[Any],
    indices: NDArray[Any],
    values: NDArray[Any],
    *,
    integer: NDArray[np.bool_] | None = None,
    maximize: bool = False,
) -> None:
    """Load a model given as a row-wise (CSR) constraint matrix (any numeric dtypes: they are
    converted to what HiGHS takes)."""
    lp = highspy.HighsLp()
    lp.num_col_ = int(len(cost))
    lp.num_row_ = int(len(row_lower))
    lp.col_cost_ = np.asarray(cost, dtype=np.float64)
    lp.col_lower_ = np.asarray(col_lower, dtype=np.float64)
    lp.col_upper_ = np.asarray(col_upper, dtype=np.float64)
    lp.row_lower_ = np.asarray(row_lower, dtype=np.float64)
    lp.row_upper_ = np.asarray(row_upper, dtype=np.float64)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = np.asarray(starts, dtype=np.int32)
    lp.a_matrix_.index_ = np.asarray(indices, dtype=np.int32)
    lp.a_matrix_.value_ = np.asarray(values, dtype=np.float64)
    lp.a_matrix_.num_col_ = lp.num_col_
    lp.a_matrix_.num_row_ = lp.num_row_
    lp.sense_ = highspy.ObjSense.kMaximize if maximize else highspy.ObjSense.kMinimize
    if integer is not None:
        lp.integrality_ = [
            highspy.HighsVarType.kInteger if flag else highspy.HighsVarType.kContinuous
            for flag in integer
        ]
    h.passModel(lp)


def rows_to_csr(rows: Sequence[tuple[NDArray[Any], NDArray[Any]]],
                ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """[(indices, values), ...] -> (starts, indices, values)."""
    starts = np.zeros(len(rows) + 1, dtype=np.int64)
    for r, (idx, _) in enumerate(rows):
        starts[r + 1] = starts[r] + len(idx)
    if rows:
        indices = np.concatenate([np.asarray(i, dtype=np.int64) for i, _ in rows])
        values = np.concatenate([np.asarray(v, dtype=np.float64) for _, v in rows])
    else:
        indices = np.zeros(0, dtype=np.int64)
        values = np.zeros(0)
    return starts, indices, values


def status(h: highspy.Highs) -> highspy.HighsModelStatus:
    return h.getModelStatus()


def is_optimal(h: highspy.Highs) -> bool:
    return h.getModelStatus() == highspy.HighsModelStatus.kOptimal


def is_infeasible(h: highspy.Highs) -> bool:
    return h.getModelStatus() in (
        highspy.HighsModelStatus.kInfeasible,
        highspy.HighsModelStatus.kUnboundedOrInfeasible,
    )
