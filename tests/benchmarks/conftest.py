"""The probe the harness's speed and memory gates share, and the speed figures of a benchmark run
in the terminal summary."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from engine.design import design_by_name
from simulator.experiments.run import scenario_profile, simulate
from simulator.model.scenario import load_scenario

SUMMARY: list[str] = []


def baseline_run_async(duration_s: float = 120.0, rate_per_s: float = 2.0) -> dict[str, Any]:
    """Cold run_async on the baseline; answers the run's stats (`sim_ops`, `workflows`)."""
    scenario = load_scenario("cold-start")
    scenario = scenario.with_changes(
        duration_s=duration_s,
        drain_s=60.0,
        workload=replace(scenario.workload, rate_per_s=rate_per_s),
    )
    return simulate(scenario, design_by_name("baseline"), scenario_profile(scenario), 0).stats


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if SUMMARY:
        terminalreporter.section("harness speed")
        for line in SUMMARY:
            terminalreporter.write_line(line)
