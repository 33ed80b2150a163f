"""Fault soaks: many random fault schedules against designs that claim to keep every invariant.

Schedule `i` of a soak with seed `s` is drawn from its own generator, keyed by (s, i): up to three
deploys, restarts, crashes and evictions at random instants of the base scenario's arrivals
(`scenarios/soak.toml`), and, one time in two, a tracker outage of 0.1 to 60 s. So schedule 7,423
is the same on any machine and in any chunk, and a soak can be split over a cluster. Jobs carry
chunks of schedule numbers, not the schedules, and send back only the schedules that broke an
invariant. A broken schedule is shrunk (each fault removed while the run still breaks, the
outage halved while it still breaks) and written as a scenario file that reruns it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from engine.design import design_by_name
from simulator.experiments.executors import in_order
from simulator.experiments.run import scenario_profile, simulate
from simulator.measure.correctness import SAFETY
from simulator.model.scenario import Scenario, load_scenario
from simulator.runtime.config import Faults

BASE = "soak"
CHUNK = 100  # schedules per job
MAX_EACH = 3  # faults of each kind, at most
OUTAGE_MS = (100.0, 60_000.0)
KINDS = ("deploys_at_ms", "restarts_at_ms", "crashes_at_ms", "evictions_at_ms")


def schedule(seed: int, index: int, window_ms: float) -> Faults:
    """Fault schedule `index` of a soak seeded `seed`."""
    rng = np.random.default_rng([seed, index])
    deploys, restarts, crashes, evictions = (
        tuple(sorted(float(t) for t in rng.uniform(0, window_ms, rng.integers(MAX_EACH + 1))))
        for _ in KINDS
    )
    outages: tuple[tuple[float, float], ...] = ()
    if rng.random() < 0.5:
        start = float(rng.uniform(0, window_ms))
        length = float(np.exp(rng.uniform(*np.log(OUTAGE_MS))))
        outages = ((start, start + length),)
    return Faults(
        deploys_at_ms=deploys,
        restarts_at_ms=restarts,
        crashes_at_ms=crashes,
        evictions_at_ms=evictions,
        tracker_outages_ms=outages,
    )


def broken(scenario: Scenario, design: str, faults: Faults) -> dict[str, int]:
    """The invariants a run of the design breaks under the faults (empty: none)."""
    run = scenario.with_changes(faults=faults)
    stats = simulate(run, design_by_name(design), scenario_profile(run), 0).stats
    return {name: int(stats[name]) for name in SAFETY if stats[name]}


@dataclass(frozen=True)
class SoakChunk:
    designs: tuple[str, ...]
    seed: int
    first: int
    count: int
    scenario: Scenario


@dataclass(frozen=True)
class Violation:
    design: str
    index: int
    faults: Faults
    broken: dict[str, int]


def run_chunk(chunk: SoakChunk) -> list[Violation]:
    window = chunk.scenario.duration_s * 1000.0
    found = []
    for index in range(chunk.first, chunk.first + chunk.count):
        faults = schedule(chunk.seed, index, window)
        for design in chunk.designs:
            bad = broken(chunk.scenario, design, faults)
            if bad:
                found.append(Violation(design, index, faults, bad))
    return found


def chunks(designs: tuple[str, ...], schedules: int, seed: int) -> list[SoakChunk]:
    scenario = load_scenario(BASE)
    return [
        SoakChunk(designs, seed, first, min(CHUNK, schedules - first), scenario)
        for first in range(0, schedules, CHUNK)
    ]


def soak(
    designs: tuple[str, ...],
    schedules: int,
    seed: int,
    pool: Executor | None,
    on_chunk: Callable[[SoakChunk, list[Violation]], None] | None = None,
) -> Iterator[Violation]:
    """Run every schedule against every design; yield the violations, in schedule order."""
    jobs = chunks(designs, schedules, seed)
    for job, found in zip(jobs, in_order(run_chunk, jobs, pool), strict=True):
        if on_chunk is not None:
            on_chunk(job, found)
        yield from found


def shrink(violation: Violation) -> Violation:
    """The smallest schedule found that still breaks the design: faults removed one by one,
    then the outage halved, while the run still breaks an invariant."""
    scenario = load_scenario(BASE)
    faults = violation.faults
    bad = violation.broken
    changed = True
    while changed:
        changed = False
        for kind in KINDS:
            instants = getattr(faults, kind)
            for i in range(len(instants)):
                trial = replace(faults, **{kind: instants[:i] + instants[i + 1 :]})
                found = broken(scenario, violation.design, trial)
                if found:
                    faults, bad, changed = trial, found, True
                    break
        if faults.tracker_outages_ms:
            trial = replace(faults, tracker_outages_ms=())
            found = broken(scenario, violation.design, trial)
            if found:
                faults, bad, changed = trial, found, True
    while faults.tracker_outages_ms:
        ((start, end),) = faults.tracker_outages_ms
        if end - start < 2 * OUTAGE_MS[0]:
            break
        trial = replace(faults, tracker_outages_ms=((start, start + (end - start) / 2),))
        found = broken(scenario, violation.design, trial)
        if not found:
            break
        faults, bad = trial, found
    return Violation(violation.design, violation.index, faults, bad)


def file_name(violation: Violation, seed: int) -> str:
    """The name of the scenario file that reruns a violation: one per (seed, design, schedule).

    The design is named by its canonical label, each `=` written `-` and each `+` written `.`
    (`recovery-alarm.flush-alarm`), so two designs of one soak never share a file."""
    label = design_by_name(violation.design).label().replace("=", "-").replace("+", ".")
    return f"violation-{seed}-{re.sub(r'[^A-Za-z0-9_.-]', '_', label)}-{violation.index}.toml"


def scenario_toml(violation: Violation, seed: int, shrunk: bool = True) -> str:
    """A scenario file that reruns a violation: the soak's base with its fault schedule (shrunk,
    or as the soak drew it when the soak was interrupted before it could shrink it)."""
    base = (load_scenario(BASE).path or "").strip()
    text = Path(base).read_text().rstrip() if base else ""
    seconds: dict[str, Any] = {
        kind.replace("_ms", "_s"): [round(t / 1000, 6) for t in getattr(violation.faults, kind)]
        for kind in KINDS
        if getattr(violation.faults, kind)
    }
    if violation.faults.tracker_outages_ms:
        seconds["tracker_outages_s"] = [
            [round(a / 1000, 6), round(b / 1000, 6)] for a, b in violation.faults.tracker_outages_ms
        ]
    lines = [
        f"# Schedule {violation.index} of the soak seeded {seed}, "
        + ("shrunk" if shrunk else "not shrunk (the soak was interrupted)")
        + ": it breaks "
        + ", ".join(f"{k} = {v}" for k, v in violation.broken.items())
        + f" for `{violation.design}`.",
        f"# Rerun: python -m simulator run THIS_FILE --designs '{violation.design}'",
        text.replace('name = "soak"', f'name = "soak-{violation.index}"', 1),
        "",
        "[faults]",
        *(f"{k} = {v}" for k, v in seconds.items()),
        "",
    ]
    return "\n".join(lines)
