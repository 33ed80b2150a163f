"""A corpus of hostile but plausible inputs: each gets one line on stderr, exit status 2, no
traceback, and nothing half-written.

Classes: the size of the work; numbers at the edge; silently wrong choices (duplicates, empty
values, faults outside the run); output paths; loader failures (encoding, nesting, the wrong
kind of file); calibration, sweep, soak and samples arguments.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest

from simulator import cli
from simulator.cli import main

MINIMAL = 'name = "s"\nduration_s = 1\ndrain_s = 1\n'


def _scenario(tmp_path: Path, text: str, name: str = "bad.toml") -> str:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return str(path)


# (id, scenario file text) — each must be refused when run.
SCENARIOS: list[tuple[str, str]] = [
    # the size of the work
    ("huge rate", MINIMAL + "[workload]\nrate_per_s = 1e9\n"),
    ("huge duration", 'name = "s"\nduration_s = 1e12\n'),
    ("huge drain", MINIMAL.replace("drain_s = 1", "drain_s = 1e15")),
    ("many clients", MINIMAL + '[workload]\narrival = "closed"\nclients = 1000000\n'),
    (
        "huge burst",
        MINIMAL + '[workload]\narrival = "burst"\nburst_size = 1000000\nburst_every_s = 0.001\n',
    ),
    ("many replications", MINIMAL + "replications = 1000\nduration_s = 100000\n"),
    ("rate times duration", 'name = "s"\nduration_s = 86400\n[workload]\nrate_per_s = 1000\n'),
    ("fault storm", MINIMAL + "[faults]\ncrash_rate_per_hour = 1e12\n"),
    ("deploy storm", MINIMAL + "[faults]\ndeploy_rate_per_hour = 1e15\n"),
    (
        "followups storm",
        MINIMAL
        + "[workload]\nfollowups = "
        + str([["get_status", 1]] * 2000).replace("'", '"')
        + "\n",
    ),
    ("ramp to huge", MINIMAL + '[workload]\narrival = "ramp"\nramp_to_per_s = 1e12\n'),
    ("pool huge", MINIMAL + '[workload]\nids = "pool"\npool_size = 1000000000\n'),
    ("no call planned", 'name = "s"\nduration_s = 0.001\n[workload]\nrate_per_s = 0.001\n'),
    # fields that would be ignored
    ("empty mix", MINIMAL + "[workload.mix]\n"),
    ("ramp target without a ramp", MINIMAL + "[workload]\nramp_to_per_s = 50\n"),
    ("rate of a closed loop", MINIMAL + '[workload]\narrival = "closed"\nrate_per_s = 999\n'),
    ("think time of an open loop", MINIMAL + "[workload]\nthink_ms = 100\n"),
    ("pool size of fresh ids", MINIMAL + "[workload]\npool_size = 5\n"),
    ("followup after the run", MINIMAL + '[workload]\nfollowups = [["get_status", 1e9]]\n'),
    # numbers at the edge
    ("inf rate", MINIMAL + "[workload]\nrate_per_s = inf\n"),
    ("nan rate", MINIMAL + "[workload]\nrate_per_s = nan\n"),
    ("1e308 duration", 'name = "s"\nduration_s = 1e308\n'),
    ("huge int seed", MINIMAL + "seed = 99999999999999999999\n"),
    ("negative seed", MINIMAL + "seed = -1\n"),
    ("tiny rate", MINIMAL + "[workload]\nrate_per_s = 1e-320\n"),
    ("tiny duration", 'name = "s"\nduration_s = 1e-300\n'),
    ("nan drain", MINIMAL.replace("drain_s = 1", "drain_s = nan")),
    ("inf think", MINIMAL + '[workload]\narrival = "closed"\nthink_ms = inf\n'),
    ("mix overflow", MINIMAL + "[workload.mix]\nrun_async = 1e308\nrun = 1e308\n"),
    ("mix nan", MINIMAL + "[workload.mix]\nrun_async = nan\n"),
    ("mix zero", MINIMAL + "[workload.mix]\nrun_async = 0\n"),
    ("nan fault rate", MINIMAL + "[faults]\ncrash_rate_per_hour = nan\n"),
    ("inf error rate", MINIMAL + "[faults]\ntracker_error_rate = inf\n"),
    ("outage inf", MINIMAL + "[faults]\ntracker_outages_s = [[0, inf]]\n"),
    ("timeout zero", MINIMAL + "[faults]\ntracker_timeout_ms = 0\n"),
    ("sleep inf", MINIMAL + "[engine]\nsleep_ms = inf\n"),
    ("purge huge", MINIMAL + "[engine]\npurge_delay_ms = 1e308\n"),
    ("isolates zero", MINIMAL + "[platform]\nisolates = 0\n"),
    ("grace nan", MINIMAL + "[platform]\ndeploy_grace_ms = nan\n"),
    (
        "override huge median",
        MINIMAL + '[profile_overrides.read]\ndist = "lognormal"\nmedian = 1e308\np99 = inf\n',
    ),
    (
        "override constant inf",
        MINIMAL + '[profile_overrides.read]\ndist = "constant"\nvalue = inf\n',
    ),
    (
        "override uniform nan",
        MINIMAL + '[profile_overrides.read]\ndist = "uniform"\nlow = nan\nhigh = 1\n',
    ),
    (
        "override empirical nan",
        MINIMAL + '[profile_overrides.read]\ndist = "empirical"\nsamples = [1, nan]\n',
    ),
    (
        "override mixture weights overflow",
        MINIMAL
        + '[profile_overrides.read]\ndist = "mixture"\nparts = [{weight = 1e308, dist = "constant", value = 1}, {weight = 1e308, dist = "constant", value = 2}]\n',
    ),
    (
        "override cap negative",
        MINIMAL + '[profile_overrides.read]\ndist = "constant"\nvalue = 1\ncap = -5\n',
    ),
    # silently wrong choices
    ("same design twice", MINIMAL + 'designs = ["baseline", "baseline"]\n'),
    ("preset and its switches", MINIMAL + 'designs = ["fast-queue", "queue_path=fast"]\n'),
    ("deploy after the run", MINIMAL + "[faults]\ndeploys_at_s = [5]\n"),
    ("crash after the run", MINIMAL + "[faults]\ncrashes_at_s = [2.5]\n"),
    ("outage after the run", MINIMAL + "[faults]\ntracker_outages_s = [[10, 20]]\n"),
    ("empty file", ""),
    ("only a comment", "# nothing here\n"),
    ("empty designs", MINIMAL + "designs = []\n"),
    ("unknown table", MINIMAL + "[workloads]\nrate_per_s = 1\n"),
    ("unknown engine field", MINIMAL + "[engine]\nsleep = 1\n"),
    ("bad followup kind", MINIMAL + '[workload]\nfollowups = [["purge", 1]]\n'),
    ("prewarm inf", MINIMAL + "[workload]\nprewarm_ms = inf\n"),
    # loader failures
    ("deep nesting", 'name = "s"\nx = ' + "[" * 400 + "]" * 400 + "\n"),
    ("nul character", 'name = "s\x00"\nduration_s = 1\n'),
    ("long name", 'name = "' + "n" * 5000 + '"\nduration_s = 1\n'),
    ("long description", MINIMAL + 'description = "' + "d" * 100000 + '"\n'),
    ("broken toml", "name = \n"),
    ("not utf-8", "name = '\udcff'"),
    ("profile that is a scenario", MINIMAL + 'profile = "../cold-start.toml"\n'),
    ("profile missing", MINIMAL + 'profile = "no-such-profile"\n'),
    ("profile a folder", MINIMAL + 'profile = "."\n'),
    ("profile with a nul", MINIMAL + 'profile = "public\\u0000figures"\n'),
    ("name a table", "name = { a = 1 }\nduration_s = 1\n"),
    ("designs a table", MINIMAL + "designs = { a = 1 }\n"),
]


@pytest.mark.parametrize("text", [t for _, t in SCENARIOS], ids=[i for i, _ in SCENARIOS])
def test_a_bad_scenario_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    if text == "name = '\udcff'":
        path = str(tmp_path / "bad.toml")
        Path(path).write_bytes(b"name = '\xff'\n")
    else:
        path = _scenario(tmp_path, text)
    out = tmp_path / "rows.csv"
    assert main(["run", path, "--no-progress", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err and len(err) < 600, err
    assert not out.exists()


# (id, argument list) — command lines that must be refused before any work.
COMMANDS: list[tuple[str, list[str]]] = [
    ("run empty designs", ["run", "cold-start", "--designs", ""]),
    ("run negative seed", ["run", "cold-start", "--seed", "-1"]),
    ("run seed past 2**63", ["run", "cold-start", "--seed", str(2**63)]),
    ("run zero duration", ["run", "cold-start", "--duration", "0"]),
    ("run NaN duration", ["run", "cold-start", "--duration", "nan"]),
    ("run endless duration", ["run", "cold-start", "--duration", "inf"]),
    ("run summary-only with out", ["run", "cold-start", "--summary-only", "--out", "{tmp}/r.csv"]),
    ("run zero workers", ["run", "cold-start", "--workers", "0"]),
    ("run workers beyond the machine", ["run", "cold-start", "--workers", "1000"]),
    ("run bad scheduler", ["run", "cold-start", "--scheduler", "http://x"]),
    ("run scheduler without port", ["run", "cold-start", "--scheduler", "tcp://127.0.0.1"]),
    ("run scheduler port out of range", ["run", "cold-start", "--scheduler", "tcp://h:99999"]),
    ("run scheduler unclosed bracket", ["run", "cold-start", "--scheduler", "tcp://[::1"]),
    ("run blank designs", ["run", "cold-start", "--designs", " , "]),
    ("run duplicate designs", ["run", "cold-start", "--designs", "baseline,baseline"]),
    (
        "run design and its switches",
        ["run", "cold-start", "--designs", "fast-queue,queue_path=fast"],
    ),
    ("run unknown design", ["run", "cold-start", "--designs", "turbo"]),
    ("run zero replications", ["run", "cold-start", "--replications", "0"]),
    ("run huge replications", ["run", "cold-start", "--replications", "100000000"]),
    ("run out a folder", ["run", "cold-start", "--out", "{tmp}"]),
    ("run out wrong extension", ["run", "cold-start", "--out", "{tmp}/rows.xlsx"]),
    ("run out unwritable", ["run", "cold-start", "--out", "/proc/rows.csv"]),
    ("run out under a file", ["run", "cold-start", "--out", "{file}/rows.csv"]),
    ("run unknown scenario", ["run", "no-such-scenario"]),
    ("run scenario a pipe", ["run", "{tmp}/pipe.toml"]),
    ("run scenario a folder", ["run", "{tmp}"]),
    ("run profile a scenario", ["run", "cold-start", "--profile", "scenarios/warm.toml"]),
    ("run unknown profile", ["run", "cold-start", "--profile", "fastest"]),
    ("run unknown call", ["run", "cold-start", "--call", "purge"]),
    (
        "run call it never makes",
        ["run", "cold-start", "--duration", "2", "--call", "cancel", "--no-progress"],
    ),
    (
        "run summary of a call it never makes",
        [
            "run",
            "cold-start",
            "--duration",
            "2",
            "--call",
            "cancel",
            "--summary-only",
            "--no-progress",
        ],
    ),
    ("bench out a file", ["bench", "--out", "{file}"]),
    ("bench zero workers", ["bench", "--workers", "0"]),
    ("bench negative workers", ["bench", "--workers", "-3"]),
    ("bench bad scheduler", ["bench", "--scheduler", "dask://nowhere"]),
    ("bench out unwritable", ["bench", "--out", "/proc/bench"]),
    ("bench out a folder of other files", ["bench", "--out", "{tmp}"]),
    ("bench out the current folder", ["bench", "--out", "."]),
    ("bench out a folder of the user's README", ["bench", "--out", "{readme}"]),
    ("calibrate zero duration", ["calibrate", "--duration", "0"]),
    ("calibrate nan duration", ["calibrate", "--duration", "nan"]),
    ("calibrate inf duration", ["calibrate", "--duration", "inf"]),
    ("calibrate tiny duration", ["calibrate", "--duration", "0.001"]),
    ("calibrate zero evaluations", ["calibrate", "--max-evaluations", "0"]),
    ("calibrate out a folder", ["calibrate", "--out", "{tmp}"]),
    ("calibrate out wrong extension", ["calibrate", "--out", "{tmp}/p.json"]),
    ("calibrate samples missing", ["calibrate", "--samples", "{tmp}/none.csv"]),
    ("calibrate samples wrong kind", ["calibrate", "--samples", "{file}"]),
    ("sweep unknown spec", ["sweep", "no-such-sweep"]),
    ("sweep out a file", ["sweep", "public-figures-guesses", "--out", "{file}"]),
    ("sweep zero workers", ["sweep", "public-figures-guesses", "--workers", "0"]),
    ("sweep out a folder of other files", ["sweep", "public-figures-guesses", "--out", "{tmp}"]),
    (
        "sweep out a folder of the user's README",
        ["sweep", "public-figures-guesses", "--out", "{readme}"],
    ),
    ("soak zero schedules", ["soak", "--schedules", "0"]),
    ("soak huge schedules", ["soak", "--schedules", "100000000000"]),
    ("soak empty designs", ["soak", "--designs", ""]),
    ("soak unknown design", ["soak", "--designs", "turbo"]),
    ("soak out a file", ["soak", "--out", "{file}", "--schedules", "1"]),
    ("soak out a folder of other files", ["soak", "--out", "{tmp}", "--schedules", "1"]),
    ("trace unknown design", ["trace", "--design", "turbo"]),
    ("trace unknown scenario", ["trace", "--scenario", "nope"]),
    ("validate few samples", ["validate", "--samples", "1"]),
    ("validate unknown design", ["validate", "--designs", "turbo"]),
    ("validate out a file", ["validate", "--out", "{file}"]),
    ("compare missing file", ["compare", "{tmp}/none.json", "{tmp}/none.json"]),
    ("compare not json", ["compare", "{file}", "{file}"]),
    ("compare bad fail-on", ["compare", "{file}", "{file}", "--fail-on", "speed"]),
    ("compare nan min-change", ["compare", "{file}", "{file}", "--min-change", "nan"]),
    ("compare out not md", ["compare", "{file}", "{file}", "--out", "{tmp}/x.png"]),
    ("gates stray argument", ["gates", "--accept", "now"]),
    ("no command", []),
    ("unknown command", ["explode"]),
    ("unknown option", ["run", "cold-start", "--fast"]),
]


def test_a_run_refused_after_it_ran_writes_no_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "rows.csv"
    args = ["run", "cold-start", "--duration", "2", "--call", "cancel", "--no-progress"]
    assert main([*args, "--out", str(out)]) == 2  # a call the run never makes
    assert "this run made no such call" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("args", [a for _, a in COMMANDS], ids=[i for i, _ in COMMANDS])
def test_a_bad_command_line_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    file = tmp_path / "a-file.txt"
    file.write_text("not a folder\n")
    os.mkfifo(tmp_path / "pipe.toml")  # reading it would wait forever for a writer
    readme = tmp_path / "mine"  # a folder of the user's, holding only their README.md
    readme.mkdir()
    (readme / "README.md").write_text("mine\n")
    filled = [
        a.replace("{tmp}", str(tmp_path))
        .replace("{file}", str(file))
        .replace("{readme}", str(readme))
        for a in args
    ]
    try:
        code = main(filled)
    except SystemExit as stop:  # argparse's own refusals
        code = stop.code
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith(("error: ", "usage: ")) and "Traceback" not in err, err
    assert err.strip().count("\n") <= 1 or err.startswith("usage: "), err


# (id, profile text) — profiles given by path to `run --profile`.
PROFILES: list[tuple[str, str]] = [
    ("empty profile", ""),
    ("ops not a table", 'ops = "fast"\n'),
    ("missing ops", 'name = "p"\n[ops.read]\ndist = "constant"\nvalue = 1\n'),
    ("guess outside", '[ops.read]\ndist = "constant"\nvalue = 1\nguess = { value = [5, 9] }\n'),
    ("lognormal inf", '[ops.read]\ndist = "lognormal"\nmedian = 1\np99 = inf\n'),
    ("empirical huge", '[ops.read]\ndist = "empirical"\nsamples = [1e400]\n'),
    ("scenario as profile", MINIMAL),
]


@pytest.mark.parametrize("text", [t for _, t in PROFILES], ids=[i for i, _ in PROFILES])
def test_a_bad_profile_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    path = _scenario(tmp_path, text, "profile.toml")
    assert main(["run", "cold-start", "--profile", path, "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err


def test_a_scenario_s_profile_path_resolves_from_the_scenario_s_folder(tmp_path: Path) -> None:
    (tmp_path / "profiles").mkdir()
    source = Path("scenarios/profiles/public-figures.toml").read_text()
    (tmp_path / "profiles" / "mine.toml").write_text(source.replace("public-figures", "mine"))
    path = _scenario(tmp_path, MINIMAL + 'profile = "profiles/mine.toml"\n', "s.toml")
    assert main(["run", path, "--no-progress"]) == 0


def test_every_command_has_a_bad_command_line_in_the_corpus() -> None:
    sub = argparse.ArgumentParser().add_subparsers()
    for command in cli.COMMANDS:
        command.add_parser(sub)
    assert set(sub.choices) <= {args[0] for _, args in COMMANDS if args}


def test_a_bad_switch_in_a_scenario_s_design_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _scenario(tmp_path, MINIMAL + 'designs = ["recovery=alarm+flush=bogus"]\n')
    assert main(["run", path, "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "'flush'" in err and "'bogus'" in err and "seed-literal" in err, err


@pytest.mark.parametrize(
    ("given", "said"),
    [("", "no scenario given; available: cold-start"), ("cold-start.toml", "named without .toml")],
)
def test_a_scenario_name_given_wrong_says_how_to_give_it(
    capsys: pytest.CaptureFixture[str], given: str, said: str
) -> None:
    assert main(["run", given, "--no-progress"]) == 2
    assert said in capsys.readouterr().err


def test_an_unrecognized_argument_names_the_command_it_was_given_to(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["gates", "--accept", "now"])
    assert stop.value.code == 2
    assert capsys.readouterr().err == (
        "error: python -m simulator gates: unrecognized arguments: now\n"
    )


def test_a_long_bad_design_name_is_cut_in_its_message(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["trace", "--design", "x" * 100_000]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and len(err) < 600, len(err)
