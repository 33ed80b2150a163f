"""A process that runs simulation after simulation (a pool worker, a sweep) does not hold the
garbage of the runs it finished: the collector, paused during a run, frees its objects at its
first pass after it, instead of keeping them for a pass over its oldest generation."""

from __future__ import annotations

import gc

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
