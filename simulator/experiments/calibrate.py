"""Calibrate the `seed-estimates` profile against the seed's baseline table, and only that table.

Method: the medians of eight operations are free parameters (in log space); every other aspect
of each distribution (its shape and its p99/median ratio) stays as the seed mapping gives it. For
a parameter vector, the baseline design is simulated cold (fresh ids) and warm (a resident
object), and each row of the seed's breakdown is measured as the p50 of its phases. The fit
minimises the sum of squared relative residuals, (measured - seed midpoint) / max(midpoint,
10 ms), over the twelve cells, with scipy's trust-region least squares and finite differences.
Common random numbers make the simulated figures smooth enough in the parameters for this.

Each median must stay in its plausible range (the `guess` and `range` tables of public-figures):
a cell that the fit cannot reach within them is evidence against the seed, and the fit's
Jacobian names the parameter that would have to leave its range. The same fit without the
ranges is kept as a note, never used.

Nothing about the changes (the seed's Expected Results) enters the fit: they are predicted after.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import least_squares

from engine.design import BASELINE
from simulator.experiments.run import rows_frame, simulate
from simulator.measure.rows import AnsweredCalls
from simulator.measure.seed_cells import breakdown_values
from simulator.model.distributions import (
    Constant,
    Distribution,
    Empirical,
    LogNormal,
    Mixture,
    Uniform,
)
from simulator.model.profile import Plausible, Profile, load_profile
from simulator.model.scenario import Scenario, load_scenario
from simulator.model.seed import BREAKDOWN
from simulator.paths import PROFILE_DIR
from simulator.whole_files import write_text

#: The seed's figures mapped onto operations: (median ms, p99 ms, where it comes from). The
#: starting point of the fit; ranges [low, high] are read as the 10th..90th percentile.
SEED_MAPPING: dict[str, tuple[float, float, str]] = {
    "stub_check": (10.0, 20.0, "seed: DO Stub Resolution ~10 ms"),
    "rpc": (1.5, 10.0, "GUESS (the seed names no hop latency)"),
    "cold_start": (20.0, 300.0, "GUESS (the seed names no start latency)"),
    "read": (19.2, 45.0, "seed #3: 9+ reads ~100-300 ms, ~11-33 ms each when sequential"),
    "commit": (70.7, 130.0, "seed: Queue Operation ~50-100 ms of storage writes"),
    "tracker_http": (316.2, 725.0, "seed: Event Flush HTTP ~200-500 ms"),
    "compute.layer-compose": (50.0, 100.0, "seed #2 and breakdown: layer build ~50 ms cold"),
    "compute.layer-provide": (1.0, 5.0, "seed: warm layer build 0 ms (GUESS: small)"),
}
FIXED: dict[str, Distribution] = {
    "alarm_delay": Mixture((0.999, 0.001), (LogNormal(5.0, 50.0), Constant(30_000.0))),
    "hibernation": Constant(10_000.0),
    "idle_eviction": Constant(105_000.0),
    "compute.default": Constant(1.0),
}
FIXED_SOURCES = {
    "alarm_delay": "GUESS (the seed names none): public-figures shape",
    "hibernation": "DOC durable-object-lifecycle: hibernates 'after 10 seconds of inactivity'",
    "idle_eviction": "DOC durable-object-lifecycle: evicted 'after 70-140 seconds of inactivity' (midpoint)",
    "compute.default": "GUESS: a step's own CPU work",
}
PLAUSIBLE_FROM = "public-figures"  # the profile whose plausible ranges bound the fit
CALIBRATED_PROFILE = "seed-estimates"  # the profile the fit writes
FIT_RECORD = PROFILE_DIR / "seed-estimates.fit.json"  # written beside the profile by write_profile
FITTED_TABLE = "breakdown"  # the seed's table it is fitted to (for the baseline only)
FLOOR_MS = 10.0  # residual scale floor, so that 0 ms and ~10 ms cells do not dominate


def mapping_profile(
    medians: dict[str, float] | None = None, ranges: dict[str, tuple[float, float]] | None = None
) -> Profile:
    """The seed mapping as a profile, with `medians` replacing the mapped medians; `ranges`, the
    plausible ranges the fit kept them in, go with it."""
    ops: dict[str, Distribution] = dict(FIXED)
    sources = dict(FIXED_SOURCES)
    plausible = []
    for op, (median, p99, source) in SEED_MAPPING.items():
        m = (medians or {}).get(op, median)
        ops[op] = LogNormal(m, m * p99 / median)
        sources[op] = source
        if ranges is not None:
            low, high = ranges[op]
            sources[op] += f"; fitted within the plausible range of {PLAUSIBLE_FROM}"
            plausible.append(Plausible(op, "median", low, high, guess=False))
    return Profile(
        "seed-estimates", ops, sources, "The seed's baseline table, fitted.", None, tuple(plausible)
    )


@dataclass(frozen=True)
class CalibrationScenarios:
    cold: Scenario
    warm: Scenario


def calibration_scenarios(duration_s: float = 120.0) -> CalibrationScenarios:
    changes: dict[str, Any] = {
        "duration_s": duration_s,
        "drain_s": 10.0,
        "replications": 1,
        "designs": ("baseline",),
    }
    return CalibrationScenarios(
        load_scenario("cold-start").with_changes(**changes),
        load_scenario("warm").with_changes(**changes),
    )


def measure(profile: Profile, scenarios: CalibrationScenarios) -> dict[tuple[str, str], float]:
    """The baseline's figure for every cell of the seed's breakdown (p50, ms)."""
    rows = rows_frame(
        [
            simulate(scenarios.cold, BASELINE, profile, 0),
            simulate(scenarios.warm, BASELINE, profile, 0),
        ]
    )
    return breakdown_values(AnsweredCalls(rows))


def residuals(measured: dict[tuple[str, str], float]) -> np.ndarray:
    return np.array(
        [(measured[(c.row, c.mode)] - c.range.mid) / max(c.range.mid, FLOOR_MS) for c in BREAKDOWN]
    )


@dataclass
class Fit:
    """One least-squares fit of the mapping's medians."""

    medians: dict[str, float]
    cost: float
    evaluations: int
    cells: list[dict[str, Any]]


