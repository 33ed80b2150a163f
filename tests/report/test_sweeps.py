"""Sweeps, the robustness labels and fault soaks: what they compute, and that they can fail."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from simulator.errors import ConfigError, InputError
from simulator.experiments import robustness
from simulator.experiments.soak import (
    BASE,
    Violation,
    broken,
    scenario_toml,
    schedule,
    shrink,
    soak,
)
from simulator.experiments.sweep import (
    CELL,
    DIFF_HIGH,
    DIFF_LOW,
    P50,
    SEP,
    TOP_PHASE,
    points,
    run_sweep,
)
from simulator.model.scenario import load_scenario, parse_scenario
from simulator.model.sweep_spec import parse_sweep
from simulator.paths import PROFILE_DIR
from simulator.runtime.config import Faults

BEST = "recovery=alarm+flush=alarm+layer_build=lazy+queue_path=fast"
TINY = {
    "name": "tiny",
    "profile": "public-figures",
    "designs": ["baseline", "background-flush"],
    "modes": ["cold"],
    "parameter": [
        {"op": "stub_check", "parameter": "median", "low": 5.0, "high": 200.0},
        {"op": "stub_check", "parameter": "p99", "low": 100.0, "high": 1000.0},
    ],
    "oat_levels": 3,
    "lhs_points": 4,
    "duration_s": 4.0,
}


def test_sweep_points_are_one_at_a_time_then_a_latin_hypercube() -> None:
    spec = parse_sweep("s.toml", TINY)
    every = points(spec)
    assert [p.kind for p in every] == ["nominal"] + ["oat"] * 6 + ["lhs"] * 4
    assert [v for p in every[1:4] for _, v in p.values] == pytest.approx([5.0, 31.62, 200.0], 1e-3)
    for point in every[7:]:  # a p99 drawn with its median stays above it
        values = point.varied
        assert values["stub_check.p99"] > values["stub_check.median"]


@pytest.mark.parametrize(
    "change,needle",
    [
        ({"oat_levels": 1}, "field 'oat_levels': bad value 1"),
        ({"designs": ["baseline", "turbo"]}, "field 'designs': bad value 'turbo'"),
        (
            {"parameter": [{"op": "disk", "parameter": "median", "low": 1, "high": 2}]},
            "field 'parameter[0].op': bad value 'disk'",
        ),
        (
            {"parameter": [{"op": "read", "parameter": "mean", "low": 1, "high": 2}]},
            "field 'parameter[0].parameter': bad value 'mean'",
        ),
        (
            {"parameter": [{"op": "read", "parameter": "median", "low": 5, "high": 2}]},
            "field 'parameter[0].high': bad value 2.0; allowed: a number above low (5)",
        ),
        ({"modes": ["lukewarm"]}, "field 'modes': bad value 'lukewarm'"),
    ],
)
def test_bad_sweep_specs_are_one_line(change: dict[str, Any], needle: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_sweep("s.toml", {**TINY, **change})
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_a_sweep_streams_resumes_and_refuses_a_folder_of_another_sweep(tmp_path: Path) -> None:
    spec = parse_sweep("s.toml", TINY)
    out = tmp_path / "sweep"

    def stop_after_five(summary: dict[str, Any]) -> None:
        if summary["point"] == 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(spec, out, on_point=stop_after_five)
    first = run_sweep(spec, out)  # the five kept are not run again
    assert (first.skipped, first.ran, first.complete) == (5, 6, True)
    assert run_sweep(spec, out).ran == 0
    other = parse_sweep("s.toml", {**TINY, "lhs_points": 5})
    with pytest.raises(InputError, match="holds the results of a different sweep"):
        run_sweep(other, out)


def test_a_sweep_whose_profile_was_edited_is_another_sweep(tmp_path: Path) -> None:
    profile = tmp_path / "mine.toml"
    shutil.copy(PROFILE_DIR / "public-figures.toml", profile)
    spec = parse_sweep("s.toml", {**TINY, "profile": str(profile), "lhs_points": 0})
    out = tmp_path / "sweep"
    run_sweep(spec, out)
    before = spec.load_profile().ops["commit"]
    text = profile.read_text()
    commit = '[ops.commit]\ndist = "lognormal"\nmedian = '
    assert commit + "20.0" in text
    profile.write_text(text.replace(commit + "20.0", commit + "30.0", 1))
    edited = parse_sweep("s.toml", {**TINY, "profile": str(profile), "lhs_points": 0})
    assert edited.load_profile().ops["commit"] != before
    with pytest.raises(InputError, match="holds the results of a different sweep"):
        run_sweep(edited, out)


def _summary(
    point: int, flush_http_ms: float, top: str, best_lower: tuple[float, float] = (-95, -85)
) -> dict[str, Any]:
    """A crafted point summary: every cell at its seed range's middle, but the flush cell; the
    best design's p50 minus the seed's set's in `best_lower` (95 % interval)."""
    from simulator.model.seed import OPTIMIZED, seed_cells

    out: dict[str, Any] = {"point": point, TOP_PHASE: top}
    for cell in seed_cells():
        value = flush_http_ms if cell.row == "Event Flush HTTP" else cell.range.mid
        out[f"{CELL}{cell.table}{SEP}{cell.row}{SEP}{cell.mode}"] = value
    for design in robustness.robustness_spec(BEST).designs:
        for mode in ("cold", "warm"):
            out[f"{P50}{design}{SEP}{mode}"] = 10.0 if design == BEST else 100.0
    for mode in ("cold", "warm"):
        key = f"{BEST}{SEP}{OPTIMIZED.label()}{SEP}{mode}"
        out[f"{DIFF_LOW}{key}"], out[f"{DIFF_HIGH}{key}"] = best_lower
    return out


