from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from engine.design import design_by_name
from simulator.cli import main
from simulator.errors import ConfigError, InputError
from simulator.experiments.run import run_experiment, simulate
from simulator.model import budget
from simulator.model.distributions import Constant
from simulator.model.profile import REQUIRED_OPS, Profile, load_profile, parse_profile
from simulator.model.scenario import available_scenarios, load_scenario, parse_scenario

SHORT = {"duration_s": 20.0, "drain_s": 30.0, "replications": 1}


def rows(seed: int, designs: list[str]) -> pd.DataFrame:
    scenario = load_scenario("cold-start").with_changes(seed=seed, **SHORT)
    return run_experiment(scenario, designs).rows()


def test_the_same_seed_gives_identical_rows() -> None:
    a = rows(7, ["baseline", "fast-queue"])
    b = rows(7, ["baseline", "fast-queue"])
    pd.testing.assert_frame_equal(a, b)


def test_different_seeds_give_different_rows() -> None:
    a = rows(7, ["baseline"])
    b = rows(8, ["baseline"])
    assert not a["latency_ms"].equals(b["latency_ms"])


def test_designs_meet_the_same_calls_at_the_same_planned_times() -> None:
    both = rows(7, ["baseline", "lazy-recovery"])
    planned = {d: list(g[g["source"] == "client"]["planned_ms"]) for d, g in both.groupby("design")}
    assert planned["baseline"] == planned["lazy-recovery"]


def test_common_random_numbers_give_equal_latency_where_designs_do_the_same_work() -> None:
    both = rows(7, ["baseline", "lazy-layers"])
    by = {
        d: g[g["call"] == "run_async"]["latency_ms"].to_numpy() for d, g in both.groupby("design")
    }
    # lazy-layers composes the layers in the first call instead of the constructor: the same
    # operations in the same order on each object, so identical latencies.
    assert (by["baseline"] == by["lazy-layers"]).all()


def test_rows_have_the_documented_columns() -> None:
    frame = rows(7, ["baseline"])
    for column in (
        "scenario",
        "design",
        "replication",
        "call",
        "mode",
        "planned_ms",
        "start_ms",
        "latency_ms",
        "outcome",
        "phase_stub",
        "phase_constructor.layer-build",
        "phase_constructor.recovery-check",
        "phase_queue",
        "phase_event-flush",
        "ops_get",
        "ops_put_many",
        "ops_http",
    ):
        assert column in frame.columns, column
    run_async = frame[frame["call"] == "run_async"]
    assert set(run_async["mode"]) == {"cold"}
    assert (run_async["latency_ms"] > 0).all()


@pytest.mark.parametrize("name", available_scenarios())
def test_every_shipped_scenario_loads_and_runs(name: str) -> None:
    scenario = load_scenario(name).with_changes(duration_s=5.0, drain_s=5.0, replications=1)
    experiment = run_experiment(scenario, [scenario.designs[0]])
    assert not experiment.rows().empty


@pytest.mark.parametrize("name", ["public-figures", "seed-estimates"])
def test_shipped_profiles_load_and_cite_a_source_for_every_operation(name: str) -> None:
    profile = load_profile(name)
    assert set(profile.sources) == set(profile.ops)


def test_every_guess_of_public_figures_has_a_plausible_range() -> None:
    profile = load_profile("public-figures")
    guessed = {p.op for p in profile.plausible if p.guess}
    for op, source in profile.sources.items():
        if "GUESS" in source:
            assert op in guessed, op
        assert "../shared" not in source
    assert all(p.holds(p.low) and p.low < p.high for p in profile.plausible)


def test_a_profile_parameter_can_be_moved_within_its_range() -> None:
    profile = load_profile("public-figures")
    moved = profile.with_parameter("read", "median", 8.0)
    assert moved.ops["read"].median() == pytest.approx(8.0)
    assert moved.ops["read"].quantile(0.99) == pytest.approx(8.0 * 15.0 / 2.0)  # spread kept
    alarm = profile.with_parameter("alarm_delay", "parts[0].median", 100.0)
    assert alarm.ops["alarm_delay"].parts[0].median_ms == 100.0  # type: ignore[attr-defined]


BASE_PROFILE = {"ops": {op: {"dist": "constant", "value": 1.0} for op in REQUIRED_OPS}}


