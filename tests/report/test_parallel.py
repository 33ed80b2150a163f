"""The report's parts run on several processes and answer as if they had run here, in order."""

from __future__ import annotations

import hashlib
import os
import signal
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pytest

from simulator.experiments.jobs import run_jobs
from simulator.experiments.suite import SuiteResults, standard_jobs
from simulator.report import plots
from simulator.report.bench import write_bench
from simulator.report.parallel import run_parts
from tests.report.conftest import TINY


def _pid_after(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def test_parts_run_elsewhere_and_answer_in_the_order_given() -> None:
    slow_first = [lambda s=s: (s, _pid_after(s)) for s in (0.3, 0.0, 0.0, 0.0)]
    answers = run_parts(slow_first, processes=2)
    assert [s for s, _ in answers] == [0.3, 0.0, 0.0, 0.0]
    pids = {pid for _, pid in answers}
    assert os.getpid() not in pids and len(pids) == 2
    assert {pid for _, pid in run_parts(slow_first, processes=1)} == {os.getpid()}


def test_a_part_that_raises_stops_the_whole() -> None:
    def broken() -> None:
        raise ValueError("no")

    with pytest.raises(ValueError, match="no"):
        run_parts([lambda: 1, broken], processes=2)


def _files(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def _skip_drawing(fig: Any, path: Path) -> Path:
    """A figure's file without drawing it (drawing is most of a report's time; what is drawn
    is decided before)."""
    plt.close(fig)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(path.name)
    return path


def test_the_report_is_the_same_byte_for_byte_on_two_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(plots, "_save", _skip_drawing)
    spec = replace(TINY, faults_duration_s=10.0, profiles=("public-figures",))
    suite = SuiteResults(spec, list(run_jobs(standard_jobs(spec))), complete=True)
    here, there = tmp_path / "here", tmp_path / "there"
    assert write_bench(suite, here, "test", processes=1)[1] == []
    assert write_bench(suite, there, "test", processes=2)[1] == []
    files = _files(here)
    assert any(name.endswith(".png") for name in files) and "results.json" in files
    assert _files(there) == files


def _sleep_long() -> None:
    time.sleep(30)


def test_sigterm_stops_the_parts_quietly(capfd: pytest.CaptureFixture[str]) -> None:
    """The command turns SIGTERM into an interrupt (as here); the parent stops the pool at once,
    and its processes die without a traceback (they inherited that handler from the fork)."""
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGTERM)).start()
    started = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            run_parts([_sleep_long, _sleep_long], processes=2)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert time.monotonic() - started < 10
    assert "Traceback" not in capfd.readouterr().err
