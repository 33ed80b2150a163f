"""The search for the best design: the fastest run_async that loses nothing and orphans nothing.

The space is every combination of switches (432 designs). Running all of them under the whole
fault matrix would take minutes, so the search goes in three steps:

1. Safety of behaviours. The switches that decide what survives a fault are recovery, flush and
   queue path; each of their 24 combinations (other switches as in baseline) runs under the whole
   fault matrix. A combination is safe when, under every fault, no workflow is orphaned, no
   lifecycle event is lost or never emitted, and no run_async answered for a workflow that was
   never durably queued.
2. Speed. Every design whose (recovery, flush, queue path) is safe (18 variations of the other
   switches each) gets a cold run; they are ranked by run_async p50, ties going to the design
   with fewer changes from baseline.
3. Verification. From the fastest down, a candidate runs under the whole fault matrix again; the
   first that keeps every invariant is the best design. (This checks that the switches held at
   baseline in step 1 do not break safety.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from engine.design import Design, all_designs
from simulator.experiments.jobs import COLD, SCREEN, VERIFY, Job, Role, run_jobs
from simulator.experiments.run import RunResult, scenario_profile
from simulator.experiments.suite import SuiteSpec, fault_jobs
from simulator.measure.correctness import violations
from simulator.measure.rows import p50_by_design
from simulator.model.profile import load_profile
from simulator.model.scenario import load_scenario

SEARCH_PROFILE = "public-figures"


@dataclass
class SearchResult:
    ranking: pd.DataFrame  # one row per screened design: label, switches, cold p50
    verified: list[dict[str, Any]] = field(default_factory=list)
    best: Design | None = None
    behaviours: dict[str, dict[str, int]] = field(default_factory=dict)  # label -> violations
    verify_duration_s: float = 0.0
    #: Every verification run with its job: fault-matrix runs the bench need not run again.
    runs: list[tuple[Job, RunResult]] = field(default_factory=list)

    @property
    def behaviours_safe(self) -> list[str]:
        return [label for label, failed in self.behaviours.items() if not failed]

    def summary(self) -> dict[str, Any]:
        return {
            "behaviours": self.behaviours,
            "designs_screened": len(self.ranking),
            "verified": self.verified,
        }


def screen_jobs(spec: SuiteSpec) -> list[Job]:
    scenario = load_scenario("cold-start").with_changes(
        duration_s=spec.screen_duration_s, drain_s=spec.drain_s, replications=1
    )
    profile = scenario_profile(scenario, load_profile(SEARCH_PROFILE))
    return [Job(profile, scenario, Role(SCREEN), design, 0) for design in all_designs()]


def rank(results: Iterable[RunResult], designs: list[Design]) -> pd.DataFrame:
    rows = []
    for design, result in zip(designs, results, strict=True):
        p50 = p50_by_design(result.rows, COLD)
        rows.append(
            {
                "design": design.label(),
                "changes": len(design.changed_from_baseline()),
                "cold_p50_ms": float(p50.get(design.label(), float("nan"))),
                **design.switches(),
            }
        )
    return (
        pd.DataFrame(rows)
        .sort_values(["cold_p50_ms", "changes", "design"], kind="stable")
        .reset_index(drop=True)
    )


def violations_by_fault(results: Iterable[RunResult]) -> dict[str, int]:
    """For each fault, the run's violations (the sum of its safety counts), where not zero."""
    out: dict[str, int] = {}
    for result in results:
        bad = violations(result.stats)
        if bad:
            out[str(Role.parse(str(result.stats["role"])).fault)] = bad
    return out


BEHAVIOUR = ("recovery", "flush", "queue_path")


def behaviours() -> list[Design]:
    """One design per (recovery, flush, queue path), the other switches as in baseline."""
    seen: dict[tuple[str, ...], Design] = {}
    for design in all_designs():
        key = tuple(getattr(design, name) for name in BEHAVIOUR)
        rest = {k: v for k, v in design.changed_from_baseline().items() if k not in BEHAVIOUR}
        if not rest:
            seen.setdefault(key, design)
    return list(seen.values())


def _verify(
    spec: SuiteSpec,
    group: list[Design],
    pool: Executor | None,
    on_done: Callable[[Job, RunResult], None] | None,
    ran: list[tuple[Job, RunResult]],
) -> dict[str, dict[str, int]]:
    jobs = fault_jobs(group, spec.verify_duration_s, kind=VERIFY)
    runs = list(run_jobs(jobs, pool, on_done))
    ran += zip(jobs, runs, strict=True)
    return {
        d.label(): violations_by_fault([r for r in runs if r.design == d.label()]) for d in group
    }


#: Candidates verified at once, from the fastest down (a batch runs in parallel).
VERIFY_BATCH = 4


def search(
    spec: SuiteSpec,
    pool: Executor | None = None,
    batch: int = VERIFY_BATCH,
    on_done: Callable[[Job, RunResult], None] | None = None,
) -> SearchResult:
    # 1. which behaviours are safe
    checked = behaviours()
    ran: list[tuple[Job, RunResult]] = []
    outcomes = _verify(spec, checked, pool, on_done, ran)
    safe_keys = {
        tuple(getattr(d, name) for name in BEHAVIOUR) for d in checked if not outcomes[d.label()]
    }
    # 2. the speed of every design with a safe behaviour
    candidates = [
        d for d in all_designs() if tuple(getattr(d, name) for name in BEHAVIOUR) in safe_keys
    ]
    jobs = [job for job in screen_jobs(spec) if job.design in candidates]
    result = SearchResult(rank(run_jobs(jobs, pool, on_done), [j.design for j in jobs]))
    result.behaviours = {d.label(): outcomes[d.label()] for d in checked}
    result.verify_duration_s = spec.verify_duration_s
    result.runs = ran
    # 3. verify from the fastest down
    by_label = {d.label(): d for d in candidates}
    ordered = [by_label[label] for label in result.ranking["design"]]
    for start in range(0, len(ordered), batch):
        group = ordered[start : start + batch]
        unverified = [d for d in group if d.label() not in outcomes]  # step 1 ran the rest
        if unverified:
            outcomes.update(_verify(spec, unverified, pool, on_done, ran))
        for design in group:
            failed = outcomes[design.label()]
            p50 = float(
                result.ranking.loc[result.ranking["design"] == design.label(), "cold_p50_ms"].iloc[
                    0
                ]
            )
            result.verified.append(
                {
                    "design": design.label(),
                    "screened_cold_p50_ms": p50,
                    "safe": not failed,
                    "violations": failed,
                }
            )
            if not failed and result.best is None:
                result.best = design
        if result.best is not None:
            break
    return result
