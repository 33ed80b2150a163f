"""A small but complete bench run, shared by the report's tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.experiments.jobs import run_jobs
from simulator.experiments.suite import SuiteResults, SuiteSpec, standard_jobs
from simulator.report.bench import write_bench

TINY = SuiteSpec(duration_s=8.0, drain_s=4.0, replications=2, tails_duration_s=8.0)


@pytest.fixture(scope="session")
def tiny_bench(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bench")
    suite = SuiteResults(TINY, list(run_jobs(standard_jobs(TINY))), complete=True)
    _, problems = write_bench(suite, out, "test")
    assert not problems
    return out
