from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simulator.experiments.calibrate import (
    SEED_MAPPING,
    Fit,
    _held_back_by,
    calibrate,
    load_fit_record,
    mapping_profile,
    plausible_ranges,
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
    ranges = plausible_ranges()
    for op, median in result.bounded.medians.items():
        assert ranges[op][0] <= median <= ranges[op][1], op
        assert loaded.range_of(op, "median") is not None


def test_the_committed_fit_stays_in_the_plausible_ranges_and_says_what_it_cannot_reach() -> None:
    record = load_fit_record()
    assert record is not None
    ranges = plausible_ranges()  # today's, from the public figures, not the ones the fit saw
    for op, median in record["medians"].items():
        stale = (
            f"{op}: its plausible range changed since the fit; run `python -m simulator calibrate`"
        )
        assert tuple(record["ranges"][op]) == ranges[op], stale
        assert ranges[op][0] <= median <= ranges[op][1], op
    for cell in record["cells"]:
        assert cell["reached"] or cell["why"], cell


def test_an_unreached_cell_names_the_parameter_held_at_the_edge_of_its_range() -> None:
    ranges = {op: (1.0, 10.0) for op in SEED_MAPPING}
    at_edge = {op: 5.0 for op in SEED_MAPPING} | {"read": 10.0}
    bounded = Fit(at_edge, 1.0, 1, [])
    unbounded = Fit(at_edge | {"read": 400.0}, 0.1, 1, [])
    cell = {"residual": -2.0}  # the fit is below the seed's figure
    slopes = np.array([0.1 if op == "read" else 0.0 for op in SEED_MAPPING])  # read raises it
    why = _held_back_by(cell, slopes, bounded, unbounded, ranges)
    assert why.startswith("`read` would have to go above 10 ms") and "400 ms" in why
    # a parameter that is not at its edge cannot be what holds the cell back
    inside = Fit(at_edge | {"read": 5.0}, 1.0, 1, [])
    assert "structure" in _held_back_by(cell, slopes, inside, unbounded, ranges)


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
