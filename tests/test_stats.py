"""The intervals the report's comparisons rest on."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from simulator.measure.stats import interaction, paired_difference


def _calls(latency: np.ndarray) -> pd.DataFrame:
    n = len(latency)
    return pd.DataFrame(
        {
            "replication": np.zeros(n, dtype=int),
            "object": [f"order-{i}" for i in range(n)],
            "planned_ms": np.arange(n) * 500.0,
            "latency_ms": latency,
        }
    )


def test_pairing_shows_a_small_saving_the_spread_of_the_calls_would_hide() -> None:
    shared = np.random.default_rng(3).lognormal(5.0, 1.0, 300)  # what both designs pay
    slow, fast = _calls(shared + 3.0), _calls(shared)
    difference = paired_difference(slow, fast)
    assert difference.value == 3.0
    assert 0 < difference.low <= difference.high
    assert paired_difference(fast, slow).high < 0


def test_calls_are_paired_by_object_and_time_not_by_position() -> None:
    shared = np.random.default_rng(4).lognormal(5.0, 1.0, 300)
    shuffled = _calls(shared).sample(frac=1.0, random_state=1)
    assert paired_difference(_calls(shared), shuffled).value == 0.0


def test_two_designs_that_differ_by_noise_alone_are_not_told_apart() -> None:
    rng = np.random.default_rng(5)
    a, b = _calls(rng.normal(100.0, 10.0, 300)), _calls(rng.normal(100.0, 10.0, 300))
    difference = paired_difference(a, b)
    assert difference.low < 0 < difference.high


def test_the_interval_is_fixed_by_its_seed_and_nan_without_common_calls() -> None:
    rng = np.random.default_rng(6)
    a, b = _calls(rng.normal(100.0, 10.0, 50)), _calls(rng.normal(90.0, 10.0, 50))
    assert paired_difference(a, b, seed=1) == paired_difference(a, b, seed=1)
    assert paired_difference(a, b, seed=1) != paired_difference(a, b, seed=2)
    assert math.isnan(paired_difference(a, b.iloc[:0]).value)


def _design_rows(design: str, shared: np.ndarray, extra_ms: float) -> pd.DataFrame:
    """Four replications of a design whose calls take `shared` plus `extra_ms`."""
    calls = _calls(shared + extra_ms)
    calls["replication"] = np.arange(len(calls)) % 4
    return calls.assign(design=design, call="run_async", mode="cold", outcome="ok")


def _changes(together_extra_ms: float) -> pd.DataFrame:
    """A baseline, two changes saving 10 and 20 ms alone, and both together."""
    shared = np.random.default_rng(7).lognormal(5.0, 0.5, 400)
    return pd.concat(
        [
            _design_rows("baseline", shared, 100.0),
            _design_rows("a", shared, 90.0),
            _design_rows("b", shared, 80.0),
            _design_rows("a+b", shared, together_extra_ms),
        ]
    )


def test_changes_that_add_up_have_an_interaction_of_zero() -> None:
    found = interaction(_changes(70.0), "a+b", ["a", "b"], "cold")
    assert found.low <= 0.0 <= found.high and abs(found.value) < 1e-9


def test_changes_that_save_more_together_have_a_positive_interaction() -> None:
    found = interaction(_changes(60.0), "a+b", ["a", "b"], "cold")
    assert found.value == 10.0 and found.low > 0