@dataclass
class Calibration:
    profile: Profile  # the fit within the plausible ranges
    start_cost: float
    bounded: Fit
    unbounded: Fit  # the same fit with the ranges lifted: a note, never used
    ranges: dict[str, tuple[float, float]]

    @property
    def cost(self) -> float:
        return self.bounded.cost

    @property
    def evaluations(self) -> int:
        return self.bounded.evaluations

    @property
    def cells(self) -> list[dict[str, Any]]:
        return self.bounded.cells

    def out_of_range(self) -> list[str]:
        """The operations whose unbounded fit leaves their plausible range."""
        return [
            op
            for op, value in self.unbounded.medians.items()
            if not self.ranges[op][0] <= value <= self.ranges[op][1]
        ]


def plausible_ranges(profile_name: str = PLAUSIBLE_FROM) -> dict[str, tuple[float, float]]:
    """The plausible range of each fitted median, from the public figures."""
    profile = load_profile(profile_name)
    ranges = {}
    for op in SEED_MAPPING:
        plausible = profile.range_of(op, "median")
        if plausible is None:
            raise ValueError(f"{profile_name} gives no plausible range for the median of {op}")
        ranges[op] = (plausible.low, plausible.high)
    return ranges


def calibrate(
    duration_s: float = 120.0,
    max_evaluations: int = 200,
    progress: Callable[[float], None] | None = None,
) -> Calibration:
    """Fit the mapping's medians within their plausible ranges, and once more without them;
    `progress` is told the cost of every evaluation."""
    scenarios = calibration_scenarios(duration_s)
    names = list(SEED_MAPPING)
    ranges = plausible_ranges()
    low = np.log([ranges[n][0] for n in names])
    high = np.log([ranges[n][1] for n in names])
    seed_start = np.log([SEED_MAPPING[n][0] for n in names])

    def profile_at(theta: np.ndarray) -> Profile:
        return mapping_profile(dict(zip(names, np.exp(theta), strict=True)), ranges)

    def objective(theta: np.ndarray) -> np.ndarray:
        r = residuals(measure(profile_at(theta), scenarios))
        if progress is not None:
            progress(float(np.sum(r**2)))
        return r

    def fit(start: np.ndarray, bounds: tuple[Any, Any]) -> tuple[Fit, Any]:
        result = least_squares(
            objective,
            start,
            bounds=bounds,
            diff_step=0.05,
            max_nfev=max_evaluations,
            xtol=1e-3,
            ftol=1e-4,
        )
        medians = dict(zip(names, (float(v) for v in np.exp(result.x)), strict=True))
        cells = _cells(measure(profile_at(result.x), scenarios))
        return Fit(medians, float(np.sum(result.fun**2)), int(result.nfev), cells), result

    start_cost = float(np.sum(objective(seed_start) ** 2))
    bounded, result = fit(np.clip(seed_start, low, high), (low, high))
    unbounded, _ = fit(seed_start, (np.log(0.01), np.log(5000.0)))
    for cell, row in zip(bounded.cells, result.jac, strict=True):
        cell["why"] = (
            "" if cell["reached"] else _held_back_by(cell, row, bounded, unbounded, ranges)
        )
    return Calibration(profile_at(result.x), start_cost, bounded, unbounded, ranges)


