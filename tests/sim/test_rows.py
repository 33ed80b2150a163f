"""A run's rows: one per call, as typed columns, in the order and with the types that a frame of
the same rows written out as dicts would have."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest

from engine.design import design_by_name
from simulator.experiments.run import rows_frame, rows_of, scenario_profile, simulate
from simulator.measure.rows import AnsweredCalls, run_async
from simulator.model.scenario import load_scenario
from simulator.runtime.phases import PHASES
from simulator.runtime.runlog import OP_KINDS, CallRecord, CallTable


def records() -> list[CallRecord]:
    first = CallRecord("run_async", "a" * 64, 10.0, start_ms=10.0, end_ms=30.5, mode="cold")
    first.outcome = "ok"
    first.spans["rpc"] += 2.5
    first.spans["background.event-flush"] += 4.0
    first.ops["get"] += 3
    alarm = CallRecord("alarm", "b" * 64, 40.0, source="alarm", start_ms=41.0)
    alarm.error = "reset"
    alarm.spans["background.layer-build"] += 1.0
    return [first, alarm]


def as_dicts(calls: list[CallRecord], keys: dict[str, Any], labels: dict[str, Any]) -> list[dict]:
    """The rows written out by hand, field by field: the frame's oracle."""
    rows = []
    for r in calls:
        row: dict[str, Any] = {**keys, "call": r.call, "source": r.source}
        row |= {"object": r.object_id[:12], "mode": r.mode, "planned_ms": r.planned_ms}
        row |= {"start_ms": r.start_ms, "end_ms": r.end_ms, "latency_ms": r.latency_ms}
        row |= {"outcome": r.outcome, "error": r.error, "events_emitted": r.events_emitted}
        row |= {f"phase_{p}": r.spans.get(p, 0.0) for p in PHASES}
        row |= {f"phase_{s}": v for s, v in r.spans.items() if s not in PHASES}
        row |= {f"ops_{k}": r.ops.get(k, 0) for k in OP_KINDS}
        rows.append(row | labels)
    return rows


KEYS = {"profile": "p", "design": "baseline", "replication": 2}


@pytest.mark.parametrize("order", [1, -1])
def test_the_rows_are_the_frame_of_the_calls_written_out_as_dicts(order: int) -> None:
    calls = records()[::order]
    expected = pd.DataFrame(as_dicts(calls, KEYS, {"role": "cold"}))
    frame = rows_of(CallTable.of(calls), KEYS, {"role": "cold"})
    pd.testing.assert_frame_equal(frame, expected)
    assert frame["ops_get"].dtype == "int64" and frame["end_ms"].dtype == "float64"


def test_a_span_a_call_did_not_have_is_missing_not_zero() -> None:
    frame = rows_of(CallTable.of(records()), KEYS, {})
    assert frame["phase_background.event-flush"].tolist()[0] == 4.0
    assert math.isnan(frame["phase_background.event-flush"][1])
    assert math.isnan(frame["latency_ms"][1]) and frame["phase_rpc"].tolist() == [2.5, 0.0]
    wrong = frame.fillna({"phase_background.event-flush": 0.0})
    with pytest.raises(AssertionError):  # the comparison above would catch a zero
        pd.testing.assert_frame_equal(wrong, pd.DataFrame(as_dicts(records(), KEYS, {})))


def test_rows_added_out_of_order_come_out_in_their_places() -> None:
    """An object's records join the table when it retires, in any order: each row goes to its
    place, and the span columns come in the order the calls in place would give them."""
    first, alarm = records()
    late = CallTable()
    late.add(1, alarm, "b" * 12)
    late.add(0, first, "a" * 12)
    in_order = rows_of(CallTable.of([first, alarm]), KEYS, {})
    pd.testing.assert_frame_equal(rows_of(late, KEYS, {}), in_order)
    assert list(in_order.columns) != list(rows_of(CallTable.of([alarm, first]), KEYS, {}).columns)
    assert rows_of(CallTable(), KEYS, {}).empty


def test_answered_calls_are_run_async_s_selection_for_every_pair() -> None:
    """Grouped once or selected each time, the same calls: in order, with their index, and an
    empty frame (with every column) for a pair that has none."""
    scenario = load_scenario("cold-start").with_changes(duration_s=6.0, drain_s=5.0)
    profile = scenario_profile(scenario)
    rows = rows_frame(
        [
            simulate(scenario, design_by_name(name), profile, 0)
            for name in ("baseline", "fast-queue")
        ]
    )
    rows.loc[rows.index[::7], "outcome"] = "error"  # some calls did not answer
    answered = AnsweredCalls(rows)
    pairs = [(d, m) for d in ("baseline", "fast-queue", "no-such") for m in ("cold", "warm")]
    for design, mode in pairs:
        pd.testing.assert_frame_equal(answered(design, mode), run_async(rows, design, mode))
    assert len(answered("baseline", "cold")) > 0 and answered("no-such", "cold").empty


def _subclasses(cls: type) -> list[type]:
    return [c for sub in cls.__subclasses__() for c in (sub, *_subclasses(sub))]


def test_a_call_record_counts_every_kind_of_operation_from_zero() -> None:
    """The interpreters count into a plain dict: a kind missing from it would fail the run."""
    from engine import ops

    kinds = {c.kind for c in _subclasses(ops.Op) if c.__module__ == ops.__name__}
    assert kinds == set(ops.KINDS)
    record = CallRecord("run_async", "a" * 64, 0.0)
    assert set(record.ops) == {*ops.KINDS, *OP_KINDS} and not any(record.ops.values())
    assert record.ops is not CallRecord("run_async", "b" * 64, 0.0).ops
