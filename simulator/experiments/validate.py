"""Validation of the simulated platform against workerd: the same plans, predicted and measured.

For every preset design, cold and warm, the scenario's plan of run_async calls runs on workerd
(the live runtime, real time) and on the simulated platform under a profile fitted to
micro-benchmarks of the same workerd (`local-workerd`). The table holds p50 and p95 of both and
their ratio. The goal: every p50 within 15 % (or 2 ms, whichever is larger), every p95 within
25 %.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from engine.design import PRESETS, design_by_name
from simulator.experiments.run import scenario_profile, simulate
from simulator.experiments.suite import MODES
from simulator.measure.rows import run_async
from simulator.model.profile import Profile
from simulator.model.scenario import load_scenario

P50_TOLERANCE, P50_FLOOR_MS, P95_TOLERANCE = 0.15, 2.0, 0.25


@dataclass(frozen=True)
class ValidationSpec:
    designs: tuple[str, ...] = tuple(PRESETS)
    duration_s: float = 10.0  # of arrivals, in real time on workerd
    rate_per_s: float = 3.0
    seed: int = 11


def p50_holds(predicted: float, measured: float) -> bool:
    return abs(predicted - measured) <= max(P50_TOLERANCE * measured, P50_FLOOR_MS)


def p95_holds(predicted: float, measured: float) -> bool:
    return abs(predicted - measured) <= P95_TOLERANCE * measured


def _latency(rows: list[dict[str, Any]], design: str, mode: str) -> np.ndarray:
    return run_async(pd.DataFrame(rows), design_by_name(design).label(), mode)[
        "latency_ms"
    ].to_numpy(dtype=float)


def validate(
    profile: Profile,
    spec: ValidationSpec,
    on_run: Callable[[str, str], None] | None = None,
) -> list[dict[str, Any]]:
    """One row per (design, mode): p50 and p95 predicted and measured, with the verdicts."""
    out = []
    for mode, name in MODES.items():
        base = load_scenario(name)
        scenario = base.with_changes(
            duration_s=spec.duration_s,
            drain_s=3.0,
            seed=spec.seed,
            workload=replace(base.workload, rate_per_s=spec.rate_per_s),
        )
        priced = scenario_profile(scenario, profile)
        for design in spec.designs:
            measured = simulate(scenario, design_by_name(design), priced, 0, runtime="live").rows
            predicted = simulate(scenario, design_by_name(design), priced, 0).rows
            if on_run is not None:
                on_run(design, mode)
            live, sim = _latency(measured, design, mode), _latency(predicted, design, mode)
            row: dict[str, Any] = {"design": design, "mode": mode, "calls": len(live)}
            for q, name_q in ((0.5, "p50"), (0.95, "p95")):
                row[f"{name_q}_predicted_ms"] = float(np.quantile(sim, q)) if len(sim) else None
                row[f"{name_q}_measured_ms"] = float(np.quantile(live, q)) if len(live) else None
            if len(live) and len(sim):
                row["p50_ratio"] = row["p50_predicted_ms"] / row["p50_measured_ms"]
                row["p95_ratio"] = row["p95_predicted_ms"] / row["p95_measured_ms"]
                row["p50_holds"] = p50_holds(row["p50_predicted_ms"], row["p50_measured_ms"])
                row["p95_holds"] = p95_holds(row["p95_predicted_ms"], row["p95_measured_ms"])
            out.append(row)
    return out
