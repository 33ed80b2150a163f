"""Both runtimes behind one interface: the same planned calls, the same kind of run log."""

from __future__ import annotations

import pytest

from engine.design import design_by_name
from simulator.experiments.run import scenario_profile, simulate
from simulator.model.scenario import load_scenario
from simulator.runtime.registry import UnknownRuntime, build_runtime


@pytest.mark.parametrize("runtime", ["instant", "simulated"])
@pytest.mark.parametrize("design", ["baseline", "fast-queue", "alarm-flush"])
def test_every_runtime_runs_a_scenario_to_a_correct_end(runtime: str, design: str) -> None:
    scenario = load_scenario("fault-matrix").with_changes(duration_s=20.0, drain_s=600.0)
    result = simulate(
        scenario, design_by_name(design), scenario_profile(scenario), 0, runtime=runtime
    )
    stats = result.stats
    rows = result.rows.to_dict("records")
    calls = [r for r in rows if r["call"] in ("run_async", "run")]
    assert calls and all(r["outcome"] == "ok" for r in calls)
    assert stats["workflows"] == len({r["object"] for r in calls})
    assert stats["completed"] == stats["workflows"]
    assert stats["orphaned"] == 0 and stats["lifecycle_lost"] == 0
    alarms = [r for r in rows if r["call"] == "alarm"]
    assert len(alarms) >= 2 * stats["workflows"]  # (start,) resume, purge
    if design == "fast-queue":  # the fast path emits no `workflow.queued`
        queued = {r["object"] for r in calls if r["call"] == "run_async"}
        assert stats["lifecycle_missing"] == len(queued) > 0
    else:
        assert stats["lifecycle_missing"] == 0


def test_the_instant_runtime_takes_no_time_and_the_simulated_one_does() -> None:
    scenario = load_scenario("cold-start").with_changes(duration_s=10.0, drain_s=30.0)
    profile = scenario_profile(scenario)
    latency = {
        runtime: [
            r["latency_ms"]
            for r in simulate(
                scenario, design_by_name("baseline"), profile, 0, runtime=runtime
            ).rows.to_dict("records")
            if r["call"] == "run_async"
        ]
        for runtime in ("instant", "simulated")
    }
    assert len(latency["instant"]) == len(latency["simulated"]) > 0  # the same planned calls
    assert set(latency["instant"]) == {0.0}
    assert min(latency["simulated"]) > 0


def test_an_unknown_runtime_is_refused_with_the_names_that_exist() -> None:
    with pytest.raises(UnknownRuntime, match="available: simulated, instant, live"):
        build_runtime("workerd-prod", None)  # type: ignore[arg-type]
