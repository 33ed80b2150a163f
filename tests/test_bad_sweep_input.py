"""Bad input to `sweep`: one line on stderr naming the file, the field, the value and what is
allowed, exit status 2, before anything runs or is written; and valid but unusual sweeps (no
one-at-a-time points, points where no call answered) report instead of crashing.

Every sweep here runs in this process on one worker, for a simulated second or so.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from simulator.cli import main
from simulator.errors import ConfigError
from simulator.experiments.sweep import points, profile_at
from simulator.model.distributions import LogNormal
from simulator.model.sweep_spec import parse_sweep

#: A sweep of a second of cold arrivals on the baseline, with its parameter tables to add.
TINY = """
name = "tiny"
designs = ["baseline"]
modes = ["cold"]
duration_s = 1
drain_s = 5
oat_levels = 2
"""


def parameter(op: str, name: str, low: float, high: float, scale: str = "log") -> str:
    return (
        f'[[parameter]]\nop = "{op}"\nparameter = "{name}"\nlow = {low}\nhigh = {high}\n'
        f'scale = "{scale}"\n'
    )


READ_MEDIAN = parameter("read", "median", 1, 3)


def sweep(tmp_path: Path, text: str, *options: str, default_out: bool = False) -> int:
    """`sweep` on a spec file of `text`, into tmp_path/out (or, with `default_out`, where the
    sweep's name says); its exit status."""
    spec = tmp_path / "spec.toml"
    spec.write_text(text)
    where = [] if default_out else ["--out", str(tmp_path / "out")]
    try:
        return main(["sweep", str(spec), *where, "--workers", "1", "--no-progress", *options])
    except SystemExit as stop:  # argparse's own refusals
        return int(stop.code or 0)


def one_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err, err
    return err


# --- B1, B2: valid sweeps whose report crashed ---


def test_a_sweep_without_one_at_a_time_points_writes_its_report(tmp_path: Path) -> None:
    text = TINY.replace("oat_levels = 2", "oat_levels = 0\nlhs_points = 2") + READ_MEDIAN
    assert sweep(tmp_path, text) == 0
    readme = (tmp_path / "out" / "README.md").read_text()
    assert "No parameter was moved alone in this sweep (`oat_levels = 0`)" in readme
    assert "none moved one at a time, and 2 Latin-hypercube points" in readme
    assert not (tmp_path / "out" / "figures").exists()  # no empty folder of figures


def test_a_point_where_no_call_answered_is_reported_not_a_crash(tmp_path: Path) -> None:
    # A warm call needs an arrival after its pre-warming call 2 s earlier: one second of
    # arrivals has none, so no point has a warm p50.
    text = TINY.replace('"cold"', '"warm"') + READ_MEDIAN
    assert sweep(tmp_path, text) == 0
    readme = (tmp_path / "out" / "README.md").read_text()
    assert "**3 of 3 points have no answered run_async call**" in readme
    assert "0 (nominal): `baseline` warm; 1 (oat): `baseline` warm" in readme


# --- B3: ranges a distribution or a scenario refuses, found before anything runs ---


@pytest.mark.parametrize(
    "table,needle",
    [
        (
            parameter("read", "p99", 0.5, 3),
            "field 'parameter[0].low': bad value 0.5; allowed: a value read's distribution "
            "takes (p99 0.5 must be above the median 2)",
        ),
        (
            parameter("read", "median", 0, 3, "linear"),
            "field 'parameter[0].low': bad value 0.0; allowed: a value read's distribution "
            "takes (a lognormal's median must be above 0)",
        ),
        (
            parameter("workload", "rate_per_s", 0, 1, "linear"),
            "field 'parameter[0].low': bad value 0.0; allowed: a value the cold-start scenario "
            "takes for workload.rate_per_s (a number between 1e-06 and 1e+06)",
        ),
        (
            parameter("idle_eviction", "low", 100000, 200000),
            "field 'parameter[0].high': bad value 200000.0; allowed: a value idle_eviction's "
            "distribution takes (uniform low 200000 must not be above high 140000)",
        ),
        (
            parameter("platform", "isolates", 0.1, 4),
            "field 'parameter[0].low': bad value 0.1; allowed: a value the cold-start scenario "
            "takes for platform.isolates (a whole number from 1 to 10000)",
        ),
        (  # no run is long enough for such a read to end
            parameter("read", "median", 1, 2e10),
            "field 'parameter[0].high': bad value 20000000000.0; allowed: a value read's "
            "distribution takes (a latency of at most 1e+10 ms, the longest run)",
        ),
        (  # every point would run 1 isolate while the report names 1 to 1.4
            parameter("platform", "isolates", 1, 1.4, "linear"),
            "field 'parameter[0].high': bad value 1.4; allowed: a whole number "
            "(platform.isolates is a count)",
        ),
        (  # its high end was computed as infinity
            parameter("read", "median", 1e-9, 1e308),
            "field 'parameter[0].high': bad value 1e+308; allowed: a number at most 1e300 times",
        ),
    ],
    ids=[
        "p99 below median",
        "median 0",
        "rate 0",
        "uniform low above high",
        "isolates 0",
        "read beyond any run",
        "isolates fractional",
        "log range overflows",
    ],
)
def test_a_range_end_the_distribution_or_scenario_refuses_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], table: str, needle: str
) -> None:
    assert sweep(tmp_path, TINY + table) == 2
    assert needle in one_line(capsys)
    assert not (tmp_path / "out").exists()