def _cells(measured: dict[tuple[str, str], float]) -> list[dict[str, Any]]:
    cells = []
    for cell, r in zip(BREAKDOWN, residuals(measured), strict=True):
        value = measured[(cell.row, cell.mode)]
        cells.append(
            {
                "row": cell.row,
                "mode": cell.mode,
                "seed": cell.range.text,
                "seed_mid_ms": cell.range.mid,
                "fitted_ms": value,
                "residual": float(r),
                "reached": cell.range.verdict(value) == "within",
            }
        )
    return cells


def _held_back_by(
    cell: dict[str, Any],
    sensitivity: np.ndarray,
    bounded: Fit,
    unbounded: Fit,
    ranges: dict[str, tuple[float, float]],
) -> str:
    """Why the bounded fit cannot reach a cell: the parameter, at the edge of its range, whose
    move past that edge would bring the cell towards the seed most (from the fit's Jacobian)."""
    best: tuple[float, str, bool] | None = None
    for op, slope in zip(SEED_MAPPING, sensitivity, strict=True):
        if slope == 0:
            continue
        up = -cell["residual"] * slope > 0  # the direction that shrinks the residual
        low, high = ranges[op]
        value = bounded.medians[op]
        at_edge = value >= high * (1 - 1e-6) if up else value <= low * (1 + 1e-6)
        if at_edge and (best is None or abs(slope) > best[0]):
            best = (abs(slope), op, up)
    if best is None:
        return (
            "no fitted parameter at the edge of its range moves it: the model's structure "
            "keeps it from the seed's figure"
        )
    _, op, up = best
    edge = ranges[op][1] if up else ranges[op][0]
    return (
        f"`{op}` would have to go {'above' if up else 'below'} {edge:g} ms, the edge of its "
        f"plausible range (the unbounded fit puts it at {unbounded.medians[op]:.3g} ms)"
    )


