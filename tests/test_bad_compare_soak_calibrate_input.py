"""Bad input to `compare`, `soak` and `calibrate --samples`: one line on stderr and exit status 2,
never a traceback or a silently wrong answer; an interrupted soak keeps what it found."""

from __future__ import annotations

import json
import shutil
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from simulator.cli import main
from simulator.experiments import soak
from simulator.model.profile import load_profile
from simulator.model.scenario import MAX_SEED

BENCH = Path("reports/bench")
GROUP = ["profile", "design", "mode", "call"]


def one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    return err


# --- soak ------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [-1, MAX_SEED + 1])
def test_soak_refuses_the_seeds_run_refuses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], seed: int
) -> None:
    args = ["soak", "--seed", str(seed), "--schedules", "1", "--workers", "1", "--no-progress"]
    assert main([*args, "--out", str(tmp_path / "soak")]) == 2
    assert f"--seed: bad value {seed}; allowed: a whole number from 0 to" in one_line_error(capsys)
    assert not (tmp_path / "soak").exists()


def test_soak_refuses_one_design_under_two_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["soak", "--designs", "baseline,recovery=constructor", "--schedules", "1"]
    assert main([*args, "--out", str(tmp_path / "soak"), "--workers", "1"]) == 2
    assert "'recovery=constructor' is the same design as 'baseline'" in one_line_error(capsys)


def test_soak_writes_one_file_per_design_and_schedule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Schedule 4 of seed 1 breaks both designs: each gets its own file.
    out = tmp_path / "soak"
    args = ["soak", "--designs", "baseline,background-flush", "--schedules", "5", "--seed", "1"]
    assert main([*args, "--out", str(out), "--workers", "1", "--no-progress"]) == 1
    listed = json.loads(capsys.readouterr().out)["scenario_files"]
    assert len(listed) == len(set(listed)) >= 2
    assert {Path(p).name for p in listed} == {p.name for p in out.glob("violation-*.toml")}
    assert {"violation-1-baseline-4.toml", "violation-1-background-flush-4.toml"} <= {
        Path(p).name for p in listed
    }
    # A second soak into the folder replaces it whole: no earlier violation beside its summary.
    safe = ["soak", "--schedules", "2", "--out", str(out), "--workers", "1", "--no-progress"]
    assert main(safe) == 0
    assert sorted(p.name for p in out.iterdir()) == ["summary.json"]


def test_an_interrupted_soak_keeps_its_violations_and_a_partial_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run_chunk = soak.run_chunk

    def interrupted_after_the_first(chunk: soak.SoakChunk) -> list[soak.Violation]:
        if chunk.first > 0:
            raise KeyboardInterrupt  # a Ctrl-C while the second chunk runs
        return run_chunk(chunk)

    monkeypatch.setattr(soak, "CHUNK", 5)
    monkeypatch.setattr(soak, "run_chunk", interrupted_after_the_first)
    out = tmp_path / "soak"
    args = ["soak", "--designs", "baseline", "--schedules", "1000", "--seed", "1"]
    assert main([*args, "--out", str(out), "--workers", "1", "--no-progress"]) == 130
    summary = json.loads((out / "summary.json").read_text())
    assert summary["complete"] is False and summary["schedules_done"] == 5
    assert summary["violations"] >= 1
    assert summary["scenario_files"] and all(Path(p).exists() for p in summary["scenario_files"])
    first = Path(summary["scenario_files"][0]).read_text()
    assert "not shrunk (the soak was interrupted)" in first
    assert json.loads(capsys.readouterr().out) == summary