def test_ranges_of_one_operation_that_the_latin_hypercube_combines_badly_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Each end is a valid uniform with the other end nominal (70-140 s), but a point drawn with
    # low = 139 s and high = 71 s is not.
    text = (
        TINY.replace("oat_levels = 2", "oat_levels = 0\nlhs_points = 8")
        + parameter("idle_eviction", "low", 60000, 139000)
        + parameter("idle_eviction", "high", 71000, 130000)
    )
    assert sweep(tmp_path, text) == 2
    assert "field 'parameter[1]': bad value 'idle_eviction.high'" in one_line(capsys)
    assert not (tmp_path / "out").exists()


def test_a_p99_listed_before_its_median_is_the_p99_the_point_runs_with() -> None:
    # Setting a lognormal's median moves its p99 with it: set after the p99, it undid it.
    spec = parse_sweep(
        "s.toml",
        {
            "designs": ["baseline"],
            "oat_levels": 0,
            "lhs_points": 8,
            "parameter": [
                {"op": "stub_check", "parameter": "p99", "low": 100.0, "high": 1000.0},
                {"op": "stub_check", "parameter": "median", "low": 5.0, "high": 200.0},
            ],
        },
    )
    base = spec.load_profile()
    for point in points(spec)[1:]:
        dist = profile_at(base, spec.parameters, point).dist("stub_check")
        assert isinstance(dist, LogNormal)
        wanted = point.varied["stub_check.median"], point.varied["stub_check.p99"]
        assert (dist.median_ms, dist.p99_ms) == pytest.approx(wanted)