def profile_toml(calibration: Calibration) -> str:
    """The fitted profile as a TOML file whose header records the fit."""
    lines = [
        "# seed-estimates: the seed's figures mapped onto operations, then fitted to the seed's",
        "# baseline breakdown (cold and warm) only. Written by `python -m simulator calibrate`;",
        "# do not edit by hand. Method: simulator/experiments/calibrate.py.",
        f"# Fit: sum of squared relative residuals {calibration.start_cost:.3f} at the seed "
        f"mapping -> {calibration.cost:.3f} after {calibration.evaluations} evaluations.",
        "# Residuals, (fitted - seed midpoint) / max(midpoint, 10 ms):",
    ]
    for cell in calibration.cells:
        mark = "within the seed's range" if cell["reached"] else "NOT reached"
        lines.append(
            f"#   {cell['row']} ({cell['mode']}): seed {cell['seed']}, fitted "
            f"{cell['fitted_ms']:.1f} ms, residual {cell['residual']:+.2f}, {mark}"
        )
    lines += [
        "",
        'name = "seed-estimates"',
        'description = "The seed\'s baseline breakdown, fitted (simulator/experiments/calibrate.py)."',
        "",
    ]
    for op, dist in calibration.profile.ops.items():
        lines.append(f"[ops.{_toml_key(op)}]")
        lines += dist_lines(dist)
        lines.append(f"source = {toml_string(calibration.profile.sources.get(op, ''))}")
        plausible = calibration.profile.range_of(op, "median")
        if plausible is not None:
            lines.append(f"range = {{ median = [{plausible.low:g}, {plausible.high:g}] }}")
        lines.append("")
    return "\n".join(lines)


def toml_string(text: str) -> str:
    """`text` as a TOML basic string. JSON's escapes of quotes, backslashes and control
    characters are TOML's too; other characters are written as they are (JSON's `\\uXXXX`
    surrogate pairs for characters beyond U+FFFF are not TOML), but DEL, which JSON leaves
    as it is and TOML does not allow, is escaped."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _toml_key(op: str) -> str:
    return op if not op.startswith("compute.") else f'compute."{op.removeprefix("compute.")}"'


def dist_lines(dist: Distribution) -> list[str]:
    if isinstance(dist, LogNormal):
        return ['dist = "lognormal"', f"median = {dist.median_ms:.4g}", f"p99 = {dist.p99_ms:.4g}"]
    if isinstance(dist, Constant):
        return ['dist = "constant"', f"value = {dist.value:.6g}"]
    if isinstance(dist, Uniform):
        return ['dist = "uniform"', f"low = {dist.low:.6g}", f"high = {dist.high:.6g}"]
    if isinstance(dist, Empirical):
        return ['dist = "empirical"', f"samples = [{', '.join(f'{s:.6g}' for s in dist.samples)}]"]
    if isinstance(dist, Mixture):
        parts = ", ".join(
            "{{ weight = {:g}, {} }}".format(w, ", ".join(dist_lines(p)))
            for w, p in zip(dist.weights, dist.parts, strict=True)
        )
        return ['dist = "mixture"', f"parts = [{parts}]"]
    raise TypeError(f"cannot write {dist!r}")


def fit_record(calibration: Calibration) -> dict[str, Any]:
    """What the report shows of the fit (written beside the profile as .fit.json)."""
    unbounded = calibration.unbounded
    return {
        "start_cost": calibration.start_cost,
        "cost": calibration.cost,
        "evaluations": calibration.evaluations,
        "medians": {op: calibration.profile.ops[op].median() for op in SEED_MAPPING},
        "ranges": {op: list(bounds) for op, bounds in calibration.ranges.items()},
        "ranges_from": PLAUSIBLE_FROM,
        "cells": calibration.cells,
        "unbounded": {
            "cost": unbounded.cost,
            "evaluations": unbounded.evaluations,
            "medians": unbounded.medians,
            "out_of_range": calibration.out_of_range(),
            "cells": unbounded.cells,
        },
    }


def write_profile(calibration: Calibration, path: Path | None = None) -> Path:
    """Write the fitted profile and, beside it, the record of the fit."""
    path = path or PROFILE_DIR / "seed-estimates.toml"
    write_text(path.with_suffix(".fit.json"), json.dumps(fit_record(calibration), indent=1) + "\n")
    return write_text(path, profile_toml(calibration))


def load_fit_record(path: Path | None = None) -> dict[str, Any] | None:
    path = path or FIT_RECORD
    if not path.exists():
        return None
    record: dict[str, Any] = json.loads(path.read_text())
    return record
