"""Regression gates on simulated figures: a change that makes run_async slower or loses more
fails the build; a change that makes it faster or safer passes and says how to record it.

Every gated figure is better when lower: the p50 and p99 of run_async per (profile, design,
mode), and per design, over the fault matrix, the events lost, the orphaned workflows and the
violations (`simulator.measure.correctness.SAFETY`). Simulated time is deterministic for a seed,
so tolerances are small: latency may move by 1 % (or 0.1 ms) either way unremarked; a count may
not grow at all. The expected values live in `simulator/data/gates.json`; `make accept-bench`
records the figures of the current code there.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from engine.design import PRESETS, design_by_name
from simulator.experiments.executors import executor
from simulator.experiments.jobs import FAULT, Job, run_jobs
from simulator.experiments.suite import fault_jobs, mode_jobs
from simulator.measure.correctness import violations
from simulator.measure.rows import p50_by_design, run_async
from simulator.model.profile import Profile, load_profile
from simulator.paths import DATA_DIR
from simulator.whole_files import write_text

EXPECTED_PATH = DATA_DIR / "gates.json"
ACCEPT_COMMAND = "make accept-bench"
GATE_FORMAT = 2
FAULT_COUNTS = ("events_lost", "orphaned", "violations")


@dataclass(frozen=True)
class Tolerance:
    relative: float
    absolute: float

    def allows(self, expected: float, measured: float) -> bool:
        """Whether `measured` is within tolerance of `expected`, either way."""
        return abs(measured - expected) <= max(self.absolute, self.relative * abs(expected))


LATENCY = Tolerance(relative=0.01, absolute=0.1)
COUNT = Tolerance(relative=0.0, absolute=0.0)


def tolerance(key: str) -> Tolerance:
    return COUNT if key.startswith("faults/") else LATENCY


@dataclass(frozen=True)
class GateSpec:
    duration_s: float = 30.0  # cold and warm arrivals per (profile, design)
    faults_duration_s: float = 60.0  # arrivals per fault-matrix run
    profiles: tuple[str, ...] = ("seed-estimates", "public-figures")
    designs: tuple[str, ...] = tuple(PRESETS)


def measure(
    spec: GateSpec | None = None,
    profiles: dict[str, Profile] | None = None,
    pool: Executor | None = None,
) -> dict[str, float]:
    """Every gated figure, keyed `profile/design/mode/stat` or `faults/design/count`."""
    spec = spec or GateSpec()
    designs = [design_by_name(name) for name in spec.designs]
    jobs: list[Job] = []
    keys: list[str] = []  # per job: its profile's name (a mode's run) or nothing (a fault run)
    for name in spec.profiles:
        base = (profiles or {}).get(name) or load_profile(name)
        modes = mode_jobs(base, designs, spec.duration_s, drain_s=10.0, replications=1)
        jobs += modes
        keys += [name] * len(modes)
    faults = fault_jobs(designs, spec.faults_duration_s)
    jobs += faults
    keys += [""] * len(faults)
    figures: dict[str, float] = {}
    counts: Counter[str] = Counter()
    if pool is None:
        with executor() as local:
            results = list(run_jobs(jobs, local))
    else:
        results = list(run_jobs(jobs, pool))
    for job, profile, result in zip(jobs, keys, results, strict=True):
        if job.role.kind == FAULT:
            stats = {**result.stats, "violations": violations(result.stats)}
            for count in FAULT_COUNTS:
                counts[f"faults/{result.design}/{count}"] += stats[count]
            continue
        mode = job.role.kind
        rows = result.rows
        prefix = f"{profile}/{result.design}/{mode}"
        figures[f"{prefix}/p50_ms"] = float(p50_by_design(rows, mode)[result.design])
        latency = run_async(rows, result.design, mode)["latency_ms"]
        figures[f"{prefix}/p99_ms"] = float(latency.quantile(0.99))
    for name in spec.designs:
        for count in FAULT_COUNTS:
            key = f"faults/{name}/{count}"
            figures[key] = float(counts[key])
    return figures


@dataclass(frozen=True)
class Move:
    key: str
    expected: float | None
    measured: float | None

    @property
    def kind(self) -> Literal["regressed", "improved", "new", "gone"]:
        if self.expected is None:
            return "new"
        if self.measured is None:
            return "gone"
        return "regressed" if self.measured > self.expected else "improved"

    @property
    def fails(self) -> bool:
        """A figure that got worse, or that is no longer measured, fails the gate."""
        return self.kind in ("regressed", "gone")

    @property
    def change(self) -> str:
        if self.expected is None or self.measured is None:
            return self.kind
        delta = self.measured - self.expected
        relative = f" ({delta / self.expected:+.1%})" if self.expected else ""
        return f"{delta:+.3f}{relative}"


def compare(expected: dict[str, float], measured: dict[str, float]) -> list[Move]:
    """The figures that moved beyond their tolerance, appeared or disappeared. A figure measured
    as NaN (nothing to measure it on: no call answered) has disappeared."""
    moves = []
    for key in sorted(expected.keys() | measured.keys()):
        old, new = expected.get(key), measured.get(key)
        if new is not None and math.isnan(new):
            new = None
        if old is None or new is None or not tolerance(key).allows(old, new):
            moves.append(Move(key, old, new))
    return moves


def describe_moves(moves: list[Move]) -> str:
    """The moves as a table, regressions first, and what to do about them."""
    if not moves:
        return "no gated figure moved beyond its tolerance"
    ordered = sorted(moves, key=lambda m: (not m.fails, m.kind, m.key))
    width = max(len(m.key) for m in ordered)
    failing = sum(m.fails for m in ordered)
    lines = [
        f"{failing} gated figure(s) regressed or disappeared, "
        f"{len(ordered) - failing} improved or appeared:",
        f"  {'':9}  {'figure':<{width}}  {'expected':>12}  {'measured':>12}  change",
    ]
    for m in ordered:
        old = "—" if m.expected is None else f"{m.expected:.3f}"
        new = "—" if m.measured is None else f"{m.measured:.3f}"
        lines.append(f"  {m.kind:<9}  {m.key:<{width}}  {old:>12}  {new:>12}  {m.change}")
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
        "tolerance": {
            "latency": {"relative": LATENCY.relative, "absolute_ms": LATENCY.absolute},
            "counts": {"relative": COUNT.relative, "absolute": COUNT.absolute},
            "direction": "lower is better; only a rise beyond tolerance fails",
        },
        "figures": figures,
    }
    return write_text(path, json.dumps(document, indent=1, sort_keys=True) + "\n")
