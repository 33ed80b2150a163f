"""Selecting and summing the rows of a run (one row per call): the one way every table picks its
calls, so a figure in one table means the same as in another."""

from __future__ import annotations

from typing import Any

import pandas as pd

from simulator.runtime import phases
from simulator.runtime.runlog import MODES, OPS_COLUMN, PHASE_COLUMN

PHASE = PHASE_COLUMN
OPS = OPS_COLUMN


def phase_column(name: str) -> str:
    return PHASE + name


def phase_columns(rows: pd.DataFrame) -> list[str]:
    """The phases of the calls themselves (background work's phases left out)."""
    background = phase_column(phases.BACKGROUND)
    return [c for c in rows.columns if c.startswith(PHASE) and not c.startswith(background)]


def select(rows: pd.DataFrame, **where: Any) -> pd.DataFrame:
    mask = pd.Series(True, index=rows.index)
    for column, value in where.items():
        mask &= rows[column] == value
    return rows[mask]


def phase_total(rows: pd.DataFrame, names: tuple[str, ...]) -> pd.Series:
    columns = [phase_column(p) for p in names if phase_column(p) in rows.columns]
    if not columns:
        return pd.Series(0.0, index=rows.index)
    return rows[columns].sum(axis=1)


def measured(rows: pd.DataFrame) -> pd.DataFrame:
    """The calls of the runs about a mode (their role is `cold` or `warm`) that met that mode: a warm run's
    first calls, made before its pre-warming began, are cold and are left out."""
    if rows.empty:
        return rows
    return rows[rows["role"].isin(MODES) & (rows["mode"] == rows["role"])]


def run_async(rows: pd.DataFrame, design: str, mode: str) -> pd.DataFrame:
    """The run_async calls of `design` that met an object in `mode` and answered."""
    return select(rows, design=design, call="run_async", mode=mode, outcome="ok")


class AnsweredCalls:
    """`run_async(rows, design, mode)` for many (design, mode) pairs: the answered run_async calls
    grouped once, so each pair is a lookup instead of another pass over every row and column
    (what a sweep point, which reads a few dozen pairs, spent a third of its time on)."""

    def __init__(self, rows: pd.DataFrame) -> None:
        answered = select(rows, call="run_async", outcome="ok")
        self._none = answered.iloc[:0]
        self._groups: dict[tuple[str, str], pd.DataFrame] = {
            (str(design), str(mode)): calls
            for (design, mode), calls in answered.groupby(["design", "mode"], sort=False)
        }

    def __call__(self, design: str, mode: str) -> pd.DataFrame:
        return self._groups.get((design, mode), self._none)


def median_of(rows: pd.DataFrame, column: str) -> float:
    if column not in rows.columns or rows.empty:
        return 0.0
    return float(rows[column].median())


def mean_of(rows: pd.DataFrame, column: str) -> float:
    if column not in rows.columns or rows.empty:
        return 0.0
    return float(rows[column].mean())


def p50_by_design(rows: pd.DataFrame, mode: str) -> pd.Series:
    """The run_async p50 of every design in the rows, in `mode` (answered calls only): the one
    way the search, the gates and the report rank designs."""
    calls = select(rows, call="run_async", mode=mode, outcome="ok")
    return calls.groupby("design", sort=False)["latency_ms"].median()
