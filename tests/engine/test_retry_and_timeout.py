from __future__ import annotations

from typing import Any

import pytest

from engine.durable_object import DurableWorkflowEngine
from engine.layers import EngineOptions
from engine.ops import DeleteAlarm, Program, Wait
from engine.workflow import Backoff, Retry, Workflow
from simulator.runtime.config import PlatformSwitches
from simulator.runtime.instant import InstantRuntime
from tests.conftest import oid, queue_order, settle, status_tag


class Flaky:
    """A step body that fails its first `failures` runs."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.runs = 0

    def __call__(self) -> Program[str]:
        self.runs += 1
        yield from ()
        if self.runs <= self.failures:
            raise RuntimeError(f"boom {self.runs}")
        return "ok"


def runtime_with(
    step_body: Any, retry: Retry | None = None, timeout_ms: float | None = None
) -> InstantRuntime:
    def body(ctx: Any, input: Any) -> Program[Any]:
        return (yield from ctx.step("charge", step_body, retry=retry, timeout_ms=timeout_ms))

    options = EngineOptions(workflows=(Workflow("processOrder", body),))
    return InstantRuntime(options=options, seed=7)


def test_a_failing_step_is_retried_by_alarm_with_exponential_backoff_and_jitter() -> None:
    flaky = Flaky(failures=2)
    rt = runtime_with(flaky, Retry(max_attempts=3))
    queue_order(rt)
    rt.fire_next_alarm()  # attempt 1 fails
    assert status_tag(rt) == "Paused"
    first_delay = rt.storage_of(oid()).alarm_ms - rt.now_ms
    assert 900 <= first_delay <= 1100  # 1000 ms ± 10 % jitter
    rt.fire_next_alarm()  # attempt 2 fails
    second_delay = rt.storage_of(oid()).alarm_ms - rt.now_ms
    assert 1800 <= second_delay <= 2200
    rt.fire_next_alarm()  # attempt 3 succeeds
    assert status_tag(rt) == "Completed"
    assert flaky.runs == 3
    types = [e["type"] for e in rt.log.emitted.values()]
    assert types.count("retry.scheduled") == 2
    assert types.count("step.completed") == 1


def test_retries_without_jitter_follow_the_backoff_exactly() -> None:
    rt = runtime_with(Flaky(failures=5), Retry(3, Backoff("constant", 500.0), jitter=False))
    queue_order(rt)
    rt.fire_next_alarm()
    assert rt.storage_of(oid()).alarm_ms - rt.now_ms == 500.0


def test_exhausted_retries_fail_the_workflow_after_max_attempts_plus_one_runs() -> None:
    flaky = Flaky(failures=10)
    rt = runtime_with(flaky, Retry(max_attempts=2, jitter=False))
    queue_order(rt)
    assert settle(rt) == "Failed"
    assert flaky.runs == 3
    assert "retry.exhausted" in [e["type"] for e in rt.log.emitted.values()]
    assert (
        "failed after 3 attempts" in rt.storage_of(oid()).data["workflow:status"].error["message"]
    )


def test_a_non_retryable_error_fails_at_once() -> None:
    flaky = Flaky(failures=10)
    rt = runtime_with(flaky, Retry(5, is_retryable=lambda e: "boom" not in str(e)))
    queue_order(rt)
    rt.fire_next_alarm()
    assert status_tag(rt) == "Failed"
    assert flaky.runs == 1
    failed = [e for e in rt.log.emitted.values() if e["type"] == "step.failed"]
    assert failed and failed[0]["willRetry"] is False


def test_max_duration_ends_retries_even_with_attempts_left() -> None:
    flaky = Flaky(failures=10)
    rt = runtime_with(
        flaky, Retry(10, Backoff("constant", 4000.0), jitter=False, max_duration_ms=5000)
    )
    queue_order(rt)
    assert settle(rt) == "Failed"
    assert flaky.runs == 2  # at 0 s and 4 s; at 8 s the max duration has passed


def slow(ms: float) -> Any:
    def execute() -> Program[str]:
        yield Wait(ms)
        return "late"

    return execute


def test_a_step_slower_than_its_timeout_fails() -> None:
    rt = runtime_with(slow(5000), timeout_ms=1000)
    queue_order(rt)
    rt.fire_next_alarm()
    status = rt.storage_of(oid()).data["workflow:status"]
    assert status.tag == "Failed"
    assert "exceeded its timeout of 1000" in status.error["message"]
    assert "timeout.set" in [e["type"] for e in rt.log.emitted.values()]


def test_a_step_within_its_timeout_completes() -> None:
    rt = runtime_with(slow(500), timeout_ms=1000)
    queue_order(rt)
    rt.fire_next_alarm()
    assert status_tag(rt) == "Completed"


def test_the_timeout_deadline_is_shared_by_retries() -> None:
    # Attempt 1 times out at 1 s; the retry comes 2 s later, after the shared deadline: it fails
    # at once with timeout.exceeded and is not retried again.
    rt = runtime_with(
        slow(5000), Retry(5, Backoff("constant", 2000.0), jitter=False), timeout_ms=1000
    )
    queue_order(rt)
    assert settle(rt) == "Failed"
    types = [e["type"] for e in rt.log.emitted.values()]
    assert types.count("retry.scheduled") == 1
    assert "timeout.exceeded" in types


@pytest.mark.parametrize(
    "kind,expected",
    [("constant", [100, 100, 100]), ("linear", [100, 150, 200]), ("exponential", [100, 200, 300])],
)
def test_backoff_strategies(kind: str, expected: list[float]) -> None:
    backoff = Backoff(kind, 100.0, increment_ms=50.0, max_ms=300.0)  # type: ignore[arg-type]
    assert [backoff.delay_ms(n) for n in (1, 2, 3)] == expected


@pytest.mark.parametrize("stops_retry", [False, True])
@pytest.mark.parametrize("deletes_alarm", [False, True])
def test_a_failed_alarm_is_retried_unless_prevention_holds_for_a_deleted_alarm(
    monkeypatch: pytest.MonkeyPatch, deletes_alarm: bool, stops_retry: bool
) -> None:
    # The same rule as the simulated platform (`simulator.runtime.rules`): deleting the alarm
    # prevents the retry only "on a best-effort basis" (the docs), a switch; off by default.
    def failing_alarm(self: DurableWorkflowEngine) -> Program[None]:
        if deletes_alarm:
            yield DeleteAlarm()
        raise RuntimeError("the handler failed")

    rt = InstantRuntime(switches=PlatformSwitches(rewritten_alarm_stops_retry=stops_retry))
    queue_order(rt)
    monkeypatch.setattr(DurableWorkflowEngine, "alarm", failing_alarm)
    rt.fire_next_alarm()
    retry = rt.next_alarm()
    if deletes_alarm and stops_retry:
        assert retry is None
    else:
        assert retry == (rt.now_ms + 2000, oid())