def test_a_verdict_that_flips_at_one_end_of_a_range_is_fragile(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spec = robustness.robustness_spec(BEST)
    n = len(points(spec))
    crafted = [_summary(i, 300.0, "stub") for i in range(n)]
    crafted[3] = _summary(3, 50.0, "event-flush")  # the second parameter's low end

    monkeypatch.setattr(robustness, "summaries", lambda jobs, pool: iter(crafted))
    found = robustness.check(None, BEST)
    flush = found.cells[("breakdown", "Event Flush HTTP", "cold")]
    assert flush.nominal == "within" and not flush.robust
    assert flush.flips[0].verdict == "below" and flush.flips[0].parameter == spec.parameters[1].name
    assert found.cells[("breakdown", "Total", "cold")].robust
    top = found.claims["the baseline's largest cold phase"]
    assert top.nominal == "stub" and top.text().startswith("fragile: event-flush at")


def test_the_best_design_is_faster_only_when_the_interval_of_the_difference_excludes_zero(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spec = robustness.robustness_spec(BEST)
    crafted = [_summary(i, 300.0, "stub") for i in range(len(points(spec)))]
    crafted[2] = _summary(2, 300.0, "stub", best_lower=(-3.0, 1.0))  # first parameter, high end
    crafted[4] = _summary(4, 300.0, "stub", best_lower=(1.0, 3.0))  # second parameter, high end

    monkeypatch.setattr(robustness, "summaries", lambda jobs, pool: iter(crafted))
    found = robustness.check(None, BEST)
    claim = found.claims["the best design against `seed-recommended` on the same calls, cold"]
    assert claim.nominal == "faster"
    assert [(f.parameter, f.verdict) for f in claim.flips] == [
        (spec.parameters[0].name, "indistinguishable"),
        (spec.parameters[1].name, "slower"),
    ]


def test_soak_schedules_are_fixed_by_seed_and_index() -> None:
    assert schedule(1, 7423, 20_000.0) == schedule(1, 7423, 20_000.0)
    assert schedule(1, 7423, 20_000.0) != schedule(2, 7423, 20_000.0)
    # each index of a soak draws its own schedule (a few of 512 are empty: compare many)
    many = [schedule(1, index, 20_000.0) for index in range(20)]
    assert len(set(many)) == len(many)
    assert many == [schedule(1, index, 20_000.0) for index in range(20)]


def test_a_soak_finds_shrinks_and_writes_a_violation_that_reruns(tmp_path: Path) -> None:
    # Without the watchdog alarm, a crash mid-`run` orphans the workflow.
    found = list(soak(("alarm-flush",), 120, 1, None))
    assert found
    small = shrink(found[0])
    assert sum(len(getattr(small.faults, k)) for k in ("crashes_at_ms", "deploys_at_ms")) >= 1
    path = tmp_path / "violation.toml"
    path.write_text(scenario_toml(small, 1))
    import tomllib

    rerun = parse_scenario(str(path), tomllib.loads(path.read_text()))
    assert broken(load_scenario(BASE), "alarm-flush", rerun.faults) == small.broken


def test_the_best_design_survives_a_short_soak() -> None:
    assert list(soak((BEST,), 150, 3, None)) == []


def test_shrinking_keeps_the_run_broken() -> None:
    faults = Faults(crashes_at_ms=(6326.37,), deploys_at_ms=(1000.0, 15_000.0))
    bad = broken(load_scenario(BASE), "alarm-flush", faults)
    assert bad
    small = shrink(Violation("alarm-flush", 0, faults, bad))
    assert small.broken and len(small.faults.deploys_at_ms) <= len(faults.deploys_at_ms)


def test_a_sweep_can_vary_workload_and_platform_settings() -> None:
    from simulator.experiments.sweep import scenario_at

    spec = parse_sweep(
        "s.toml",
        {
            **TINY,
            "parameter": [
                {"op": "workload", "parameter": "rate_per_s", "low": 1, "high": 8},
                {
                    "op": "platform",
                    "parameter": "hibernation",
                    "low": 0,
                    "high": 1,
                    "scale": "linear",
                },
                {"op": "platform", "parameter": "isolates", "low": 1, "high": 16},
            ],
        },
    )
    high = next(
        p for p in points(spec) if p.kind == "oat" and p.varied.get("workload.rate_per_s") == 8
    )
    off = next(p for p in points(spec) if p.varied.get("platform.hibernation") == 0.0)
    base = load_scenario("cold-start")
    assert scenario_at(base, spec.parameters, high).workload.rate_per_s == 8
    assert scenario_at(base, spec.parameters, off).platform.hibernation is False
    lhs = next(p for p in points(spec) if p.kind == "lhs")
    assert isinstance(scenario_at(base, spec.parameters, lhs).platform.isolates, int)
    with pytest.raises(ConfigError, match="field 'parameter\\[0\\].parameter': bad value 'speed'"):
        parse_sweep(
            "s.toml",
            {**TINY, "parameter": [{"op": "workload", "parameter": "speed", "low": 1, "high": 2}]},
        )


def test_a_point_records_the_setting_it_ran_with() -> None:
    from simulator.experiments.sweep import value_run
    from simulator.model.sweep_spec import Parameter

    cold = load_scenario("cold-start")
    assert value_run(cold, Parameter("platform", "isolates", 1, 16), 3.7) == 4.0
    assert value_run(cold, Parameter("platform", "hibernation", 0, 1, "linear"), 0.73) == 1.0
    assert value_run(cold, Parameter("stub_check", "median", 5, 200), 31.6) == 31.6


def test_a_sweep_without_the_baseline_reports_each_designs_p50(tmp_path: Path) -> None:
    """Its key quantities are the designs' own p50s, not savings over a baseline it lacks."""
    from simulator.experiments.sweep import PARAM
    from simulator.report.sweep import quantities, write_sweep_report

    spec = parse_sweep("s.toml", {**TINY, "designs": ["background-flush"], "lhs_points": 0})
    rows = []
    for point in points(spec):
        values = {"stub_check.median": 50.0, "stub_check.p99": 400.0, **point.varied}
        rows.append(
            {
                "point": point.index,
                "kind": point.kind,
                "varied": ",".join(point.varied) if point.kind == "oat" else "",
                **{PARAM + name: value for name, value in values.items()},
                f"{P50}background-flush{SEP}cold": 100.0 + values["stub_check.median"],
            }
        )
    frame = pd.DataFrame(rows)
    assert list(quantities(spec, frame)) == ["background-flush p50, cold"]
    write_sweep_report(spec, frame, tmp_path, complete=True)
    readme = (tmp_path / "README.md").read_text()
    assert "No key quantity changed" not in readme
    assert "**background-flush p50, cold**" in readme
