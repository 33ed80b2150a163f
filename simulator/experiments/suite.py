"""The standard suite behind `make bench`: which runs, gathered for the report.

A suite that fails or is interrupted part-way still returns (and the report still writes) what
finished.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from engine.design import PRESETS, Design
from simulator.experiments.jobs import COLD, FAULT, TAILS, WARM, Job, Role
from simulator.experiments.run import RunResult, rows_frame, scenario_profile, stats_frame
from simulator.model.fault_matrix import fault_matrix
from simulator.model.profile import Profile, load_profile
from simulator.model.scenario import load_scenario
from simulator.model.seed import cumulative_designs, expected_designs

PROFILES = ("seed-estimates", "public-figures")
MODES = {COLD: "cold-start", WARM: "warm"}  # mode -> the scenario about it
TAILS_SCENARIO = "tracker-degraded"


@dataclass(frozen=True)
class SuiteSpec:
    """How big the suite is: the full one for `make bench`, a small one for tests."""

    duration_s: float = 45.0
    drain_s: float = 20.0
    replications: int = 4
    tails_duration_s: float = 120.0
    profiles: tuple[str, ...] = PROFILES
    #: Arrivals in each fault-matrix run (then an hour of drain); the design search verifies
    #: its candidates with the same runs, so the bench reuses them.
    faults_duration_s: float = 120.0
    screen_duration_s: float = 20.0  # cold arrivals per design when screening the design space
    robustness_duration_s: float = 15.0  # arrivals per mode at each end of each guess's range

    @property
    def verify_duration_s(self) -> float:
        """Arrivals per fault when the design search verifies a candidate."""
        return self.faults_duration_s

    @classmethod
    def quick(cls) -> SuiteSpec:
        return cls(
            duration_s=10.0,
            drain_s=5.0,
            replications=2,
            tails_duration_s=20.0,
            faults_duration_s=30.0,
            screen_duration_s=5.0,
            robustness_duration_s=4.0,
        )


def designs() -> list[Design]:
    """Every preset (the seed's cumulative priority steps among them)."""
    return list(PRESETS.values())


def tail_designs(best: Design | None = None) -> list[Design]:
    """The designs whose tails the report compares: the flush variants, the seed's sets, and
    the best design when one was found."""
    names = (
        "baseline",
        "background-flush",
        "background-flush-fixed",
        "alarm-flush",
        "fast-queue",
        "seed-recommended",
    )
    chosen = [PRESETS[n] for n in names] + [cumulative_designs()[-1][1]]
    return chosen + ([best] if best is not None and best not in chosen else [])


def mode_jobs(
    base_profile: Profile,
    chosen: list[Design],
    duration_s: float,
    drain_s: float,
    replications: int,
    floor_of: Design | None = None,
) -> list[Job]:
    """Cold and warm runs of every chosen design (and of the floor, beside `floor_of`)."""
    jobs: list[Job] = []
    for mode, scenario_name in MODES.items():
        scenario = load_scenario(scenario_name).with_changes(
            duration_s=duration_s, drain_s=drain_s, replications=replications
        )
        profile = scenario_profile(scenario, base_profile)
        jobs += [
            Job(profile, scenario, Role(mode), design, rep)
            for rep in range(replications)
            for design in chosen
        ]
        if floor_of is not None:
            jobs += [
                Job(profile, scenario, Role(mode), floor_of, rep, floor=True)
                for rep in range(replications)
            ]
    return jobs


def standard_jobs(spec: SuiteSpec, best: Design | None = None) -> list[Job]:
    """Cold and warm runs of every preset (and the best design and the floor, when given), the
    tails, and the fault matrix for every preset and the best design."""
    chosen = designs() + ([best] if best is not None and best not in designs() else [])
    jobs: list[Job] = []
    for profile_name in spec.profiles:
        jobs += mode_jobs(
            load_profile(profile_name),
            chosen,
            spec.duration_s,
            spec.drain_s,
            spec.replications,
            floor_of=best,
        )
    tails = load_scenario(TAILS_SCENARIO).with_changes(
        duration_s=spec.tails_duration_s, drain_s=spec.drain_s, replications=spec.replications
    )
    tails_profile = scenario_profile(tails, load_profile(tails.profile))
    jobs += [
        Job(tails_profile, tails, Role(TAILS), design, rep)
        for rep in range(spec.replications)
        for design in tail_designs(best)
    ]
    return jobs + fault_jobs(chosen, spec.faults_duration_s)


def fault_jobs(chosen: list[Design], duration_s: float, kind: str = FAULT) -> list[Job]:
    """Every design under every fault of the matrix (one replication each)."""
    jobs = []
    for fault, scenario in fault_matrix().items():
        scenario = scenario.with_changes(duration_s=duration_s)
        profile = scenario_profile(scenario)
        jobs += [Job(profile, scenario, Role(kind, fault), design, 0) for design in chosen]
    return jobs


@dataclass
class SuiteResults:
    spec: SuiteSpec
    results: list[RunResult] = field(default_factory=list)
    complete: bool = False

    def rows(self) -> pd.DataFrame:
        return rows_frame(self.results)

    def stats(self) -> pd.DataFrame:
        return stats_frame(self.results)


def change_labels() -> dict[str, str]:
    """The design label measured for each row of the seed's Expected Results."""
    return {row: design.label() for row, design in expected_designs().items()}


def cumulative_labels() -> list[tuple[str, str]]:
    return [(title, design.label()) for title, design in cumulative_designs()]


def describe(spec: SuiteSpec) -> dict[str, Any]:
    return {
        "duration_s": spec.duration_s,
        "drain_s": spec.drain_s,
        "replications": spec.replications,
        "tails_duration_s": spec.tails_duration_s,
        "faults_duration_s": spec.faults_duration_s,
        "faults_replications": 1,
        "screen_duration_s": spec.screen_duration_s,
        "verify_duration_s": spec.verify_duration_s,
        "robustness_duration_s": spec.robustness_duration_s,
        "profiles": list(spec.profiles),
    }
