"""Canonical call sequences, run on the instant runtime and traced (`python -m simulator trace`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from engine.client import WorkflowClient
from engine.design import Design
from simulator.runtime.instant import InstantRuntime
from simulator.runtime.trace import TraceEntry

ORDER = {"orderId": "order-1", "amount": 42}
EXECUTION_ID = "order-1"
WORKFLOW = "processOrder"


@dataclass(frozen=True)
class TraceScenario:
    name: str
    description: str
    setup: Callable[[InstantRuntime], None]
    traced: Callable[[InstantRuntime], None]


def _run_async(rt: InstantRuntime) -> None:
    rt.run_client(WorkflowClient().run_async(WORKFLOW, ORDER, EXECUTION_ID))


def _status(rt: InstantRuntime) -> None:
    rt.run_client(WorkflowClient().status(f"{WORKFLOW}:{EXECUTION_ID}"))


def _nothing(rt: InstantRuntime) -> None:
    pass


def _fire(rt: InstantRuntime) -> None:
    rt.fire_next_alarm()


def _queue_and_start(rt: InstantRuntime) -> None:
    _run_async(rt)
    rt.fire_next_alarm()


TRACE_SCENARIOS: dict[str, TraceScenario] = {
    s.name: s
    for s in (
        TraceScenario(
            "run-async-cold",
            "a fresh object: the constructor, then run_async",
            _nothing,
            _run_async,
        ),
        TraceScenario(
            "run-async-again",
            "a second run_async with the same id, on the warm object",
            _run_async,
            _run_async,
        ),
        TraceScenario(
            "alarm-start",
            "the alarm that starts the queued workflow, until it sleeps",
            _run_async,
            _fire,
        ),
        TraceScenario(
            "alarm-resume", "the alarm after the sleep, to completion", _queue_and_start, _fire
        ),
        TraceScenario(
            "status", "get_status on the warm object of a queued workflow", _run_async, _status
        ),
    )
}


class UnknownScenario(ValueError):
    pass


def trace_scenario(name: str, design: Design) -> list[TraceEntry]:
    try:
        scenario = TRACE_SCENARIOS[name]
    except KeyError:
        raise UnknownScenario(
            f"unknown trace scenario {name!r}; valid scenarios: {', '.join(TRACE_SCENARIOS)}"
        ) from None
    rt = InstantRuntime(design)
    scenario.setup(rt)
    rt.trace.clear()
    scenario.traced(rt)
    return list(rt.trace)


def format_trace(entries: list[TraceEntry]) -> str:
    lines: list[str] = []
    current: str | None = None
    for number, entry in enumerate(entries, 1):
        if entry.call != current:
            current = entry.call
            lines.append(current)
        what = entry.detail or ""
        if entry.keys:
            what = ", ".join(entry.keys) + (f"  ({entry.detail})" if entry.detail else "")
        lines.append(f"  {number:3d}  {entry.op:<12} {what}".rstrip())
    return "\n".join(lines)
