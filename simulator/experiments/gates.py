"""Regression gates on simulated figures: a change that makes run_async slower or loses events
fails the build.

Simulated time is deterministic for a seed, so the gate compares each figure with its committed
expected value (`simulator/data/gates.json`) at a tight tolerance. When a change is intended,
`make accept-bench` records the new values.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from engine.design import PRESETS, design_by_name
from simulator.experiments.run import scenario_profile
from simulator.experiments.suite import MODES, Job, fault_jobs, run_jobs
from simulator.measure.rows import run_async
from simulator.model.profile import Profile, load_profile
from simulator.model.scenario import load_scenario
from simulator.paths import DATA_DIR

EXPECTED_PATH = DATA_DIR / "gates.json"
ACCEPT_COMMAND = "make accept-bench"
REL_TOLERANCE = 1e-6
ABS_TOLERANCE = 1e-6
GATE_FORMAT = 1


@dataclass(frozen=True)
class GateSpec:
    duration_s: float = 30.0  # cold and warm arrivals per (profile, design)
    faults_duration_s: float = 60.0  # arrivals per fault-matrix run
    profiles: tuple[str, ...] = ("seed-estimates", "public-figures")
    designs: tuple[str, ...] = tuple(PRESETS)


def measure(
    spec: GateSpec | None = None, profiles: dict[str, Profile] | None = None
) -> dict[str, float]:
    """Every gated figure, keyed `profile/design/mode/stat` or `faults/design/count`."""
    spec = spec or GateSpec()
    designs = [design_by_name(name) for name in spec.designs]
    jobs: list[Job] = []
    keys: list[str] = []  # per job: `profile/design/mode`, or the design of a fault run
    for profile_name in spec.profiles:
        base = (profiles or {}).get(profile_name) or load_profile(profile_name)
        for mode, scenario_name in MODES.items():
            scenario = load_scenario(scenario_name).with_changes(
                duration_s=spec.duration_s, drain_s=10.0, replications=1
            )
            profile = scenario_profile(scenario, base)
            jobs += [Job(profile, scenario, mode, design, 0) for design in designs]
            keys += [f"{profile_name}/{name}/{mode}" for name in spec.designs]
    faults = fault_jobs(designs, spec.faults_duration_s)
    jobs += faults
    keys += [spec.designs[i % len(designs)] for i in range(len(faults))]
    figures: dict[str, float] = {}
    lost: Counter[str] = Counter()
    orphaned: Counter[str] = Counter()
    for job, key, result in zip(jobs, keys, run_jobs(jobs), strict=True):
        if job.role.startswith("fault:"):
            lost[key] += result.stats["events_lost"]
            orphaned[key] += result.stats["orphaned"]
            continue
        latency = run_async(pd.DataFrame(result.rows), result.design, job.role)["latency_ms"]
        figures[f"{key}/p50_ms"] = float(latency.quantile(0.5))
        figures[f"{key}/p99_ms"] = float(latency.quantile(0.99))
    for name in spec.designs:
        figures[f"faults/{name}/events_lost"] = float(lost[name])
        figures[f"faults/{name}/orphaned"] = float(orphaned[name])
    return figures


@dataclass(frozen=True)
class Move:
    key: str
    expected: float | None
    measured: float | None

    @property
    def change(self) -> str:
        if self.expected is None:
            return "new"
        if self.measured is None:
            return "gone"
        delta = self.measured - self.expected
        relative = f" ({delta / self.expected:+.1%})" if self.expected else ""
        return f"{delta:+.3f}{relative}"


def compare(expected: dict[str, float], measured: dict[str, float]) -> list[Move]:
    moves = []
    for key in sorted(expected.keys() | measured.keys()):
        old, new = expected.get(key), measured.get(key)
        if (
            old is None
            or new is None
            or not math.isclose(old, new, rel_tol=REL_TOLERANCE, abs_tol=ABS_TOLERANCE)
        ):
            moves.append(Move(key, old, new))
    return moves


def describe_moves(moves: list[Move]) -> str:
    width = max(len(m.key) for m in moves)
    lines = [
        f"{len(moves)} gated figure(s) moved:",
        f"  {'figure':<{width}}  {'expected':>12}  {'measured':>12}  change",
    ]
    for m in moves:
        old = "—" if m.expected is None else f"{m.expected:.3f}"
        new = "—" if m.measured is None else f"{m.measured:.3f}"
        lines.append(f"  {m.key:<{width}}  {old:>12}  {new:>12}  {m.change}")
    lines.append(
        f"If the change is intended, record the new values with `{ACCEPT_COMMAND}` "
        "and commit simulator/data/gates.json."
    )
    return "\n".join(lines)


def load_expected(path: Path = EXPECTED_PATH) -> dict[str, float]:
    document: dict[str, Any] = json.loads(path.read_text())
    figures: dict[str, float] = document["figures"]
    return figures


def write_expected(figures: dict[str, float], path: Path = EXPECTED_PATH) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "format": GATE_FORMAT,
        "generated_by": ACCEPT_COMMAND,
        "tolerance": {"relative": REL_TOLERANCE, "absolute": ABS_TOLERANCE},
        "figures": figures,
    }
    path.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
    return path
