"""The same jobs give the same results wherever they run: here, on a process pool, on Dask."""

from __future__ import annotations

import pytest

from engine.design import design_by_name
from simulator.errors import InputError
from simulator.experiments.executors import executor
from simulator.experiments.jobs import run_jobs
from simulator.experiments.suite import fault_jobs, mode_jobs
from simulator.model.profile import load_profile


def _jobs() -> list:
    designs = [design_by_name("baseline"), design_by_name("alarm-flush")]
    jobs = mode_jobs(load_profile("public-figures"), designs, 5.0, 5.0, 1)
    return jobs + fault_jobs(designs, 5.0)[:4]


def _signature(results: list) -> list:
    return [
        (
            r.design,
            r.stats["role"],
            r.rows.to_csv(index=False),
            {k: v for k, v in r.stats.items() if k != "wall_s"},
        )
        for r in results
    ]


def test_results_are_identical_here_on_a_process_pool_and_on_a_dask_local_cluster() -> None:
    jobs = _jobs()
    here = _signature(list(run_jobs(jobs)))
    with executor(workers=2) as pool:
        pooled = _signature(list(run_jobs(jobs, pool)))
    with executor(workers=2, scheduler="local", processes=False) as dask:
        on_dask = _signature(list(run_jobs(jobs, dask)))
    assert pooled == here
    assert on_dask == here


def test_a_bad_scheduler_is_one_clear_error() -> None:
    with (
        pytest.raises(InputError, match="--scheduler: bad value 'dask://x'"),
        executor(scheduler="dask://x"),
    ):
        pass
