"""The validation report: measured intervals, and whether a missed cell is within their noise."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from simulator.experiments.fit_samples import Fitted
from simulator.experiments.validate import (
    ValidationSpec,
    measured_interval,
    p50_holds,
    within_noise,
)
from simulator.model.distributions import Constant
from simulator.report.validation import flush_bias, noise_verdict, write_report


def test_a_measured_interval_holds_the_quantile_and_narrows_with_calls() -> None:
    draws = np.random.default_rng(0).lognormal(np.log(5.0), 0.3, 2000)
    few, many = measured_interval(draws[:50], 0.5, 1), measured_interval(draws, 0.5, 1)
    assert few[0] < np.median(draws[:50]) < few[1]
    assert many[1] - many[0] < (few[1] - few[0]) / 3
    assert measured_interval(draws[:50], 0.5, 1) == few  # seeded


def test_a_miss_is_within_noise_only_when_the_goal_holds_inside_the_interval() -> None:
    assert within_noise(5.0, [4.7, 5.6], p50_holds)  # inside
    assert within_noise(3.8, [4.7, 5.6], p50_holds)  # 0.9 ms from the low end: within 2 ms
    assert not within_noise(2.0, [4.7, 5.6], p50_holds)  # 2.7 ms from it
    assert not within_noise(9.0, [4.7, 5.6], p50_holds)  # 3.4 ms above the high end


def _cell(design: str, p50: tuple[float, float], ci: list[float] | None) -> dict[str, Any]:
    row: dict[str, Any] = {
        "design": design,
        "mode": "warm",
        "calls": 95,
        "unpriced_storage_calls": 5.0,
        "p50_predicted_ms": p50[0],
        "p50_measured_ms": p50[1],
        "p95_predicted_ms": 6.5,
        "p95_measured_ms": 7.3,
        "p50_ratio": p50[0] / p50[1],
        "p95_ratio": 6.5 / 7.3,
        "p50_holds": p50_holds(*p50),
        "p95_holds": True,
    }
    if ci is not None:
        row["p50_measured_ci"], row["p95_measured_ci"] = ci, [6.4, 8.0]
    return row


def test_the_report_says_which_misses_are_within_noise(tmp_path: Path) -> None:
    rows = [
        _cell("fast-queue", (4.0, 4.5), [4.2, 4.9]),  # meets the goal
        _cell("alarm-flush", (3.8, 6.0), [5.3, 6.4]),  # misses; 1.5 ms from the interval
        _cell("alarm-recovery", (3.8, 6.5), [6.0, 7.0]),  # misses; 2.2 ms from it
        _cell("seed-priority-2", (3.8, 6.5), None),  # an older validation.json: no interval
    ]
    assert [noise_verdict(r) for r in rows[1:]] == ["yes", "**no**", "n/a"]
    fits = [Fitted("read", Constant(0.01), 10, 0.0)]
    samples = {"alarm_commit": [1.0]}
    diagnostics = {"call of cached gets": [3.0], "empty call": [1.0]}
    readme = write_report(rows, fits, ValidationSpec(), tmp_path, samples, diagnostics, [])
    text = readme.read_text()
    assert "**1 of 4 cells meet the goal; of the 3 that miss, 1 are within the" in text
    assert "With 95 calls, a cell's p95 is about its 5th-largest call." in text
    assert "| alarm-flush | warm | 2.20 |" in text and "| 5.3-6.4 | 6.4-8.0 | yes |" in text
    assert "| seed-priority-2 | warm |" in text and "| n/a | n/a | n/a |" in text


def test_the_flush_bias_compares_designs_that_wait_for_the_post_with_those_that_do_not() -> None:
    rows = [
        {"design": "baseline", "p50_ratio": 1.2},  # waits for the POST
        {"design": "lazy-recovery", "p50_ratio": 1.2},
        {"design": "alarm-flush", "p50_ratio": 0.9},  # does not
        {"design": "fast-queue", "p50_ratio": 0.9},  # awaits a flush with nothing to post
    ]
    text = flush_bias(rows)
    assert "1.20 for the 2 cells" in text and "0.90 for the 2 others" in text
    assert "is 0.75 times workerd's: it overstates" in text
    assert flush_bias(rows[:2]) == ""
