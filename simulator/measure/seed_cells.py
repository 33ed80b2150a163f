"""Every cell of the seed's tables as one number measured from rows, and its verdict.

The report computes the same cells with bootstrap intervals and explanations
(`simulator.report.seed_checks`); sweeps and the robustness check need only the point value, at
many parameter settings, so it is computed here, from the same selections.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulator.measure.rows import AnsweredCalls, phase_total
from simulator.measure.stats import median_saving
from simulator.model.seed import (
    BREAKDOWN,
    BREAKDOWN_PHASES,
    OPTIMIZED,
    expected_designs,
    seed_cells,
)
from simulator.runtime.runlog import MODES

CellKey = tuple[str, str, str]  # (table, row, mode)


def cell_designs() -> list[str]:
    """The designs whose runs the seed's cells are measured from."""
    names = ["baseline", *(d.label() for d in expected_designs().values()), OPTIMIZED.label()]
    return list(dict.fromkeys(names))


def _median(values: pd.Series) -> float:
    return float(np.median(values)) if len(values) else float("nan")


def breakdown_values(answered: AnsweredCalls) -> dict[tuple[str, str], float]:
    """The baseline's p50 for every (row, mode) of the seed's breakdown: a phase's, or the
    whole call's for its Total."""
    values: dict[tuple[str, str], float] = {}
    for cell in BREAKDOWN:
        calls = answered("baseline", cell.mode)
        measured = (
            calls["latency_ms"]
            if cell.row == "Total"
            else phase_total(calls, BREAKDOWN_PHASES[cell.row])
        )
        values[(cell.row, cell.mode)] = _median(measured)
    return values


def cell_values(answered: AnsweredCalls) -> dict[CellKey, float]:
    """The point value of every cell: phase p50s of the baseline, each change's p50 saving over
    the baseline, the optimized set's p50."""
    values: dict[CellKey, float] = {
        ("breakdown", row, mode): value for (row, mode), value in breakdown_values(answered).items()
    }
    for row, design in expected_designs().items():
        for mode in MODES:
            values[("expected", row, mode)] = median_saving(
                answered("baseline", mode), answered(design.label(), mode)
            )
    for mode in MODES:
        values[("totals", "Optimized run_async", mode)] = _median(
            answered(OPTIMIZED.label(), mode)["latency_ms"]
        )
    return values


def verdicts(values: dict[CellKey, float]) -> dict[CellKey, str]:
    """Each cell's verdict against the seed's range, from its point value."""
    out = {}
    for cell in seed_cells():
        value = values.get((cell.table, cell.row, cell.mode), float("nan"))
        out[(cell.table, cell.row, cell.mode)] = (
            "n/a" if np.isnan(value) else cell.range.verdict(value)
        )
    return out
