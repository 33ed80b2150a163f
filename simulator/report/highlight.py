"""Which designs a figure is about, and which designs it cannot tell apart.

A figure of seventeen designs makes no point. The report's figures colour and name the designs
its argument turns on (the baseline, the seed's set, the best design, the floor: `featured`) and
grey the rest; designs whose latency curves coincide share one line that names them all, so a
reader sees that they coincide instead of a line hidden under another.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulator.experiments.floor import FLOOR
from simulator.measure.rows import measured, p50_by_design
from simulator.model.seed import OPTIMIZED
from simulator.report.section import Inputs

BASELINE = "baseline"
SEED_SET = "the seed's set"
BEST = "best design"
FASTEST = "fastest design"  # when no search ran: the lowest cold p50, not checked for safety
FLOOR_ROLE = "floor"

#: The percentiles at which two latency distributions are compared.
COMPARED_AT = (0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1.0)


def fastest_design(inputs: Inputs, profile: str) -> str:
    """The search's best design, or else the design with the lowest cold run_async p50."""
    if inputs.search is not None and inputs.search.best is not None:
        return inputs.search.best.label()
    mine = measured(inputs.rows)
    p50 = p50_by_design(mine[mine["profile"] == profile], "cold").drop(FLOOR, errors="ignore")
    return str(p50.sort_index().idxmin()) if len(p50) else BASELINE


def featured(inputs: Inputs, profile: str) -> dict[str, str]:
    """The designs the report's argument turns on, each with the role a reader knows it by
    (a design in two roles keeps the first)."""
    searched = inputs.search is not None and inputs.search.best is not None
    roles = {
        BASELINE: BASELINE,
        OPTIMIZED.label(): SEED_SET,
        fastest_design(inputs, profile): BEST if searched else FASTEST,
        FLOOR: FLOOR_ROLE,
    }
    out: dict[str, str] = {}
    for design, role in roles.items():
        out.setdefault(design, role)
    return out


def coinciding(curves: dict[str, np.ndarray], tolerance: float = 0.0) -> list[list[str]]:
    """The designs in groups whose latencies coincide: with `tolerance` 0, the same sorted
    latencies; otherwise every percentile of `COMPARED_AT` within that fraction of the first
    member's. Groups and their members keep the order of `curves`."""
    groups: list[list[str]] = []
    for design, values in curves.items():
        home = next((g for g in groups if _alike(curves[g[0]], values, tolerance)), None)
        if home is None:
            groups.append([design])
        else:
            home.append(design)
    return groups


def _alike(first: np.ndarray, other: np.ndarray, tolerance: float) -> bool:
    if len(first) == 0 or len(other) == 0:
        return len(first) == len(other)
    if tolerance == 0:
        return bool(np.array_equal(np.sort(first), np.sort(other)))
    a, b = np.quantile(first, COMPARED_AT), np.quantile(other, COMPARED_AT)
    return bool(np.all(np.abs(b - a) <= tolerance * np.abs(a)))


def group_label(group: list[str], roles: dict[str, str], tolerance: float = 0.0) -> str:
    """The designs of a group, the featured ones with their role, and how alike they are:
    "seed-recommended (the seed's set), seed-priority-2 (identical)"."""
    names = ", ".join(f"{d} ({roles[d]})" if roles.get(d, d) != d else d for d in group)
    if len(group) == 1:
        return names
    return names + (" (identical)" if tolerance == 0 else f" (within {tolerance:.0%})")


def latencies(rows: pd.DataFrame) -> dict[str, np.ndarray]:
    """The sorted latencies of every design in the rows, in the rows' order of designs."""
    return {
        str(design): np.sort(calls["latency_ms"].dropna().to_numpy())
        for design, calls in rows.groupby("design", sort=False)
    }
