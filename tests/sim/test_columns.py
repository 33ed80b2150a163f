"""Rows kept as typed columns give the frame pandas builds from the same rows as dicts."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest

from simulator.measure.columns import ColumnBuilder

ROWS: list[dict[str, Any]] = [
    {"call": "run_async", "end_ms": 1.5, "error": None, "ops": 3, "phase_a": 0.25},
    {"call": "alarm", "end_ms": None, "error": "reset", "ops": 4, "late": 2},
    {"call": "alarm", "end_ms": 2.0, "error": None, "ops": 0, "phase_a": 1, "only_last": "x"},
]


def built(rows: list[dict[str, Any]]) -> pd.DataFrame:
    columns = ColumnBuilder()
    for row in rows:
        columns.add(row)
    return columns.frame()


@pytest.mark.parametrize("rows", [ROWS, ROWS[::-1], ROWS[:1], ROWS[1:], [ROWS[0]] * 3])
def test_the_frame_is_the_one_pandas_makes_from_dicts(rows: list[dict[str, Any]]) -> None:
    frame = built(rows)
    pd.testing.assert_frame_equal(frame, pd.DataFrame(rows))
    assert list(frame.columns) == list(pd.DataFrame(rows).columns)


def test_numbers_are_kept_as_machine_numbers_and_missing_ones_as_nan() -> None:
    frame = built(ROWS)
    assert frame["ops"].dtype == "int64" and frame["end_ms"].dtype == "float64"
    assert math.isnan(frame["end_ms"][1]) and math.isnan(frame["phase_a"][1])
    assert frame["late"].tolist()[1] == 2 and math.isnan(frame["late"][0])


def test_the_comparison_would_catch_a_builder_that_drops_a_missing_field() -> None:
    wrong = built(ROWS).fillna({"phase_a": 0.0})  # a missing field read as zero
    with pytest.raises(AssertionError):
        pd.testing.assert_frame_equal(wrong, pd.DataFrame(ROWS))


def test_a_builder_hands_its_rows_over_once() -> None:
    columns = ColumnBuilder()
    columns.add(ROWS[0])
    assert len(columns.frame()) == 1
    assert columns.frame().empty
