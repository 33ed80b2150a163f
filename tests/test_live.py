"""The live runtime on workerd: recording scripts, replaying a small plan, fitting samples."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from engine.design import design_by_name
from simulator.errors import InputError
from simulator.experiments.fit_samples import (
    fit,
    fitted_profile,
    ks_distance,
    read_samples,
    write_fitted_profile,
)
from simulator.experiments.run import scenario_profile, simulate
from simulator.model.distributions import Constant, Empirical, LogNormal
from simulator.model.profile import REQUIRED_OPS, load_profile
from simulator.model.scenario import load_scenario
from simulator.runtime.interface import ClientCall
from simulator.runtime.live.record import RecordingRuntime
from simulator.runtime.live.workerd import unavailable_reason, workerd


def _recorded(design: str) -> tuple[RecordingRuntime, list]:
    rt = RecordingRuntime(design_by_name(design))
    call = ClientCall(0.0, "run_async", "order-1")
    record = call.record()
    rt.run_client(call.program(), record)
    return rt, rt.script_of(record)


def test_a_call_is_recorded_with_its_structure_and_the_constructor_apart() -> None:
    rt, script = _recorded("baseline")
    init = rt.inits[ClientCall(0.0, "run_async", "order-1").object_id]
    assert init[0] == ["span", "layer-build", [["compute", 0.0]]]  # composing the layer
    block = init[1]  # the recovery check under blockConcurrencyWhile: one read
    assert block[0] == "block" and block[1][-1] == [
        "span",
        "recovery-check",
        [["get", "workflow:status"]],
    ]
    kinds = [step[0] for step in script]
    assert kinds[:2] == ["span", "span"]  # providing the layer, then the queue
    flush = script[-1]
    assert flush[:2] == ["span", "event-flush"] and flush[2][0][0] == "http"


def test_background_work_is_recorded_inside_its_fork() -> None:
    _, script = _recorded("background-flush-fixed")
    fork = next(step for step in script if step[0] == "fork")
    assert fork[1][0][:2] == ["span", "event-flush"]


@pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))
def test_a_small_plan_replays_on_workerd_through_the_same_run_log() -> None:
    scenario = load_scenario("cold-start").with_changes(duration_s=1.5, drain_s=1.0)
    result = simulate(
        scenario, design_by_name("baseline"), scenario_profile(scenario), 0, runtime="live"
    )
    calls = [r for r in result.rows.to_dict("records") if r["call"] == "run_async"]
    assert calls and all(r["outcome"] == "ok" and r["latency_ms"] > 0 for r in calls)
    assert result.stats["events_delivered"] >= len(calls)  # each workflow.queued at least


@pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))
def test_workerd_leaves_no_storage_folder_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Miniflare writes its storage under our scratch folder, and the folder goes with the server."""
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    with workerd("http://127.0.0.1:9/"):
        assert list(tmp_path.glob("runasync-workerd-*/miniflare-*"))
    assert not list(tmp_path.iterdir())


def test_samples_are_fitted_and_quality_measured(tmp_path: Path) -> None:
    assert isinstance(fit("read", [2.0] * 10).dist, Constant)
    lognormal = LogNormal(2.0, 15.0)
    draws = [lognormal.quantile((i + 0.5) / 400) for i in range(400)]
    fitted = fit("read", draws)
    assert isinstance(fitted.dist, LogNormal) and fitted.ks < 0.05
    bimodal = [1.0] * 50 + [100.0] * 50
    assert isinstance(fit("read", bimodal).dist, Empirical)
    assert ks_distance(__import__("numpy").asarray(bimodal), LogNormal(10.0, 100.0)) > 0.1
    path = tmp_path / "s.csv"
    path.write_text("operation,ms\nread,1.5\nread,2.5\ncommit,10\n")
    profile, _ = fitted_profile(read_samples(path), "measured")
    assert set(profile.ops) == set(REQUIRED_OPS)
    assert (
        profile.sources["read"].startswith("MEASURED")
        and "from public-figures" in profile.sources["rpc"]
    )
    path.write_text("operation,ms\nread,1.5\nalarm_commit,1.2\nalarm_commit,1.4\n")
    with_alarm, fits = fitted_profile(read_samples(path), "measured")
    assert set(with_alarm.ops) == {*REQUIRED_OPS, "alarm_commit"}
    written = write_fitted_profile(with_alarm, fits, path, tmp_path / "measured.toml")
    assert load_profile(str(written)).ops["alarm_commit"] == with_alarm.ops["alarm_commit"]


@pytest.mark.parametrize(
    "text,needle",
    [
        ("op,ms\nread,1\n", "the header must be `operation,ms`"),
        ("operation,ms\ndisk,1\n", "row 1: operation 'disk'"),
        ("operation,ms\nread,-1\n", "row 1: ms -1.0; allowed: a finite number >= 0"),
        ("operation,ms\nread,fast\n", "row 1: ms 'fast'"),
        ("operation,ms\n", "no samples"),
    ],
)
def test_bad_samples_are_one_line(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "s.csv"
    path.write_text(text)
    with pytest.raises(InputError, match=needle.replace("(", r"\(")) as info:
        read_samples(path)
    assert "\n" not in str(info.value)


def test_every_probe_runs_on_the_simulated_platform() -> None:
    from simulator.experiments.conformance import PROBES, observe, simulated
    from simulator.model.profile import load_profile

    seen = {p.name: observe(p, simulated(p, load_profile("public-figures"))) for p in PROBES}
    assert seen["block-holds-calls"] == {"second call waited for the block": True}
    assert seen["alarm-retried"] == {"retried": True, "retry after (whole s)": 2}
    assert seen["deleted-alarm-retried"]["retried"] is True  # the pessimistic default


@pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))
def test_a_probe_sees_the_same_on_workerd() -> None:
    from simulator.experiments.conformance import PROBES, live, observe

    probe = next(p for p in PROBES if p.name == "block-holds-calls")
    assert observe(probe, live(probe)) == {"second call waited for the block": True}


TRACKER_SCRIPT = """
import json, urllib.request
from simulator.runtime.live.tracker import tracker_server
from simulator.runtime.runlog import RunLog
log = RunLog()
with tracker_server(log, 1, lambda at: 0.0) as url:
    body = json.dumps({"events": [{"eventId": "e1"}, {"eventId": "e2"}]}).encode()
    urllib.request.urlopen(urllib.request.Request(url, body, method="POST"), timeout=10).read()
print(log.tracker_attempts, sorted(log.accepted))
"""


def test_the_tracker_serves_from_a_script_without_a_main_guard(tmp_path: Path) -> None:
    script = tmp_path / "mine.py"  # a user's script: no `if __name__ == "__main__"`
    script.write_text(TRACKER_SCRIPT)
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "1 ['e1', 'e2']"