# --- compare ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_bench(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The committed bench run cut to two groups of calls (and their rows) and three cells of
    the fault matrix: a real results.json and rows.parquet that compare in well under a second."""
    document = json.loads((BENCH / "results.json").read_text())
    kept = [
        r
        for r in document["runs"]
        if r["profile"] == "public-figures"
        and r["design"] in ("baseline", "fast-queue")
        and r["mode"] == "cold"
        and r["call"] == "run_async"
    ]
    assert len(kept) == 2
    document["runs"] = kept
    document["correctness"] = document["correctness"][:3]
    rows = pd.read_parquet(BENCH / "rows.parquet")
    keys = pd.MultiIndex.from_tuples([tuple(r[k] for k in GROUP) for r in kept])
    rows = rows[pd.MultiIndex.from_frame(rows[GROUP]).isin(keys)]
    folder = tmp_path_factory.mktemp("small-bench")
    (folder / "results.json").write_text(json.dumps(document))
    rows.to_parquet(folder / "rows.parquet", index=False)
    return folder


def _edited(
    small_bench: Path, to: Path, edit: Callable[[dict[str, Any]], object], rows: bool = True
) -> Path:
    to.mkdir()
    document = json.loads((small_bench / "results.json").read_text())
    edit(document)
    (to / "results.json").write_text(json.dumps(document))
    if rows:
        shutil.copy(small_bench / "rows.parquet", to / "rows.parquet")
    return to


def test_the_small_bench_compares_with_itself(
    small_bench: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["compare", str(small_bench), str(small_bench), "--fail-on", "latency,correctness"]
    assert main(args) == 0
    assert "6 latency figures compared (2 groups of calls): 0 slower" in capsys.readouterr().out


@pytest.mark.parametrize(
    "edit,needle",
    [
        (lambda d: d.update(provenance={}), "at $.provenance: 'harness_version' is a required"),
        (lambda d: d.update(provenance="x"), "field '$.provenance': bad value 'x'; allowed: JSON"),
        (lambda d: d.update(runs="x"), "field '$.runs': bad value 'x'; allowed: JSON type array"),
        (lambda d: d["provenance"].update(git=None), "field '$.provenance.git': bad value None"),
        (lambda d: d["runs"][0].update(p50_ms="1"), "field '$.runs[0].p50_ms': bad value '1'"),
        (lambda d: d["runs"].append(d["runs"][0]), "field 'runs' lists profile 'public-figures'"),
        (lambda d: d["runs"][0].update(p50_ms=-5), "p50_ms': bad value -5; allowed: a number >= 0"),
        (
            lambda d: d["correctness"].insert(0, {**d["correctness"][0], "lifecycle_lost": 7}),
            "field 'correctness' lists profile 'public-figures', design 'baseline', fault",
        ),
    ],
    ids=[
        "provenance empty",
        "provenance text",
        "runs text",
        "git null",
        "p50 text",
        "twice",
        "negative p50",
        "a cell twice",
    ],
)
def test_a_results_json_of_bad_structure_is_one_line(
    small_bench: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    edit: Callable[[dict[str, Any]], object],
    needle: str,
) -> None:
    bad = _edited(small_bench, tmp_path / "bad", edit, rows=False)
    assert main(["compare", str(small_bench), str(bad)]) == 2
    err = one_line_error(capsys)
    assert f"after: '{bad / 'results.json'}'" in err and needle in err, err


@pytest.mark.parametrize(
    "text,needle",
    [
        ('{"generator": "runasync-harness", "p50_ms": 1e400}', "1e400 is out of range"),
        ("[" * 100_000 + "]" * 100_000, "is not JSON"),
    ],
    ids=["beyond a float", "nested too deeply"],
)
def test_a_results_json_that_is_no_json_number_or_too_deep_is_one_line(
    small_bench: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, needle: str
) -> None:
    bad = tmp_path / "results.json"
    bad.write_text(text)
    assert main(["compare", str(small_bench), str(bad)]) == 2
    assert needle in one_line_error(capsys)


def test_a_latency_gate_without_rows_is_refused_not_passed(
    small_bench: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def ten_times_slower(document: dict[str, Any]) -> None:
        for entry in document["runs"]:
            entry.update({q: entry[q] * 10 for q in ("p50_ms", "p95_ms", "p99_ms")})

    slower = _edited(small_bench, tmp_path / "slower", ten_times_slower, rows=False)
    assert main(["compare", str(small_bench), str(slower), "--fail-on", "latency"]) == 2
    assert f"'{slower / 'results.json'}' has no rows.parquet beside it" in one_line_error(capsys)
    assert main(["compare", str(small_bench), str(slower)]) == 0  # shown, with no verdict


def test_rows_that_are_not_a_parquet_file_with_the_needed_columns_are_one_line(
    small_bench: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _edited(small_bench, tmp_path / "folder", lambda d: None, rows=False)
    (folder / "rows.parquet").mkdir()
    assert main(["compare", str(small_bench), str(folder)]) == 2
    assert "rows.parquet' is not a file" in one_line_error(capsys)
    columns = _edited(small_bench, tmp_path / "columns", lambda d: None, rows=False)
    rows = pd.read_parquet(small_bench / "rows.parquet").drop(columns=["latency_ms"])
    rows.to_parquet(columns / "rows.parquet", index=False)
    assert main(["compare", str(small_bench), str(columns)]) == 2
    assert "rows.parquet' lacks the columns ['latency_ms']" in one_line_error(capsys)


def test_another_run_s_rows_beside_a_results_json_are_refused(
    small_bench: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The same calls, slower: rows of another run (another commit, the same seeds).
    other = _edited(small_bench, tmp_path / "other", lambda d: None, rows=False)
    rows = pd.read_parquet(small_bench / "rows.parquet")
    rows["latency_ms"] *= 1.2
    rows.to_parquet(other / "rows.parquet", index=False)
    assert main(["compare", str(small_bench), str(other), "--fail-on", "latency"]) == 2
    err = one_line_error(capsys)
    assert f"after: '{other / 'rows.parquet'}' is not the rows of" in err
    assert "p50_ms" in err and "in results.json" in err and "in the rows" in err
    # Rows of only some of its groups of calls are another run's too.
    fewer = _edited(small_bench, tmp_path / "fewer", lambda d: None, rows=False)
    rows = pd.read_parquet(small_bench / "rows.parquet")
    rows[rows["design"] == "baseline"].to_parquet(fewer / "rows.parquet", index=False)
    assert main(["compare", str(fewer), str(small_bench)]) == 2
    assert "of which the rows hold no call" in one_line_error(capsys)


def _unanswered(document: dict[str, Any]) -> None:
    entry = document["runs"][0]
    entry.update(dict.fromkeys(("p50_ms", "p95_ms", "p99_ms", "p999_ms", "max_ms", "mean_ms")))
    entry["n"] = 0


def test_a_group_no_call_answered_is_left_out_of_the_comparison(
    small_bench: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The schema allows null quantiles (no call of the group answered): nothing to compare.
    other = _edited(small_bench, tmp_path / "other", _unanswered, rows=False)
    assert main(["compare", str(small_bench), str(other), "--all"]) == 0
    assert "3 latency figures compared (1 groups of calls)" in capsys.readouterr().out


def _rename_profiles(document: dict[str, Any]) -> None:
    for entry in [*document["runs"], *document["correctness"]]:
        entry["profile"] += "-renamed"


@pytest.mark.parametrize(
    "edit,fail_on,needle",
    [
        (_rename_profiles, "", "nothing in common: "),
        (lambda d: d.update(runs=[]), "latency,correctness", "nothing in common for --fail-on "),
        (lambda d: d.update(correctness=[]), "correctness", "nothing in common for --fail-on "),
    ],
    ids=["no profile shared", "no runs", "no fault matrix"],
)
def test_runs_with_nothing_in_common_are_refused(
    small_bench: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    edit: Callable[[dict[str, Any]], object],
    fail_on: str,
    needle: str,
) -> None:
    other = _edited(small_bench, tmp_path / "other", edit, rows=False)
    assert main(["compare", str(small_bench), str(other), "--fail-on", fail_on]) == 2
    err = one_line_error(capsys)
    assert needle in err and f"'{other / 'results.json'}' has " in err, err


# --- calibrate --samples ---------------------------------------------------------------------

GOOD = b"operation,ms\nread,1\nread,2\ncommit,3\n"


def _calibrate(tmp_path: Path, name: str, content: bytes, *extra: str) -> int:
    samples = tmp_path / name
    samples.write_bytes(content)
    return main(["calibrate", "--samples", str(samples), "--out", str(tmp_path / "p.toml"), *extra])


@pytest.mark.parametrize(
    "name,content,needle",
    [
        ("s.csv", b"operation,ms\nread,\x80\n", "byte 0x80 at offset 18 is not UTF-8"),
        ("s.json", b'[{"operation": "read", "ms": 1}, \x80]', "byte 0x80 at offset 33 is not"),
        ("s.csv", b"operation,ms\nread,1\nread\n", "row 2 (line 3): ['read']: no ms"),
        ("s.csv", b"operation,ms\nread,1,7\n", "row 1 (line 2): extra values ['7']"),
        ("s.json", b'[{"operation": "read", "ms": 1, "at": 3}]', "row 1: fields ['at']"),
        ("s.json", b"[" * 100_000 + b"]" * 100_000, "not valid JSON: nested too deeply"),
        ("s.csv", b"operation,ms\nread," + b"1" * 200_000 + b"\n", "line 2: not CSV (field"),
    ],
    ids=[
        "csv not utf-8",
        "json not utf-8",
        "csv missing ms",
        "csv extra column",
        "json extra",
        "json too deep",
        "csv field too long",
    ],
)
def test_bad_samples_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, content: bytes, needle: str
) -> None:
    assert _calibrate(tmp_path, name, content) == 2
    err = one_line_error(capsys)
    assert f"{tmp_path / name}: " in err and needle in err, err
    assert not (tmp_path / "p.toml").exists()


def test_samples_with_a_byte_order_mark_are_read(tmp_path: Path) -> None:
    assert _calibrate(tmp_path, "s.csv", b"\xef\xbb\xbf" + GOOD) == 0
    assert load_profile(str(tmp_path / "p.toml")).sources["read"].startswith("MEASURED: 2 samples")


def test_a_profile_name_beyond_ascii_is_written_as_toml_that_loads(tmp_path: Path) -> None:
    name = 'x😀y "quoted" \\ é'
    assert _calibrate(tmp_path, "s.csv", GOOD, "--name", name) == 0
    assert load_profile(str(tmp_path / "p.toml")).name == name


@pytest.mark.parametrize("name", ["", "a\nb", "tab\there", "a\udcffb"])
def test_a_profile_name_with_control_characters_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    assert _calibrate(tmp_path, "s.csv", GOOD, "--name", name) == 2
    assert "--name: bad value" in one_line_error(capsys)
    assert not (tmp_path / "p.toml").exists()


def test_options_of_the_other_kind_of_calibration_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A fit to samples runs no simulation, and the fit to the seed takes no name: an option
    the chosen kind would ignore is refused, not dropped."""
    assert _calibrate(tmp_path, "s.csv", GOOD, "--duration", "nan") == 2
    err = one_line_error(capsys)
    assert "--duration: bad value 'nan'; allowed only without --samples" in err, err
    assert not (tmp_path / "p.toml").exists()
    out = str(tmp_path / "seed.toml")
    assert main(["calibrate", "--base", "seed-estimates", "--out", out, "--no-progress"]) == 2
    assert "--base: bad value 'seed-estimates'; allowed only with --samples" in one_line_error(
        capsys
    )


@pytest.mark.parametrize("text", ["x😀y", "del\x7fhere", "nul\x00 tab\t cr\r lf\n", 'q"\\'])
def test_toml_strings_read_back_as_written(text: str) -> None:
    from simulator.experiments.calibrate import toml_string

    assert tomllib.loads(f"value = {toml_string(text)}\n")["value"] == text
