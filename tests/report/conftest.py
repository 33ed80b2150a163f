"""A small but complete bench run, shared by the report's tests, and a tiny suite's size."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.cli import main
from simulator.experiments.suite import SuiteSpec

TINY = SuiteSpec(duration_s=8.0, drain_s=4.0, replications=2, tails_duration_s=8.0)


@pytest.fixture(scope="session")
def tiny_bench(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`bench --quick`, end to end (the design search and the robustness check included), run
    once per test process and read by every test of the report; the parallel suite sends the
    modules that read it to one worker (tests/conftest.py), so it runs once."""
    out = tmp_path_factory.mktemp("bench")
    assert main(["bench", "--quick", "--out", str(out), "--workers", "1", "--no-progress"]) == 0
    return out
