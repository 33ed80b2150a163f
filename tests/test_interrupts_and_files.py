"""Interrupted commands keep what finished, say so and leave no process behind; outputs are
written whole or not at all."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from simulator.experiments.executors import executor
from simulator.whole_files import replacing_folder, write_text, writing

ROOT = Path(__file__).resolve().parents[1]


def test_a_file_is_replaced_only_when_it_is_complete(tmp_path: Path) -> None:
    target = write_text(tmp_path / "results.json", "old\n")
    with pytest.raises(KeyboardInterrupt), writing(target) as unfinished:
        unfinished.write_text("half of the ne")
        raise KeyboardInterrupt  # a Ctrl-C in the middle of the write
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json"]  # no leftovers
    with writing(target) as unfinished:
        unfinished.write_text("new\n")
    assert target.read_text() == "new\n"


def test_a_report_folder_is_never_a_mix_of_two_runs(tmp_path: Path) -> None:
    report = tmp_path / "bench"
    report.mkdir()
    (report / "old-figure.png").write_text("old")
    with pytest.raises(RuntimeError), replacing_folder(report) as new:
        (new / "README.md").write_text("new")
        raise RuntimeError("a section failed while writing")
    assert sorted(p.name for p in report.iterdir()) == ["old-figure.png"]
    with replacing_folder(report) as new:
        (new / "README.md").write_text("new")
    assert sorted(p.name for p in report.iterdir()) == ["README.md"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bench"]


def _sleep(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def test_an_interrupt_drops_the_queued_jobs_and_leaves_no_worker() -> None:
    with pytest.raises(KeyboardInterrupt), executor(workers=2) as pool:
        assert isinstance(pool, ProcessPoolExecutor)
        futures = [pool.submit(_sleep, 0.3) for _ in range(12)]
        while not any(f.running() for f in futures):
            time.sleep(0.01)
        workers = list(pool._processes.values())
        raise KeyboardInterrupt
    assert sum(f.cancelled() for f in futures) >= 6  # never started
    assert workers and not any(process.is_alive() for process in workers)


def _heavy(payload: bytes) -> bytes:
    time.sleep(0.02)
    return bytes(len(payload) * 2)  # a result bigger than a pipe's buffer


def interrupt_rounds(rounds: int) -> None:
    """Interrupt a pool sending big results, `rounds` times: stopping its workers by force hung
    one exit in about seven here (a worker killed while it sends a result)."""
    for round_ in range(rounds):
        with contextlib.suppress(KeyboardInterrupt), executor(workers=2) as pool:
            assert pool is not None
            futures = [pool.submit(_heavy, bytes(100_000)) for _ in range(200)]
            for done, future in enumerate(futures):
                future.result()
                if done == round_ % 9 + 1:
                    raise KeyboardInterrupt


def test_interrupting_a_pool_never_hangs_the_exit() -> None:
    code = "from tests.test_interrupts_and_files import interrupt_rounds; interrupt_rounds(15)"
    process = subprocess.Popen(
        [sys.executable, "-c", code], cwd=ROOT, start_new_session=True, stderr=subprocess.PIPE
    )
    try:
        _, err = process.communicate(timeout=90)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 0, err.decode()[-2000:]


@pytest.mark.parametrize(
    ("sig", "to_group"),
    [(signal.SIGTERM, False), (signal.SIGINT, True)],
    ids=["sigterm-to-the-command", "ctrl-c-to-every-process"],
)
def test_a_signal_stops_bench_keeping_a_partial_report(
    tmp_path: Path, sig: signal.Signals, to_group: bool
) -> None:
    out = tmp_path / "bench"
    command = [sys.executable, "-m", "simulator", "bench", "--quick", "--workers", "2"]
    command += ["--no-progress"]
    process = subprocess.Popen(
        [*command, "--out", str(out)],
        cwd=ROOT,
        start_new_session=True,  # its own process group: we can check nothing of it survives
        preexec_fn=_as_in_a_terminal,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for_workers(process)  # past its start: the search is running
        time.sleep(1.0)
        if to_group:
            os.killpg(process.pid, sig)  # a terminal's Ctrl-C reaches the workers too
        else:
            process.send_signal(sig)
        _, err = process.communicate(timeout=60)
        time.sleep(0.5)
        survivors = _alive(process.pid)
    finally:
        with contextlib.suppress(ProcessLookupError):  # whatever the outcome, leave nothing
            os.killpg(process.pid, signal.SIGKILL)
    assert not survivors, "a process of the command outlived it"
    assert process.returncode == 130, err
    assert err.strip().splitlines()[-1] == "interrupted"
    assert "Traceback" not in err
    assert "INCOMPLETE" in err
    head = (out / "README.md").read_text().splitlines()[2]
    assert head in (
        "**This run did not finish: the tables hold what completed.**",
        "**This run stopped before any simulation finished.**",
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bench"]  # no temporary folder left


def _as_in_a_terminal() -> None:
    """Ctrl-C at its default, as for a command started from a terminal: a shell starts
    background jobs with it ignored, and Python then never turns it into KeyboardInterrupt."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