@pytest.mark.parametrize(
    "change,needle",
    [
        (
            {"read": {"dist": "gamma"}},
            "p.toml: field 'ops.read.dist': bad value 'gamma'; allowed: constant, uniform",
        ),
        (
            {"read": {"dist": "lognormal", "median": 5, "p99": 2}},
            "field 'ops.read.p99': bad value 2; allowed: a number > median (5)",
        ),
        (
            {"read": {"dist": "constant", "value": -1}},
            "field 'ops.read.value': bad value -1; allowed: a number between 0 and 1e+10",
        ),
        (  # a latency no run is long enough to see end (it used to run and answer nothing)
            {"read": {"dist": "constant", "value": 1e300}},
            "field 'ops.read.value': bad value 1e+300; allowed: a number between 0 and 1e+10",
        ),
        (
            {"read": {"dist": "lognormal", "median": 1, "p99": 1e11}},
            "field 'ops.read.p99': bad value 100000000000.0; allowed: a number between 1e-09 and 1e+10",
        ),
        (
            {"read": {"dist": "empirical", "samples": [1.0, 2e10]}},
            "field 'ops.read.samples': bad value [1.0, 20000000000.0]; allowed: a non-empty list "
            "of numbers from 0 to 1e+10",
        ),
        (
            {"read": {"dist": "constant", "value": 1, "cap": 1e300}},
            "field 'ops.read.cap': bad value 1e+300; allowed: a number between 0 and 1e+10",
        ),
        (
            {"read": {"dist": "constant", "value": 1, "guess": {"value": [0, 1e300]}}},
            "field 'ops.read.guess.value': bad value [0, 1e+300]; allowed: [low, high] with "
            "0 <= low < high <= 1e+10",
        ),
        (
            {"read": {"dist": "constant", "value": "fast"}},
            "field 'ops.read.value': bad value 'fast'; allowed: a finite number",
        ),
        ({"read": {"dist": "uniform", "low": 5, "high": 1}}, "field 'ops.read.high': bad value 1"),
        (
            {"read": {"dist": "constant", "value": 1, "mean": 3}},
            "field 'ops.read.mean': bad value 3; unknown field",
        ),
        ({"disk": {"dist": "constant", "value": 1}}, "field 'ops.disk'"),
        ({"read": {"dist": "empirical", "samples": []}}, "field 'ops.read.samples': bad value []"),
        (
            {"read": {"dist": "mixture", "parts": [{"dist": "constant", "value": 1}]}},
            "field 'ops.read.parts[0].weight'",
        ),
        (
            {"read": {"dist": "constant", "value": 1, "guess": {"median": [0, 5]}}},
            "field 'ops.read.guess.median': bad value 'median'; unknown parameter",
        ),
        (
            {"read": {"dist": "constant", "value": 1, "guess": {"value": [2, 5]}}},
            "field 'ops.read.guess.value': bad value [2, 5]; allowed: a range that holds the value 1",
        ),
        (
            {"read": {"dist": "constant", "value": 1, "range": {"value": [5, 0]}}},
            "field 'ops.read.range.value': bad value [5, 0]; allowed: [low, high] with 0 <= low < high",
        ),
        (
            {
                "read": {
                    "dist": "mixture",
                    "parts": [{"weight": 1, "dist": "constant", "value": 1, "guess": {}}],
                }
            },
            "field 'ops.read.parts[0].guess': bad value {}; unknown field",
        ),
    ],
)
def test_bad_profiles_name_file_field_value_and_what_is_allowed(change: dict, needle: str) -> None:
    data = {"ops": {**BASE_PROFILE["ops"], **change}}
    with pytest.raises(ConfigError) as info:
        parse_profile("p.toml", data)
    assert needle in str(info.value)
    assert "\n" not in str(info.value)


def test_a_profile_naming_an_operation_twice_or_no_name_is_refused() -> None:
    ops = {**BASE_PROFILE["ops"], "compute": {"default": {"dist": "constant", "value": 2.0}}}
    ops["compute.default"] = {"dist": "constant", "value": 3.0}  # [ops."compute.default"]
    with pytest.raises(ConfigError, match="field 'ops.compute.default'.*each operation once"):
        parse_profile("p.toml", {"ops": ops})
    with pytest.raises(ConfigError, match="field 'name': bad value ' '; allowed: a non-empty"):
        parse_profile("p.toml", {"name": " ", "ops": BASE_PROFILE["ops"]})


def test_a_profile_missing_an_operation_says_which() -> None:
    ops = dict(BASE_PROFILE["ops"])
    del ops["commit"]
    with pytest.raises(ConfigError, match="field 'ops.commit': bad value None; missing"):
        parse_profile("p.toml", {"ops": ops})


