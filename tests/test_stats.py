"""The intervals the report's comparisons rest on."""

from __future__ import annotations

import math

import numpy as np

from simulator.measure.stats import median_difference


def test_a_clear_difference_of_medians_has_an_interval_that_excludes_zero() -> None:
    rng = np.random.default_rng(3)
    slow, fast = rng.normal(100.0, 10.0, 400), rng.normal(80.0, 10.0, 400)
    difference = median_difference(slow, fast)
    assert difference.value == np.median(slow) - np.median(fast)
    assert 0 < difference.low < difference.value < difference.high
    assert median_difference(fast, slow).high < 0


def test_two_samples_of_one_distribution_are_not_told_apart() -> None:
    rng = np.random.default_rng(4)
    a, b = rng.normal(100.0, 10.0, 400), rng.normal(100.0, 10.0, 400)
    difference = median_difference(a, b)
    assert difference.low < 0 < difference.high


def test_the_interval_is_fixed_by_its_seed_and_nan_without_calls() -> None:
    rng = np.random.default_rng(5)
    a, b = rng.normal(100.0, 10.0, 50), rng.normal(90.0, 10.0, 50)
    assert median_difference(a, b, seed=1) == median_difference(a, b, seed=1)
    assert median_difference(a, b, seed=1) != median_difference(a, b, seed=2)
    assert math.isnan(median_difference(a, np.array([])).value)
