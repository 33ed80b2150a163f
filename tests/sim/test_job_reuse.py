"""The bench does not run twice what the design search already ran: a fault-matrix job whose
simulation a verification run already did gets that run's result, relabelled."""

from __future__ import annotations

import pandas as pd
import pytest

from engine.design import design_by_name
from simulator.experiments import jobs as jobs_module
from simulator.experiments.jobs import FAULT, VERIFY, Job, RunResult, run_job, run_jobs
from simulator.experiments.suite import fault_jobs

DURATION_S = 3.0


@pytest.fixture
def verified() -> list[tuple[Job, RunResult]]:
    done = fault_jobs([design_by_name("baseline")], DURATION_S, kind=VERIFY)[:2]
    return [(job, run_job(job)) for job in done]


def test_a_run_already_done_under_another_role_is_reused_relabelled(
    verified: list[tuple[Job, RunResult]], monkeypatch: pytest.MonkeyPatch
) -> None:
    wanted = fault_jobs([design_by_name("baseline")], DURATION_S)[:3]
    ran: list[Job] = []

    def counting(job: Job) -> RunResult:
        ran.append(job)
        return run_job(job)

    monkeypatch.setattr(jobs_module, "run_job", counting)
    results = list(run_jobs(wanted, done=verified))
    assert ran == wanted[2:]  # the third fault was not verified
    for job, result in zip(wanted, results, strict=True):
        fresh = run_job(job)
        assert result.stats["role"] == str(job.role) and str(job.role).startswith(FAULT)
        assert set(result.rows["role"]) == {str(job.role)}
        pd.testing.assert_frame_equal(result.rows, fresh.rows)
        assert {**result.stats, "wall_s": 0} == {**fresh.stats, "wall_s": 0}


def test_the_same_names_with_other_settings_are_run_again(
    verified: list[tuple[Job, RunResult]], monkeypatch: pytest.MonkeyPatch
) -> None:
    longer = fault_jobs([design_by_name("baseline")], DURATION_S * 2)[:2]
    ran: list[Job] = []
    monkeypatch.setattr(jobs_module, "run_job", lambda job: ran.append(job) or run_job(job))
    list(run_jobs(longer, done=verified))
    assert ran == longer
