"""Robust or fragile: does a verdict hold across every guess's plausible range?

For the profile of public figures, every guessed parameter is moved alone to each end of its
plausible range (the other parameters nominal), and the seed's cells and the key claims are
measured again, with short runs and the same random numbers as the nominal point. A verdict that
is the same at every end is *robust*; one that changes is *fragile*, and the label says at which
value of which parameter it flips. Between the ends, the verdicts are assumed not to change
direction twice (the sweep, `python -m simulator sweep`, looks inside the ranges).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

from simulator.experiments.sweep import (
    CELL,
    DIFF_HIGH,
    DIFF_LOW,
    SEP,
    TOP_PHASE,
    point_jobs,
    points,
    summaries,
)
from simulator.measure.seed_cells import CellKey, cell_designs, verdicts
from simulator.model.profile import load_profile
from simulator.model.seed import OPTIMIZED
from simulator.model.sweep_spec import Parameter, SweepSpec
from simulator.runtime.runlog import MODES

PROFILE = "public-figures"
DURATION_S = 15.0
SEED = 1


@dataclass(frozen=True)
class Flip:
    parameter: str
    value: float
    verdict: str


@dataclass
class Label:
    nominal: str  # the verdict at the nominal point, with the short runs
    flips: list[Flip] = field(default_factory=list)

    @property
    def robust(self) -> bool:
        return not self.flips

    def text(self) -> str:
        if self.robust:
            return "robust"
        first = self.flips[0]
        more = f" (+{len(self.flips) - 1} more)" if len(self.flips) > 1 else ""
        return f"fragile: {first.verdict} at `{first.parameter}` = {first.value:.3g}{more}"


@dataclass
class Robustness:
    profile: str
    parameters: list[str]
    cells: dict[CellKey, Label]
    claims: dict[str, Label]
    points: int
    duration_s: float

    def record(self) -> dict[str, Any]:
        def flips(label: Label) -> list[dict[str, Any]]:
            return [vars(f) for f in label.flips]

        return {
            "profile": self.profile,
            "parameters": self.parameters,
            "points": self.points,
            "duration_s": self.duration_s,
            "cells": [
                {
                    "table": t,
                    "row": r,
                    "mode": m,
                    "nominal": v.nominal,
                    "robust": v.robust,
                    "flips": flips(v),
                }
                for (t, r, m), v in self.cells.items()
            ],
            "claims": [
                {"claim": c, "nominal": v.nominal, "robust": v.robust, "flips": flips(v)}
                for c, v in self.claims.items()
            ],
        }


def robustness_spec(best: str | None, duration_s: float = DURATION_S) -> SweepSpec:
    profile = load_profile(PROFILE)
    designs = cell_designs() + ([best] if best and best not in cell_designs() else [])
    return SweepSpec(
        name="robustness",
        profile=PROFILE,
        designs=tuple(designs),
        modes=MODES,
        parameters=tuple(
            Parameter(p.op, p.parameter, p.low, p.high) for p in profile.plausible if p.guess
        ),
        oat_levels=2,
        lhs_points=0,
        replications=1,
        seed=SEED,
        duration_s=duration_s,
        drain_s=10.0,
    )


def _contrasts(best: str | None) -> tuple[tuple[str, str], ...]:
    return ((best, OPTIMIZED.label()),) if best is not None else ()


def _claims(summary: dict[str, Any], best: str | None) -> dict[str, str]:
    """The key claims at one point, each as the answer it gives. The best design against the
    seed's set is *faster* or *slower* only when the 95 % interval of the median difference on
    the same calls excludes zero, else *indistinguishable*."""
    claims = {"the baseline's largest cold phase": str(summary.get(TOP_PHASE))}
    for ours, theirs in _contrasts(best):
        for mode in MODES:
            key = f"{ours}{SEP}{theirs}{SEP}{mode}"
            low, high = summary[f"{DIFF_LOW}{key}"], summary[f"{DIFF_HIGH}{key}"]
            claims[f"the best design against `{theirs}` on the same calls, {mode}"] = (
                "faster" if high < 0 else "slower" if low > 0 else "indistinguishable"
            )
    return claims


def check(
    pool: Executor | None,
    best: str | None,
    on_point: Callable[[], None] | None = None,
    duration_s: float = DURATION_S,
) -> Robustness:
    spec = robustness_spec(best, duration_s)
    every = points(spec)
    rows = []
    for summary in summaries(point_jobs(spec, every, _contrasts(best)), pool):
        rows.append(summary)
        if on_point is not None:
            on_point()
    nominal = rows[0]

    def cell_verdicts(summary: dict[str, Any]) -> dict[CellKey, str]:
        values: dict[CellKey, float] = {}
        for column, value in summary.items():
            if column.startswith(CELL):
                table, row, mode = column.removeprefix(CELL).split(SEP)
                values[(table, row, mode)] = value
        return verdicts(values)

    base_cells, base_claims = cell_verdicts(nominal), _claims(nominal, best)
    cells = {key: Label(verdict) for key, verdict in base_cells.items()}
    claims = {key: Label(answer) for key, answer in base_claims.items()}
    for point, summary in zip(every[1:], rows[1:], strict=True):
        ((name, value),) = point.values
        for cell, verdict in cell_verdicts(summary).items():
            if verdict != base_cells[cell]:
                cells[cell].flips.append(Flip(name, value, verdict))
        for claim, answer in _claims(summary, best).items():
            if answer != base_claims[claim]:
                claims[claim].flips.append(Flip(name, value, answer))
    return Robustness(
        PROFILE, [p.name for p in spec.parameters], cells, claims, len(every), duration_s
    )
