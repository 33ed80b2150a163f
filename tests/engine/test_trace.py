from __future__ import annotations

import json

import pytest

from engine.design import PRESETS, design_by_name
from simulator.cli import main
from simulator.experiments.trace import TRACE_SCENARIOS, trace_scenario

INIT_KEYS = (
    "workflow:status",
    "workflow:name",
    "workflow:input",
    "workflow:executionId",
    "workflow:completedSteps",
    "workflow:completedPauseIndex",
    "workflow:recoveryAttempts",
    "workflow:cancelled",
)


def test_baseline_run_async_cold_is_pinned() -> None:
    ops = [
        (e.call, e.op, e.keys, e.detail)
        for e in trace_scenario("run-async-cold", design_by_name("baseline"))
    ]
    assert ops == [
        ("constructor", "compute", (), "layer-compose"),
        ("constructor", "compute", (), "layer-provide"),
        ("constructor", "get", ("workflow:status",), None),
        ("run_async", "compute", (), "layer-provide"),
        ("run_async", "get", ("workflow:status",), None),
        ("run_async", "put_many", INIT_KEYS, None),
        ("run_async", "get", ("workflow:status",), None),
        ("run_async", "put", ("workflow:status",), None),
        ("run_async", "set_alarm", (), "at 1 ms"),
        ("run_async", "http", (), "POST https://tracker.invalid/events"),
    ]


def test_get_state_reads_nine_keys_one_by_one_in_the_baseline_and_once_when_batched() -> None:
    def reads(design: str) -> list[str]:
        entries = trace_scenario("alarm-start", design_by_name(design))
        return [e.op for e in entries if e.op in ("get", "list", "get_many")][:12]

    assert reads("baseline")[:11] == ["get"] * 11  # purge flag, status, status + nine keys
    assert reads("batch-reads")[:3] == ["get", "get", "list"]
    assert reads("multi-get-reads")[:3] == ["get", "get", "get_many"]


def test_fast_queue_is_one_read_one_batched_write_one_alarm() -> None:
    entries = trace_scenario("run-async-cold", design_by_name("fast-queue"))
    assert [(e.call, e.op) for e in entries if e.call == "run_async"] == [
        ("run_async", "get"),
        ("run_async", "put_many"),
        ("run_async", "set_alarm"),
    ]


def test_lazy_recovery_constructor_touches_no_storage() -> None:
    entries = trace_scenario("run-async-cold", design_by_name("lazy-recovery"))
    assert [e.op for e in entries if e.call == "constructor"] == ["compute"]


@pytest.mark.parametrize("design", list(PRESETS))
@pytest.mark.parametrize("scenario", list(TRACE_SCENARIOS))
def test_every_scenario_traces_for_every_design(design: str, scenario: str) -> None:
    entries = trace_scenario(scenario, design_by_name(design))
    assert entries
    assert all(
        e.op
        in {
            "get",
            "get_many",
            "put",
            "put_many",
            "list",
            "delete",
            "delete_all",
            "set_alarm",
            "get_alarm",
            "delete_alarm",
            "http",
            "compute",
        }
        for e in entries
    )


def test_trace_cli_prints_json_grouped_by_call(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["trace", "--design", "baseline", "--scenario", "run-async-cold", "--json"]) == 0
    ops = json.loads(capsys.readouterr().out)
    assert [o["call"] for o in ops[:3]] == ["constructor"] * 3
    assert ops[2] == {"call": "constructor", "op": "get", "keys": ["workflow:status"]}


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--design", "nope"], "unknown design 'nope'; valid designs: baseline"),
        (["--scenario", "nope"], "unknown trace scenario 'nope'; valid scenarios: run-async-cold"),
    ],
)
def test_trace_cli_bad_names_are_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], args: list[str], needle: str
) -> None:
    assert main(["trace", *args]) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1
