"""A profile may price what a batch that writes the alarm adds to its commit (`alarm_commit`,
measured on workerd); a profile that leaves it out runs as before."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.design import design_by_name
from engine.ops import PLATFORM_KINDS
from simulator.experiments.run import scenario_profile, simulate
from simulator.experiments.validate import unpriced_storage_calls
from simulator.measure.rows import run_async
from simulator.model.distributions import Constant
from simulator.model.scenario import load_scenario
from simulator.runtime.runlog import OPS_COLUMN

EXTRA_MS = 50.0


def _p50(design: str, extra_ms: float | None) -> tuple[float, pd.DataFrame]:
    scenario = load_scenario("cold-start").with_changes(duration_s=20.0)
    profile = scenario_profile(scenario)
    if extra_ms is not None:
        profile = profile.with_ops({"alarm_commit": Constant(extra_ms)})
    result = simulate(scenario, design_by_name(design), profile, 0)
    calls = run_async(pd.DataFrame(result.rows), design, "cold")
    return float(np.median(calls["latency_ms"])), calls


@pytest.mark.parametrize("design", ["baseline", "fast-queue"])
def test_a_commit_that_writes_the_alarm_pays_alarm_commit(design: str) -> None:
    without, _ = _p50(design, None)
    zero, _ = _p50(design, 0.0)
    priced, _ = _p50(design, EXTRA_MS)
    assert zero == without  # priced at zero: the same run, draw for draw
    # The queue's batch carries the start alarm, and the output gate holds the answer (or the
    # flush's POST) until that batch commits.
    assert priced - without == pytest.approx(EXTRA_MS, abs=5.0)


def test_unpriced_storage_calls_are_the_storage_calls_that_missed_nothing() -> None:
    # Per call: gets and puts 3 + 2, 5 + 2 and 9 + 2, one of each call's gets a read miss; the
    # fetches and compute cost what the model prices, so they are not counted.
    per_call = {"get": [3, 5, 9], "put": [2, 2, 2], "http": [5, 5, 5], "compute": [7, 1, 3]}
    calls = pd.DataFrame(
        {OPS_COLUMN + kind: per_call.get(kind, [0, 0, 0]) for kind in PLATFORM_KINDS}
        | {OPS_COLUMN + "read_miss": [1, 1, 1]}
    )
    assert unpriced_storage_calls(calls) == 6.0  # the median of 4, 6 and 10
    assert unpriced_storage_calls(calls.iloc[:0]) == 0.0
