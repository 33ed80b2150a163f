"""A failure of the harness stops the run with one line; an engine's own error stays a result."""

from __future__ import annotations

from typing import Any

import pytest

from engine.design import design_by_name
from engine.ops import Now
from simulator.cli import main
from simulator.experiments.run import scenario_profile, simulate
from simulator.model.scenario import load_scenario
from simulator.runtime.errors import HarnessError
from simulator.runtime.instant import InstantRuntime
from simulator.runtime.simulated.interpreter import Interpreter
from tests.conftest import queue_order, status_tag


def _broken_clock(self: Any, op: Now, ctx: Any) -> float:
    raise ZeroDivisionError("a sampler divided by zero")


@pytest.mark.parametrize("runtime", ["instant", "simulated"])
def test_a_failing_handler_stops_the_run_instead_of_becoming_an_engine_error(
    runtime: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = InstantRuntime if runtime == "instant" else Interpreter
    monkeypatch.setattr(owner, "now", _broken_clock)
    scenario = load_scenario("cold-start").with_changes(duration_s=2.0, drain_s=5.0)
    with pytest.raises(HarnessError, match="ZeroDivisionError while performing Now"):
        simulate(
            scenario, design_by_name("baseline"), scenario_profile(scenario), 0, runtime=runtime
        )


def test_the_command_line_reports_a_harness_failure_in_one_line_and_exit_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    monkeypatch.setattr(Interpreter, "now", _broken_clock)
    out = tmp_path / "rows.csv"
    status = main(
        [
            "run",
            "cold-start",
            "--designs",
            "baseline",
            "--replications",
            "1",
            "--out",
            str(out),
            "--no-progress",
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 1
    assert len(err) == 1 and err[0].startswith("error: the harness failed, not the engine")
    assert not out.exists()


def test_an_error_raised_by_engine_code_is_still_the_engine_s_result() -> None:
    """A step that raises is an engine outcome (the workflow fails), not a harness failure, even
    when the error leaves a nested program (a step with a timeout runs inside a `Timeout`)."""
    from engine.layers import EngineOptions
    from engine.workflow import Workflow

    def failing_step() -> Any:
        yield from ()
        raise ValueError("the charge was declined")

    def body(ctx: Any, input: Any) -> Any:
        return (yield from ctx.step("charge", failing_step, timeout_ms=5_000))

    rt = InstantRuntime(options=EngineOptions(workflows=(Workflow("processOrder", body),)), seed=7)
    queue_order(rt)
    rt.fire_next_alarm()
    assert status_tag(rt) == "Failed"
