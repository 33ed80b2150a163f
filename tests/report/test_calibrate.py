from __future__ import annotations

from pathlib import Path

import pytest

from simulator.experiments.calibrate import (
    SEED_MAPPING,
    calibrate,
    load_fit_record,
    mapping_profile,
    write_profile,
)
from simulator.model.profile import REQUIRED_OPS, load_profile
from simulator.model.seed import BREAKDOWN, SeedRange


def test_the_seed_mapping_prices_every_operation() -> None:
    profile = mapping_profile()
    assert set(REQUIRED_OPS) <= set(profile.ops)
    assert profile.ops["read"].median() == pytest.approx(SEED_MAPPING["read"][0])


def test_a_short_calibration_improves_the_fit_and_writes_a_loadable_profile(tmp_path: Path) -> None:
    result = calibrate(duration_s=15.0, max_evaluations=4)
    assert result.cost < result.start_cost
    assert [(c["row"], c["mode"]) for c in result.cells] == [(c.row, c.mode) for c in BREAKDOWN]
    path = write_profile(result, tmp_path / "fitted.toml")
    loaded = load_profile(str(path))
    assert loaded.ops["read"].median() == pytest.approx(
        result.profile.ops["read"].median(), rel=1e-3
    )
    record = load_fit_record(tmp_path / "fitted.fit.json")
    assert record is not None and set(record["medians"]) == set(SEED_MAPPING)


def test_the_committed_seed_estimates_profile_is_the_fitted_one() -> None:
    record = load_fit_record()
    assert record is not None, "run `python -m simulator calibrate`"
    profile = load_profile("seed-estimates")
    for op, median in record["medians"].items():
        assert profile.ops[op].median() == pytest.approx(median, rel=1e-3), op


@pytest.mark.parametrize(
    "measured,low,high,verdict",
    [
        (50, None, None, "below"),
        (150, None, None, "within"),
        (400, None, None, "above"),
        (80, 70, 110, "within"),
        (310, 290, 330, "within"),
        (350, 320, 380, "above"),
    ],
)
def test_verdicts_use_the_interval(
    measured: float, low: float | None, high: float | None, verdict: str
) -> None:
    assert SeedRange(100, 300, "~100-300ms").verdict(measured, low, high) == verdict


def test_approximate_figures_are_read_as_25_percent_either_side() -> None:
    about = SeedRange.about(100, "~100ms")
    assert (about.low, about.high) == (75, 125)
    assert SeedRange.about(0, "0ms").high == 1.0
