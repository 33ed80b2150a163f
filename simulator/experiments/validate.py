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
from engine.ops import PLATFORM_KINDS
from simulator.experiments.run import scenario_profile, simulate
from simulator.experiments.suite import MODES
from simulator.measure.rows import run_async
from simulator.model.profile import Profile
from simulator.model.scenario import load_scenario
from simulator.runtime.runlog import OPS_COLUMN

P50_TOLERANCE, P50_FLOOR_MS, P95_TOLERANCE = 0.15, 2.0, 0.25
#: The engine's storage calls: on workerd each costs a few microseconds even when it is served
#: by the cache or goes into the open batch, where the model takes it as free.
STORAGE_KINDS = tuple(k for k in PLATFORM_KINDS if k not in ("http", "compute"))


@dataclass(frozen=True)
class ValidationSpec:
    designs: tuple[str, ...] = tuple(PRESETS)
    #: Of arrivals, in real time on workerd: about 90 calls per cold cell, so that a p95 is not
    #: one call (with 10 s, about 30 calls, the p95 of a cell moved by up to 35 ms between two
    #: runs of the same code).
    duration_s: float = 30.0
    rate_per_s: float = 3.0
    seed: int = 11


def p50_holds(predicted: float, measured: float) -> bool:
    return abs(predicted - measured) <= max(P50_TOLERANCE * measured, P50_FLOOR_MS)


def p95_holds(predicted: float, measured: float) -> bool:
    return abs(predicted - measured) <= P95_TOLERANCE * measured


def meets_goal(row: dict[str, Any]) -> bool:
    """Whether a (design, mode) cell of the validation meets the goal at p50 and at p95."""
    return bool(row.get("p50_holds")) and bool(row.get("p95_holds"))


#: Bootstrap rounds for the interval of a measured quantile (calls resampled).
BOOTS = 1000


def measured_interval(latencies: np.ndarray, q: float, seed: int) -> list[float]:
    """The 95 % bootstrap interval of the q-quantile of measured calls (calls resampled: it
    leaves out what calls share, such as the machine's state, so it is if anything too narrow)."""
    rng = np.random.default_rng(seed)
    picks = rng.integers(len(latencies), size=(BOOTS, len(latencies)))
    low, high = np.quantile(np.quantile(latencies[picks], q, axis=1), [0.025, 0.975])
    return [float(low), float(high)]


def within_noise(
    predicted: float, interval: list[float], holds: Callable[[float, float], bool]
) -> bool:
    """Whether the goal holds against some value in the measured quantile's interval. The
    closest value to the prediction is the best chance, and the tolerances grow with the value,
    so the ends of the interval are the only values to try besides the prediction itself."""
    low, high = interval
    return low <= predicted <= high or holds(predicted, low) or holds(predicted, high)


def _calls(rows: pd.DataFrame, design: str, mode: str) -> pd.DataFrame:
    return run_async(rows, design_by_name(design).label(), mode)


def unpriced_storage_calls(calls: pd.DataFrame) -> float:
    """The median run_async call's storage calls that pay no latency in the model: every storage
    call but the read misses."""
    if calls.empty:
        return 0.0
    storage = sum(calls[OPS_COLUMN + kind] for kind in STORAGE_KINDS)
    return float((storage - calls[OPS_COLUMN + "read_miss"]).median())


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
            calls = _calls(predicted, design, mode)
            live = _calls(measured, design, mode)["latency_ms"].to_numpy(dtype=float)
            sim = calls["latency_ms"].to_numpy(dtype=float)
            row: dict[str, Any] = {
                "design": design,
                "mode": mode,
                "calls": len(live),
                "unpriced_storage_calls": unpriced_storage_calls(calls),
            }
            for q, name_q in ((0.5, "p50"), (0.95, "p95")):
                row[f"{name_q}_predicted_ms"] = float(np.quantile(sim, q)) if len(sim) else None
                row[f"{name_q}_measured_ms"] = float(np.quantile(live, q)) if len(live) else None
                if len(live) > 1:
                    row[f"{name_q}_measured_ci"] = measured_interval(live, q, spec.seed)
            if len(live) and len(sim):
                row["p50_ratio"] = row["p50_predicted_ms"] / row["p50_measured_ms"]
                row["p95_ratio"] = row["p95_predicted_ms"] / row["p95_measured_ms"]
                row["p50_holds"] = p50_holds(row["p50_predicted_ms"], row["p50_measured_ms"])
                row["p95_holds"] = p95_holds(row["p95_predicted_ms"], row["p95_measured_ms"])
            out.append(row)
    return out
