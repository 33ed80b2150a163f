from __future__ import annotations

import json
from collections import Counter

import pytest

from engine.design import PRESETS, design_by_name
from engine.ops import (
    Compute,
    Delete,
    DeleteAlarm,
    DeleteAll,
    Get,
    GetAlarm,
    GetMany,
    Http,
    List,
    Put,
    PutMany,
    SetAlarm,
)
from simulator.cli import main
from simulator.experiments.trace import TRACE_SCENARIOS, trace_scenario
from simulator.runtime import instant
from simulator.runtime.instant import InstantRuntime
from simulator.runtime.trace import TRACED_KINDS

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


#: What a trace must show: every storage, alarm, HTTP and CPU operation, written here by class
#: (not by the runtime's filter), so a trace that drops or adds a kind fails.
PLATFORM_OPS = (
    Get, GetMany, Put, PutMany, List, Delete, DeleteAll, SetAlarm, GetAlarm, DeleteAlarm, Http, Compute
)  # fmt: skip


def trace_mismatch(design: str, scenario: str) -> dict[str, int]:
    """Per kind where they differ: the operations the engine yielded (as the runtime counted
    them in its call records) minus the trace's entries. A kind a trace must not show counts
    only its entries, negatively."""
    rt = InstantRuntime(design_by_name(design))
    TRACE_SCENARIOS[scenario].setup(rt)
    rt.trace.clear()
    calls_before = len(rt.log.calls)
    TRACE_SCENARIOS[scenario].traced(rt)
    yielded: Counter[str] = Counter()
    for record in rt.log.calls[calls_before:]:
        yielded.update(record.ops)
    wanted = {op.kind for op in PLATFORM_OPS}
    shown = Counter(e.op for e in rt.trace)
    out = {}
    for kind in wanted | shown.keys():
        expected = yielded[kind] if kind in wanted else 0
        if shown[kind] != expected:
            out[kind] = expected - shown[kind]
    return out


@pytest.mark.parametrize("design", list(PRESETS))
@pytest.mark.parametrize("scenario", list(TRACE_SCENARIOS))
def test_the_trace_shows_every_platform_operation_and_nothing_else(
    design: str, scenario: str
) -> None:
    assert trace_scenario(scenario, design_by_name(design))
    assert trace_mismatch(design, scenario) == {}


def test_a_trace_that_drops_a_kind_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(instant, "TRACED_KINDS", TRACED_KINDS - {"compute"})
    assert trace_mismatch("baseline", "run-async-cold")["compute"] > 0


def test_a_trace_that_shows_time_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(instant, "TRACED_KINDS", TRACED_KINDS | {"now"})
    assert trace_mismatch("baseline", "run-async-cold")["now"] < 0


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


def test_the_floor_reads_once_to_stay_idempotent_and_writes_once() -> None:
    from simulator.experiments.floor import FloorEngine
    from tests.conftest import queue_order

    rt = InstantRuntime(engine_class=FloorEngine)
    queue_order(rt)
    ops = [e.op for e in rt.trace]
    assert ops == ["get", "put_many", "set_alarm"]
    queue_order(rt)  # a duplicate: the read finds it queued, nothing is written again
    assert [e.op for e in rt.trace][3:] == ["get"]