@pytest.mark.parametrize(
    "data,needle",
    [
        (
            {"designs": ["baseline", "turbo"]},
            "s.toml: field 'designs': bad value 'turbo'; unknown design 'turbo'; valid designs: baseline,",
        ),
        (
            {"workload": {"arrival": "zipf"}},
            "field 'workload.arrival': bad value 'zipf'; allowed: poisson, uniform, burst, ramp, closed",
        ),
        ({"workload": {"rate_per_s": -2}}, "field 'workload.rate_per_s': bad value -2"),
        (  # it used to run flat at rate_per_s
            {"workload": {"arrival": "ramp", "rate_per_s": 2}},
            "field 'workload.ramp_to_per_s': bad value None; missing; a ramp needs the rate",
        ),
        (
            {"workload": {"arrival": "ramp", "ramp_to_per_s": 1e300}},
            "field 'workload.ramp_to_per_s': bad value 1e+300; allowed: a number between 0 and",
        ),
        (  # a delay for purges that never happen
            {"engine": {"purge": False, "purge_delay_ms": 5000}},
            "field 'engine.purge_delay_ms': bad value 5000.0; allowed only with purge = true",
        ),
        (
            {"workload": {"mix": {"purge": 1.0}}},
            "field 'workload.mix.purge': bad value 1.0; unknown field",
        ),
        (
            {"faults": {"tracker_outages_s": [[5, 1]]}},
            "field 'faults.tracker_outages_s': bad value [[5, 1]]",
        ),
        (
            {"faults": {"tracker_error_rate": 1.5}},
            "field 'faults.tracker_error_rate': bad value 1.5; allowed: a number between 0 and 1",
        ),
        (
            {"platform": {"cache": "yes"}},
            "field 'platform.cache': bad value 'yes'; allowed: true or false",
        ),
        (
            {"replications": 0},
            "field 'replications': bad value 0; allowed: a whole number from 1 to 1000",
        ),
        ({"duration": 10}, "field 'duration': bad value 10; unknown field"),
        (
            {"engine": {"tracker": "fastest"}},
            "field 'engine.tracker': bad value 'fastest'; allowed: upstream-defaults, example-app",
        ),
        (
            {"platform": {"deploy_grace_ms": -1}},
            "field 'platform.deploy_grace_ms': bad value -1; allowed: a number between 0 and",
        ),
        (
            {"workload": {"followups": [["get_status", float("inf")]]}},
            "field 'workload.followups': bad value [['get_status', inf]]",
        ),
    ],
)
def test_bad_scenarios_name_file_field_value_and_what_is_allowed(data: dict, needle: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_scenario("s.toml", data)
    assert needle in str(info.value)


def test_unknown_scenario_and_profile_names_list_the_available_ones() -> None:
    with pytest.raises(InputError, match="unknown scenario 'nope'; available: cold-start"):
        load_scenario("nope")
    with pytest.raises(InputError, match="unknown profile 'nope'; available: public-figures"):
        load_profile("nope")


def test_run_cli_reports_a_bad_scenario_file_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "bad"\n[workload]\nrate_per_s = "lots"\n')
    assert main(["run", str(bad), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"error: {bad}: field 'workload.rate_per_s': bad value 'lots'; allowed: a finite number\n"
    )


def test_run_cli_reports_broken_toml_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "broken.toml"
    bad.write_text("name = \n")
    assert main(["run", str(bad), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {bad}: not valid TOML") and err.count("\n") == 1


def tiny_scenario(folder: Path) -> Path:
    """Two designs, ten seconds of calls: a scenario file for the CLI tests."""
    scenario = folder / "tiny.toml"
    scenario.write_text(
        'name = "tiny"\ndesigns = ["baseline", "fast-queue"]\nduration_s = 10\n'
        "drain_s = 10\n[workload]\nrate_per_s = 2.0\n"
    )
    return scenario


def test_run_cli_prints_a_summary_and_writes_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tiny_scenario(tmp_path)
    out = tmp_path / "rows.csv"
    assert main(["run", str(scenario), "--no-progress", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "baseline" in printed and "fast-queue" in printed and "p99_ms" in printed
    frame = pd.read_csv(out)
    assert set(frame["design"]) == {"baseline", "fast-queue"}


def test_progress_in_a_log_is_a_few_whole_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", str(tiny_scenario(tmp_path))]) == 0  # stderr is captured: not a terminal
    err = capsys.readouterr().err
    assert "\r" not in err
    lines = err.splitlines()
    assert lines and all(line.startswith("tiny: ") for line in lines)
    assert len(lines) <= 3  # the first draw, the last, and at most one every ten seconds
    assert lines[-1].startswith("tiny: 2/2 runs")


def test_a_closed_loop_of_calls_that_take_no_time_stays_within_its_estimate() -> None:
    # With every latency zero and no think time, clients used to call without end at one
    # instant: 50 ms of two clients made 296,006 calls where the estimate allowed 100.
    scenario = load_scenario("cold-start")
    scenario = scenario.with_changes(
        duration_s=0.05,
        drain_s=1.0,
        workload=replace(scenario.workload, arrival="closed", clients=2, think_ms=0.0),
    )
    zero = Profile("zero", {op: Constant(0.0) for op in REQUIRED_OPS}, {})
    result = simulate(scenario, design_by_name("baseline"), zero, 0)
    client_calls = int((result.rows["source"] == "client").sum())
    assert 2 <= client_calls <= budget.calls_per_run(scenario) == 100
