"""A process that runs simulation after simulation (a pool worker, a sweep) does not hold the
garbage of the runs it finished: the collector, paused during a run, frees its objects at its
first pass after it, instead of keeping them for a pass over its oldest generation. And most of
them need no pass at all: a closed runtime holds no cycles, so reference counting frees them."""

from __future__ import annotations

import gc

import pytest
import simpy

from engine.design import design_by_name
from simulator.experiments.run import scenario_profile, simulate
from simulator.model.scenario import load_scenario


def _environments() -> int:
    return sum(isinstance(o, simpy.Environment) for o in gc.get_objects())


def test_a_finished_run_s_objects_are_freed_at_once() -> None:
    gc.collect()
    before = _environments()
    scenario = load_scenario("cold-start").with_changes(duration_s=10.0)
    result = simulate(scenario, design_by_name("baseline"), scenario_profile(scenario), 0)
    assert result.stats["workflows"] > 10
    assert gc.isenabled()
    assert _environments() == before  # the run's platform is gone, without a full collection


@pytest.mark.parametrize("runtime", ["simulated", "instant"])
def test_a_closed_run_leaves_little_for_the_collector(runtime: str) -> None:
    """Before runtimes were closed, a run left about 100 objects per workflow in cycles."""
    scenario = load_scenario("cold-start").with_changes(duration_s=20.0)
    profile = scenario_profile(scenario)
    gc.collect()
    gc.disable()
    try:
        result = simulate(scenario, design_by_name("baseline"), profile, 0, runtime=runtime)
        in_cycles = gc.collect()
    finally:
        gc.enable()
    assert result.stats["workflows"] > 20
    assert in_cycles < 3 * result.stats["workflows"]