def test_a_failure_in_a_run_is_not_hidden_by_the_report_of_what_finished(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from simulator.cli import sweep_cmd
    from simulator.experiments import sweep as experiment

    real = experiment.run_point

    def second_point_fails(job: experiment.PointJob) -> dict[str, object]:
        if job.point.index == 1:
            raise RuntimeError("the run failed")
        return real(job)

    def report_fails(*args: object, **kwargs: object) -> None:
        raise OSError("the report failed")

    monkeypatch.setattr(experiment, "run_point", second_point_fails)
    monkeypatch.setattr(sweep_cmd, "write_sweep_report", report_fails)
    with pytest.raises(RuntimeError, match="the run failed"):
        sweep(tmp_path, TINY + READ_MEDIAN)
    assert "the report failed" in capsys.readouterr().err


# --- A2: the work budget, and a bound on the Latin hypercube ---


def test_a_sweep_whose_largest_point_is_over_the_work_budget_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = TINY.replace("duration_s = 1", "duration_s = 10") + parameter(
        "workload", "rate_per_s", 1, 1e6
    )
    assert sweep(tmp_path, text) == 2
    err = one_line(capsys)
    assert "the largest point (workload.rate_per_s = 1e+06) plans about 10,000,000" in err
    assert "the cap is 2,000,000 calls a point" in err and "--max-calls" in err
    assert not (tmp_path / "out").exists()


def test_sweep_takes_run_s_max_calls(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert sweep(tmp_path, TINY + READ_MEDIAN, "--max-calls", "1") == 2
    assert "the cap is 1 calls a point" in one_line(capsys)
    assert sweep(tmp_path, TINY + READ_MEDIAN, "--max-calls", "0") == 2
    assert "--max-calls: bad value 0" in one_line(capsys)


def test_latin_hypercube_points_are_bounded_and_computed_in_seconds() -> None:
    with pytest.raises(ConfigError, match="'lhs_points': bad value 1000000; allowed: .* 10,000"):
        parse_sweep(
            "s.toml", {"designs": ["baseline"], "parameters": "guesses", "lhs_points": 10**6}
        )
    spec = parse_sweep(
        "s.toml",
        {"designs": ["baseline"], "parameters": "guesses", "oat_levels": 0, "lhs_points": 10_000},
    )
    started = time.perf_counter()
    assert len(points(spec)) == 10_001
    assert time.perf_counter() - started < 5.0  # 0.6 s on the 2-core reference machine


# --- B4: a damaged record of a sweep in its folder ---


def _damage(out: Path, how: str) -> Path:
    """Damage the folder of a finished sweep; answer the file named in the refusal."""
    marker, part = out / "sweep.json", out / "points" / "part-00000.parquet"
    if how == "truncated sweep.json":
        marker.write_text('{"name": "ok", "finger')
    elif how == "sweep.json a list":
        marker.write_text("[1, 2]")
    elif how == "sweep.json a folder":
        marker.unlink()
        marker.mkdir()
    elif how == "garbage part":
        part.write_bytes(b"garbage")
        return part
    elif how == "empty part":
        part.write_bytes(b"")
        return part
    return marker


@pytest.mark.parametrize(
    "how",
    [
        "truncated sweep.json",
        "sweep.json a list",
        "sweep.json a folder",
        "garbage part",
        "empty part",
    ],
)
def test_a_damaged_sweep_folder_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], how: str
) -> None:
    assert sweep(tmp_path, TINY + READ_MEDIAN) == 0
    capsys.readouterr()
    named = _damage(tmp_path / "out", how)
    assert sweep(tmp_path, TINY + READ_MEDIAN) == 2
    err = one_line(capsys)
    assert err.startswith(f"error: {named}: ") and "or give another --out" in err, err


# --- B5, C13: names ---


@pytest.mark.parametrize(
    "line,needle",
    [
        ('name = "a\\u0000b"', "field 'name': bad value 'a\\x00b'; allowed: text of at most"),
        ('profile = "x\\u0000y.toml"', "field 'profile': bad value 'x\\x00y.toml'; allowed: text"),
        ('name = "x/../../esc_by_name"', "field 'name': bad value 'x/../../esc_by_name'; allowed"),
        ('name = ""', "field 'name': bad value ''; allowed: a plain file name"),
        ('name = ".hidden"', "field 'name': bad value '.hidden'; allowed: a plain file name"),
    ],
    ids=["NUL in name", "NUL in profile", "name a path", "name empty", "name hidden"],
)
def test_a_name_that_is_not_a_plain_file_name_is_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    line: str,
    needle: str,
) -> None:
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)  # the default --out, reports/sweep-NAME, is under here
    text = TINY.replace('name = "tiny"', line) if "name" in line else TINY + line
    assert sweep(tmp_path, text + "\n" + READ_MEDIAN, default_out=True) == 2
    assert needle in one_line(capsys)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == [
        "a",
        "a/b",
        "spec.toml",
    ]
    plain = {"name": "v1.2_a-b", "designs": ["baseline"], "parameters": "guesses"}
    assert parse_sweep("s.toml", plain).name == "v1.2_a-b"  # dots, dashes, underscores are fine


# --- C11: a setting the modes' scenarios do not read ---


def test_a_setting_the_modes_do_not_read_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert sweep(tmp_path, TINY + parameter("workload", "think_ms", 1, 100)) == 2
    err = one_line(capsys)
    assert "field 'parameter[0].parameter': bad value 'think_ms'" in err
    assert "think_ms applies only to closed-loop arrivals" in err
    assert not (tmp_path / "out").exists()


def test_a_sweep_naming_one_design_twice_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # `fast-queue` is `queue_path=fast`: the same runs under two names, as scenarios refuse too.
    text = TINY.replace('["baseline"]', '["fast-queue", "queue_path=fast"]') + READ_MEDIAN
    assert sweep(tmp_path, text) == 2
    err = one_line(capsys)
    assert "'queue_path=fast'" in err and "the same design as 'fast-queue'" in err, err
    assert not (tmp_path / "out").exists()