#: `python -m simulator bench`, sent SIGTERM as it starts importing the CLI.
SIGTERM_WHILE_STARTING = """
import builtins, os, runpy, signal, sys
real_import = builtins.__import__
def importing(name, *args, **kwargs):
    if name == "simulator.cli":
        os.kill(os.getpid(), signal.SIGTERM)
    return real_import(name, *args, **kwargs)
builtins.__import__ = importing
sys.argv = ["simulator", "bench", "--quick"]
runpy.run_module("simulator", run_name="__main__")
"""


def test_a_signal_while_the_command_starts_is_an_interrupt_too() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SIGTERM_WHILE_STARTING],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stderr) == (130, "interrupted\n")


def _group_size(group: int) -> int:
    """How many processes are in the process group `group` (Linux: from /proc)."""
    size = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            # the fields after the command's name (which may hold spaces) start with state, ppid, pgrp
            if int(stat.read_text().rpartition(")")[2].split()[2]) == group:
                size += 1
    return size


def _wait_for_workers(process: subprocess.Popen[str], timeout_s: float = 120.0) -> None:
    """Until the command, leader of its process group, started its worker processes (a fixed
    wait was too short on a busy machine, where importing takes seconds)."""
    deadline = time.monotonic() + timeout_s
    while _group_size(process.pid) < 2:
        assert process.poll() is None, "the command ended before it started a worker"
        assert time.monotonic() < deadline, "the command started no worker"
        time.sleep(0.1)


def _alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def test_an_interrupted_run_writes_what_finished_beside_its_out_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from simulator.cli import main, run_cmd

    real = run_cmd.run_jobs

    def interrupted_after_one(jobs: Any, pool: Any) -> Iterator[Any]:
        yield next(iter(real(jobs[:1], pool)))
        raise KeyboardInterrupt

    monkeypatch.setattr(run_cmd, "run_jobs", interrupted_after_one)
    out = write_text(tmp_path / "rows.csv", "an earlier, complete run\n")
    command = ["run", "cold-start", "--duration", "2", "--workers", "1", "--no-progress"]
    assert main([*command, "--out", str(out)]) == 130
    assert out.read_text() == "an earlier, complete run\n"
    partial = tmp_path / "rows.partial.csv"
    assert len(pd.read_csv(partial)["replication"].unique()) == 1
    assert f"runs that finished written to {partial}" in capsys.readouterr().err


def test_an_interrupted_run_prints_the_summary_of_what_finished(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A long run (`run million --summary-only`, 20 minutes here) stopped part-way still
    answers, from the runs that finished, and says it is partial."""
    from simulator.cli import main, run_cmd

    real = run_cmd.run_jobs

    def interrupted_after_one(jobs: Any, pool: Any) -> Iterator[Any]:
        yield next(iter(real(jobs[:1], pool)))
        raise KeyboardInterrupt

    monkeypatch.setattr(run_cmd, "run_jobs", interrupted_after_one)
    command = ["run", "cold-start", "--duration", "2", "--workers", "1", "--no-progress"]
    assert main([*command, "--designs", "baseline,fast-queue", "--summary-only"]) == 130
    out = capsys.readouterr().out
    assert out.startswith("# partial: the 1 of 6 runs that finished\n# scenario cold-start")
    assert "· 1 replication(s)" in out
    assert "baseline" in out and "fast-queue" not in out  # the one run that finished
