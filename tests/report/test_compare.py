"""`compare` finds a slowdown and a new loss between two bench runs, and nothing between a run
and itself."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from simulator.cli import main

SLOWDOWN = 1.2


def _copy(tiny_bench: Path, to: Path) -> tuple[Path, dict[str, Any]]:
    shutil.copytree(tiny_bench, to)
    return to, json.loads((to / "results.json").read_text())


def _save(folder: Path, document: dict[str, Any]) -> None:
    (folder / "results.json").write_text(json.dumps(document))


def _slow_down_baseline(folder: Path, document: dict[str, Any]) -> None:
    rows = pd.read_parquet(folder / "rows.parquet")
    rows.loc[rows["design"] == "baseline", "latency_ms"] *= SLOWDOWN
    rows.to_parquet(folder / "rows.parquet", index=False)
    for entry in document["runs"]:
        if entry["design"] == "baseline":
            for quantile in ("p50_ms", "p95_ms", "p99_ms"):
                entry[quantile] *= SLOWDOWN
    _save(folder, document)


def test_a_run_compared_with_itself_changes_nothing(
    tiny_bench: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["compare", str(tiny_bench), str(tiny_bench), "--fail-on", "latency,correctness"]) == 0
    )
    out = capsys.readouterr().out
    assert " 0 slower, 0 faster," in out
    assert "No latency figure changed significantly." in out
    assert "No correctness count changed." in out
    assert "Input files: identical." in out


def test_a_slower_baseline_is_a_latency_regression(
    tiny_bench: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    after, document = _copy(tiny_bench, tmp_path / "after")
    _slow_down_baseline(after, document)
    report = tmp_path / "comparison.md"
    code = main(
        ["compare", str(tiny_bench), str(after), "--fail-on", "latency", "--out", str(report)]
    )
    captured = capsys.readouterr()
    assert code == 1
    assert report.read_text() == captured.out
    slower = [line for line in captured.out.splitlines() if line.endswith("| slower |")]
    assert slower and all("| baseline |" in line for line in slower)
    assert "+20.0%" in captured.out
    assert captured.err.count("regression: baseline") == len(slower)
    # The other way round it is faster, and faster is not a regression.
    assert main(["compare", str(after), str(tiny_bench), "--fail-on", "latency"]) == 0
    assert "| faster |" in capsys.readouterr().out


def test_a_change_below_min_change_gets_no_verdict(
    tiny_bench: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    after, document = _copy(tiny_bench, tmp_path / "after")
    _slow_down_baseline(after, document)
    assert (
        main(["compare", str(tiny_bench), str(after), "--fail-on", "latency", "--min-change", "25"])
        == 0
    )
    assert "| slower |" not in capsys.readouterr().out


def test_a_new_loss_is_a_correctness_regression(
    tiny_bench: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    after, document = _copy(tiny_bench, tmp_path / "after")
    entry = document["correctness"][0]
    entry["lifecycle_lost"] += 3
    _save(after, document)
    assert main(["compare", str(tiny_bench), str(after)]) == 0  # reported, not failed
    assert "**lifecycle_lost**" in capsys.readouterr().out
    assert main(["compare", str(tiny_bench), str(after), "--fail-on", "correctness"]) == 1
    err = capsys.readouterr().err
    assert f"{entry['design']} under {entry['fault']}" in err and "lifecycle_lost" in err


def test_an_older_results_format_is_one_line_and_exit_2(
    tiny_bench: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, document = _copy(tiny_bench, tmp_path / "old")
    document["schema_version"] = 1
    _save(old, document)
    assert main(["compare", str(old), str(tiny_bench)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'schema_version'" in err and "allowed: 2" in err, err
