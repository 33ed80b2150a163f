"""The harness's own speed: simulated engine operations per second, beside bare SimPy.

`make test` runs these once as plain tests (pytest-benchmark is disabled there); `make
bench-gates` runs them as benchmarks and saves pytest-benchmark JSON. The figure that matters is
the ratio of the harness's cost per simulated operation to a bare SimPy timeout, both measured in
the same process, because machines differ and a ratio holds.
"""

from __future__ import annotations

import time
from typing import Any

import simpy

from engine.design import design_by_name
from simulator.experiment import scenario_profile, simulate
from simulator.scenario import load_scenario


def baseline_run_async() -> int:
    """Two minutes of cold run_async at 2/s on the baseline; answers the operations simulated."""
    scenario = load_scenario("cold-start").with_changes(duration_s=120.0, drain_s=60.0)
    result = simulate(scenario, design_by_name("baseline"), scenario_profile(scenario), 0)
    return int(result.stats["sim_ops"])


def bare_simpy(timeouts: int) -> None:
    env = simpy.Environment()

    def loop() -> Any:
        for _ in range(timeouts):
            yield env.timeout(1.0)

    env.process(loop())
    env.run()


def best_of(rounds: int, fn: Any, *args: Any) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - started)
    return min(times)


def test_harness_cost_per_operation_beside_bare_simpy(benchmark: Any) -> None:
    ops = baseline_run_async()
    assert ops > 10_000
    benchmark.pedantic(baseline_run_async, rounds=3, iterations=1)
    harness_s = benchmark.stats.stats.min if benchmark.stats else best_of(1, baseline_run_async)
    bare_s = best_of(3, bare_simpy, ops)
    ratio = harness_s / bare_s
    benchmark.extra_info.update(
        {
            "simulated_ops": ops,
            "harness_us_per_op": harness_s / ops * 1e6,
            "bare_simpy_us_per_timeout": bare_s / ops * 1e6,
            "ratio_to_bare_simpy": ratio,
            "harness_ops_per_s": ops / harness_s,
        }
    )
    assert ratio > 0
