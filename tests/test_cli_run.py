"""`run`'s overrides: --seed and --duration change the run as the file's fields would; --workers
changes where it runs, never what it answers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from engine.design import design_by_name
from simulator.cli import main, run_cmd
from simulator.experiments.jobs import RUN, SUMMARY_COLUMNS, Job, Role, run_job, run_jobs
from simulator.experiments.run import RunResult, scenario_profile
from simulator.model.scenario import load_scenario

BASE = ["run", "cold-start", "--designs", "baseline,fast-queue", "--replications", "2"]


def _rows(tmp_path: Path, name: str, *extra: str) -> pd.DataFrame:
    out = tmp_path / f"{name}.csv"
    assert main([*BASE, "--no-progress", "--out", str(out), *extra]) == 0
    return pd.read_csv(out)


def test_run_overrides_seed_and_duration_and_workers_do_not_change_results(tmp_path: Path) -> None:
    short = _rows(tmp_path, "short", "--duration", "5", "--workers", "1")
    longer = _rows(tmp_path, "longer", "--duration", "10", "--workers", "1")
    other_seed = _rows(tmp_path, "seed", "--duration", "5", "--seed", "99", "--workers", "1")
    on_two = _rows(tmp_path, "two", "--duration", "5", "--workers", "2")
    client_calls = longer["call"] == "run_async"
    assert client_calls.sum() > 1.5 * (short["call"] == "run_async").sum()
    assert not short["latency_ms"].equals(other_seed["latency_ms"])
    pd.testing.assert_frame_equal(short, on_two)


def test_a_duration_that_strands_a_planned_fault_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "deploy.toml"
    scenario.write_text(
        'name = "deploy"\nduration_s = 60\ndrain_s = 10\n[faults]\ndeploys_at_s = [65]\n'
    )
    assert main(["run", str(scenario), "--duration", "30", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert "faults.deploys_at_s" in err and "--duration 30" in err


@pytest.mark.parametrize("call", ["run_async", "alarm"])
def test_summary_only_prints_the_same_summary_from_less(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, call: str
) -> None:
    kept: list[pd.DataFrame] = []

    def recording(*args: Any, **kwargs: Any) -> Iterator[RunResult]:
        for result in run_jobs(*args, **kwargs):
            kept.append(result.rows)
            yield result

    monkeypatch.setattr(run_cmd, "run_jobs", recording)
    args = [*BASE, "--no-progress", "--duration", "5", "--workers", "1", "--call", call]
    assert main(args) == 0
    full = capsys.readouterr().out
    full_rows = sum(len(rows) for rows in kept)
    assert all((rows["call"] != call).any() for rows in kept)  # other calls' rows come back too
    kept.clear()
    assert main([*args, "--summary-only"]) == 0
    assert capsys.readouterr().out == full
    assert "baseline" in full and "fast-queue" in full
    # the runs sent back only the summarised call's latency and outcome: fewer rows, fewer columns
    assert len(kept) == 4 and all(tuple(rows.columns) == SUMMARY_COLUMNS for rows in kept)
    assert all((rows["call"] == call).all() for rows in kept)
    assert sum(len(rows) for rows in kept) < full_rows


def test_a_summary_only_job_sends_back_only_the_summary_s_columns() -> None:
    scenario = load_scenario("cold-start").with_changes(duration_s=5.0)
    job = Job(scenario_profile(scenario), scenario, Role(RUN), design_by_name("baseline"), 0)
    full = run_job(job)
    kept = run_job(replace(job, summary_of="run_async"))
    assert len(kept.rows) and tuple(kept.rows.columns) == SUMMARY_COLUMNS
    full_rows = full.rows
    assert kept.rows["latency_ms"].tolist() == (
        full_rows.loc[full_rows["call"] == "run_async", "latency_ms"].tolist()
    )
    assert kept.stats == {**full.stats, "wall_s": kept.stats["wall_s"]}


def test_calls_still_waiting_when_the_run_ends_are_unfinished_not_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "no-drain.toml"
    scenario.write_text('name = "no-drain"\nduration_s = 2\ndrain_s = 0\n')
    assert main(["run", str(scenario), "--no-progress", "--workers", "1"]) == 0
    header, row = capsys.readouterr().out.splitlines()[-2:]
    counts = dict(zip(header.split(), row.split(), strict=True))
    assert (counts["count"], counts["errors"], counts["unfinished"]) == ("2", "0", "1")
