"""One test per platform rule, with constant latencies so every time is exact.

Defaults (tests/sim/conftest.py): read 10 ms, commit 20 ms, tracker 30 ms, everything else 0.
"""

from __future__ import annotations

import contextlib
import itertools
import signal
from typing import Any

import pytest

from engine.client import WorkflowClient
from engine.durable_object import DurableWorkflowEngine
from engine.layers import EngineOptions
from engine.ops import (
    BlockConcurrencyWhile,
    Compute,
    DeleteAlarm,
    Fork,
    Get,
    Now,
    OperationTimedOut,
    Program,
    Put,
    SetAlarm,
    Span,
    Timeout,
    Wait,
)
from engine.status import Queued
from engine.tracker import TrackerConfig, batch_post
from engine.workflow import two_steps_with_sleep
from simulator.runtime.config import Faults, PlatformSwitches
from simulator.runtime.runlog import CallRecord
from tests.sim.conftest import LATENCIES, Sim, constant_profile

IO_STEPS = EngineOptions(workflows=(two_steps_with_sleep(sleep_ms=1000.0, io_ms=200.0),))


def puts(n: int) -> Program[None]:
    for i in range(n):
        yield Put(f"k{i}", i)


def test_three_puts_without_an_await_commit_once(sim: Sim) -> None:
    sim.call("get_status")  # make the object resident
    sim.run(100)
    record = sim.run_program(puts(3), at=100)
    sim.run(200)
    assert record.ops["commit"] == 1
    assert sim.host().storage.committed.data == {"k0": 0, "k1": 1, "k2": 2}


def test_without_coalescing_every_put_commits_on_its_own() -> None:
    sim = Sim(switches=PlatformSwitches(coalescing=False))
    sim.call("get_status")
    sim.run(100)
    record = sim.run_program(puts(3), at=100)
    sim.run(200)
    assert record.ops["commit"] == 3


def test_an_await_between_puts_splits_the_batch(sim: Sim) -> None:
    def program() -> Program[None]:
        yield Put("a", 1)
        yield Get("never-read")  # a cache miss: the object awaits
        yield Put("b", 2)

    sim.call("get_status")
    sim.run(100)
    record = sim.run_program(program(), at=100)
    sim.run(300)
    assert record.ops["commit"] == 2


def test_the_commits_of_an_object_run_one_after_another() -> None:
    sim = Sim(switches=PlatformSwitches(coalescing=False))
    sim.call("get_status")
    sim.run(100)
    sim.run_program(puts(3), at=100)  # three batches closed at 100, 20 ms of commit each
    durable = []
    for at in (119, 121, 141, 161):
        sim.run(at)
        durable.append(sorted(sim.host().storage.committed.data))
    assert durable == [[], ["k0"], ["k0", "k1"], ["k0", "k1", "k2"]]


def _late(ms: float, answer: str) -> Program[str]:
    yield Wait(ms)
    return answer


def test_a_span_answers_what_its_child_returned_after_catching_an_error(sim: Sim) -> None:
    def child() -> Program[str]:
        try:
            return (yield Timeout(5.0, _late(50.0, "in time")))
        except OperationTimedOut:
            return "gave up"

    answers: list[Any] = []

    def program() -> Program[None]:
        answers.append((yield Span("waiting", child())))
        answers.append((yield Now()))

    record = sim.run_program(program(), at=100)
    sim.run(1000)
    assert answers == ["gave up", 105.0]
    assert record.spans["waiting"] == 5.0


def test_an_error_leaves_its_span_for_the_program_that_opened_it(sim: Sim) -> None:
    def failing() -> Program[None]:
        yield Wait(7.0)
        raise ValueError("engine error")

    caught: list[str] = []

    def program() -> Program[None]:
        try:
            yield Span("outer", _spanned("inner", failing()))
        except ValueError as error:
            caught.append(str(error))

    record = sim.run_program(program(), at=100)
    sim.run(1000)
    assert caught == ["engine error"]
    assert (record.spans["inner"], record.spans["outer"]) == (7.0, 7.0)


def _spanned(name: str, child: Program[Any]) -> Program[Any]:
    return (yield Span(name, child))


def test_an_abandoned_program_is_closed_from_the_innermost_span_out(sim: Sim) -> None:
    closed: list[str] = []

    def closing(name: str, child: Program[Any]) -> Program[Any]:
        try:
            return (yield from child)
        finally:
            closed.append(name)

    def program() -> Program[None]:
        nested = closing("outer", _spanned("inner", closing("inner", _late(50.0, "late"))))
        with contextlib.suppress(OperationTimedOut):
            yield Timeout(5.0, _spanned("outer", nested))

    record = sim.run_program(program(), at=100)
    sim.run(1000)
    assert closed == ["inner", "outer"]
    assert (record.spans["inner"], record.spans["outer"]) == (5.0, 5.0)


def test_the_response_waits_for_the_commit() -> None:
    # fast-queue run_async: one read (10 ms), then the batched write must commit (20 ms).
    gated = Sim("fast-queue")
    record = gated.call("run_async")
    gated.run(1000)
    assert record.latency_ms == 30.0
    assert record.spans["output-gate"] == 20.0

    ungated = Sim("fast-queue", switches=PlatformSwitches(output_gate=False))
    record = ungated.call("run_async")
    ungated.run(1000)
    assert record.latency_ms == 10.0


def test_an_outgoing_fetch_waits_for_earlier_writes() -> None:
    # Baseline run_async: read 10, writes, then the flush's POST waits 20 for their commit, then
    # 30. (The start alarm fires later, so that its reads do not hold the POST's answer.)
    sim = Sim("baseline", constant_profile(alarm_delay=1000.0))
    record = sim.call("run_async")
    sim.run(1000)
    assert record.spans["event-flush"] == 20.0 + 30.0


def test_a_request_lands_at_the_tracker_after_its_sender_gave_up_on_it(sim: Sim) -> None:
    post = batch_post(TrackerConfig(), [{"eventId": "e1", "type": "test"}])  # lands at 130

    def program() -> Program[None]:
        with contextlib.suppress(OperationTimedOut):
            yield Timeout(5.0, _one(post))  # the sending program is abandoned at 105

    sim.call("get_status")  # make the object resident
    sim.run(100)
    sim.run_program(program(), at=100)
    sim.run(129)
    assert sim.log.accepted == {} and sim.host().requests_in_flight == 1
    sim.run(1000)
    assert sim.log.accepted == {"e1": 130.0} and sim.host().requests_in_flight == 0


def _fetch_beside_a_read(switches: PlatformSwitches | None = None) -> CallRecord:
    """A fetch answered at 30 ms while another call's read, started at 25 ms, is pending."""
    sim = Sim(switches=switches)
    sim.call("get_status")  # make the object resident (one read: 0-10 ms)
    sim.run(100)
    post = batch_post(TrackerConfig(), [{"eventId": "e1", "type": "test"}])
    fetch = sim.run_program(_one(post), at=100)  # answered at 130
    sim.run_program(_one(Get("never-read")), at=125)  # pending 125-135
    sim.run(1000)
    return fetch


def _one(op: Any) -> Program[Any]:
    return (yield op)


def test_the_input_gate_holds_a_fetch_answer_while_a_read_is_pending() -> None:
    # DOC (the "Easy, Fast, Correct" post): while a storage operation executes, no events are
    # delivered to the object except storage completions; a fetch's completion is an event.
    assert _fetch_beside_a_read().end_ms == 135.0
    ungated = PlatformSwitches(input_gate_holds_completions=False)
    assert _fetch_beside_a_read(ungated).end_ms == 130.0


def test_a_read_of_a_cached_key_is_free_and_a_new_instance_starts_cold() -> None:
    sim = Sim()

    def two_reads() -> Program[None]:
        yield Get("x")
        yield Get("x")

    sim.call("get_status")
    sim.run(100)
    record = sim.run_program(two_reads(), at=100)
    sim.run(200)
    assert record.ops["read_miss"] == 1
    assert record.end_ms - record.start_ms == 10.0

    sim.platform.evict(sim.host())
    sim.call("get_status", at=300)
    sim.run(400)
    again = sim.run_program(two_reads(), at=400)
    sim.run(500)
    assert again.ops["read_miss"] == 1


def test_without_the_cache_every_read_pays() -> None:
    sim = Sim(switches=PlatformSwitches(cache=False))
    sim.call("get_status")
    sim.run(100)
    record = sim.run_program((op for op in (Get("x"), Get("x"))), at=100)
    sim.run(200)
    assert record.ops["read_miss"] == 2


def test_a_call_arriving_during_block_concurrency_while_starts_after_it(sim: Sim) -> None:
    def blocking() -> Program[Any]:
        return (yield BlockConcurrencyWhile(waits(100.0)))

    sim.call("get_status")
    sim.run(50)
    sim.run_program(blocking(), at=50)  # holds the gate from 50 to 150
    status = sim.call("get_status", at=60)
    sim.run(1000)
    assert status.spans["input-gate"] == 90.0
    assert status.start_ms == 60.0


def waits(ms: float) -> Program[None]:
    yield Wait(ms)


def test_calls_arriving_during_a_cold_start_wait_for_the_constructor() -> None:
    sim = Sim("baseline", constant_profile(cold_start=100.0))
    first = sim.call("get_status", at=0)
    second = sim.call("get_status", at=50)
    sim.run(1000)
    # The first pays the start (100) and the constructor's recovery read of the status (10). The
    # second waits for both (until 110), then for the first call's read of completedSteps, which
    # holds the input gate (until 120); its own reads are then cache hits.
    assert first.mode == "cold" and first.spans["cold-start"] == 100.0
    assert first.end_ms == 120.0
    assert second.mode == "cold" and second.spans["input-gate"] == 70.0
    assert second.end_ms == 120.0


def two_computes(switches: PlatformSwitches | None = None) -> list[float]:
    """Two programs that each use the CPU for 100 ms, started together: when they end."""
    sim = Sim(profile=constant_profile(compute__work=100.0), switches=switches)

    def cpu() -> Program[None]:
        yield Compute("work")

    sim.call("get_status")
    sim.run(10)
    a = sim.run_program(cpu(), at=10)
    b = sim.run_program(cpu(), at=10)
    sim.run(1000)
    return sorted([a.end_ms, b.end_ms])


def test_compute_on_one_object_runs_one_at_a_time() -> None:
    assert two_computes() == [110.0, 210.0]


def test_io_waits_overlap(sim: Sim) -> None:
    sim.call("get_status")
    sim.run(10)
    a = sim.run_program(waits(100.0), at=10)
    b = sim.run_program(waits(100.0), at=10)
    sim.run(1000)
    assert a.end_ms == b.end_ms == 110.0


def test_an_alarm_fires_at_its_time_plus_the_firing_delay() -> None:
    sim = Sim("fast-queue", constant_profile(alarm_delay=7.0))
    sim.call("run_async")
    sim.run(500)
    alarms = [r for r in sim.log.calls if r.call == "alarm"]
    # run_async reads 0..10 and sets the alarm for 11, but the alarm is stored like a write: it is
    # durable when the batch commits at 30, and fires then plus the firing delay.
    assert alarms[0].planned_ms == 11.0
    assert alarms[0].start_ms == 30.0 + 7.0


def _stranded_alarm(sim: Sim) -> None:
    """An object whose stored workflow names an unknown workflow: every alarm handler throws."""
    host = sim.host()
    host.storage.committed.data.update({"workflow:status": Queued(0.0), "workflow:name": "ghost"})
    host.storage.committed.alarm_ms = 1000.0
    sim.platform.alarms.committed(host)


def test_a_failing_alarm_is_retried_after_2_4_8_16_32_64_seconds_then_dropped(sim: Sim) -> None:
    _stranded_alarm(sim)
    sim.run(200_000)
    alarms = [r for r in sim.log.calls if r.call == "alarm"]
    assert alarms[0].start_ms == 1000.0
    assert all(r.outcome == "error" for r in alarms)
    waits = [b.start_ms - a.end_ms for a, b in itertools.pairwise(alarms)]
    assert waits == [2000.0, 4000.0, 8000.0, 16000.0, 32000.0, 64000.0]
    assert sum(e.change == "dropped" for e in sim.log.alarms) == 1


def test_without_alarm_retries_a_failed_alarm_is_dropped_at_once() -> None:
    sim = Sim(switches=PlatformSwitches(alarm_retries=False))
    _stranded_alarm(sim)
    sim.run(200_000)
    assert len([r for r in sim.log.calls if r.call == "alarm"]) == 1


def test_an_idle_object_hibernates_and_its_next_call_is_cold() -> None:
    # The engine's object keeps no timers, fetches or sockets between calls: it can hibernate,
    # after 10 s of inactivity on the platform (DOC), 1 s here.
    sim = Sim(profile=constant_profile(hibernation=1000.0, idle_eviction=100_000.0))
    first = sim.call("get_status", at=0)
    warm = sim.call("get_status", at=500)
    late = sim.call("get_status", at=5000)
    sim.run(10_000)
    assert (first.mode, warm.mode, late.mode) == ("cold", "warm", "cold")


def test_without_hibernation_an_idle_object_is_evicted_after_the_idle_eviction_time() -> None:
    profile = constant_profile(hibernation=1000.0, idle_eviction=8000.0)
    sim = Sim(profile=profile, switches=PlatformSwitches(hibernation=False))
    sim.call("get_status", at=0)
    warm = sim.call("get_status", at=5000)
    late = sim.call("get_status", at=20_000)
    sim.run(30_000)
    assert (warm.mode, late.mode) == ("warm", "cold")


def test_an_object_with_background_work_pending_does_not_hibernate() -> None:
    # The fixed background flush retries through a 5 s outage (1 s, then 2 s, then 4 s): while
    # it waits on its timer, the object cannot hibernate; 1 s after it ends, it does.
    profile = constant_profile(hibernation=1000.0, idle_eviction=100_000.0)
    sim = Sim(
        "background-flush-fixed",
        profile,
        faults=Faults(tracker_outages_ms=((0.0, 5000.0),)),
    )
    sim.call("run_async", at=0)
    during = sim.call("get_status", at=4000)
    after = sim.call("get_status", at=15_000)
    sim.run(20_000)
    assert (during.mode, after.mode) == ("warm", "cold")


def test_an_evicted_object_s_cache_leaves_memory_with_it() -> None:
    sim = Sim(profile=constant_profile(hibernation=1000.0))
    sim.call("run_async", at=0)
    sim.run(500)
    assert sim.host().state == "resident" and sim.host().storage.cached_keys
    sim.run(60_000)
    host = sim.host()
    assert host.state == "absent" and not host.storage.cached_keys
    assert host.storage.view.data == host.storage.committed.data


def test_without_eviction_the_object_stays_resident() -> None:
    sim = Sim(
        profile=constant_profile(idle_eviction=1000.0), switches=PlatformSwitches(eviction=False)
    )
    sim.call("get_status", at=0)
    late = sim.call("get_status", at=5000)
    sim.run(10_000)
    assert late.mode == "warm"


def test_the_stub_check_is_paid_on_first_use_of_an_id_only() -> None:
    sim = Sim(profile=constant_profile(stub_check=80.0))
    first = sim.call("get_status", at=0)
    second = sim.call("get_status", at=500)
    other = sim.call("get_status", "order-2", at=500)
    sim.run(2000)
    assert (first.spans["stub"], second.spans["stub"], other.spans["stub"]) == (80.0, 0.0, 80.0)


def _flush_in_background_with_retry_pending(reset_at: float | None) -> Sim:
    # The tracker is down for the first 200 ms: the first POST fails at 10+20+30 = 60 ms and the
    # background flush waits 1 s to retry. A reset at 500 ms kills it.
    sim = Sim("background-flush-fixed", faults=Faults(tracker_outages_ms=((0.0, 200.0),)))
    sim.call("run_async")
    if reset_at is not None:

        def reset() -> Any:
            yield sim.env.timeout(reset_at)
            sim.platform.reset(sim.host(), "crash")

        sim.env.process(reset())
    sim.run(600)
    return sim


def test_background_work_dies_with_a_reset() -> None:
    survived = _flush_in_background_with_retry_pending(reset_at=None)
    survived.run(5000)
    assert survived.log.tracker_attempts >= 2
    assert "workflow.queued" in survived.accepted_types()

    killed = _flush_in_background_with_retry_pending(reset_at=500.0)
    killed.run(5000)
    queued = [e for e in killed.accepted() if e["type"] == "workflow.queued"]
    assert queued == []


def test_a_reset_loses_uncommitted_writes() -> None:
    sim = Sim("fast-queue", constant_profile(commit=100.0))
    record = sim.call("run_async")

    def reset() -> Any:
        yield sim.env.timeout(50)  # mid-commit
        sim.platform.reset(sim.host(), "crash")

    sim.env.process(reset())
    sim.run(1000)
    assert record.outcome == "reset"
    assert sim.host().storage.committed.data == {}
    assert sim.host().storage.committed.alarm_ms is None  # the alarm was in the lost batch


def test_a_reset_keeps_committed_data_and_the_committed_alarm() -> None:
    sim = Sim("fast-queue", constant_profile(alarm_delay=500.0))
    sim.call("run_async")  # committed at 30 ms, alarm due at 11 ms fires at 530 ms
    sim.run(100)
    host = sim.host()
    committed = dict(host.storage.committed.data)
    assert committed["workflow:status"].tag == "Queued"
    sim.platform.reset(host, "crash")
    assert host.storage.committed.data == committed
    sim.run(2000)
    alarms = [r for r in sim.log.calls if r.call == "alarm"]
    assert len(alarms) >= 1 and alarms[0].mode == "cold" and alarms[0].outcome == "ok"
    # The handler, on the new instance, found the queued workflow and ran it to its sleep.
    assert host.storage.committed.data["workflow:status"].tag == "Paused"


def test_a_failed_commit_resets_the_object() -> None:
    sim = Sim("fast-queue", faults=Faults(commit_failure_rate=1.0))
    sim.call("run_async")
    sim.run(1000)
    assert sim.log.resets and sim.log.resets[0][2] == "commit failed"
    assert sim.host().storage.committed.data == {}


def test_a_restart_resets_every_object_and_keeps_committed_alarms() -> None:
    sim = Sim("fast-queue", constant_profile(alarm_delay=500.0))
    sim.call("run_async", "order-1")
    sim.call("run_async", "order-2")
    sim.run(100)
    assert all(h.state == "resident" for h in sim.platform.hosts.values())
    sim.platform.restart()
    assert all(h.state == "absent" for h in sim.platform.hosts.values())
    sim.run(2000)
    alarms = [r for r in sim.log.calls if r.call == "alarm"]
    assert len(alarms) == 2 and all(r.mode == "cold" for r in alarms)


class _Works(DurableWorkflowEngine):
    """`get_meta("wait:400")` waits 400 ms; `get_meta("read:400")` then reads a key."""

    def get_meta(self, key: str) -> Program[Any]:
        what, ms = key.split(":")
        yield Wait(float(ms))
        if what == "read":
            yield Get("workflow:status")


def _deploy_during(key: str, grace_ms: float = 30_000.0) -> tuple[Sim, CallRecord]:
    """A call doing `key` (see `_Works`) from 100 ms, a deploy at 150 ms, a call at 200 ms."""
    sim = Sim(switches=PlatformSwitches(deploy_grace_ms=grace_ms), engine_class=_Works)
    first = sim.call("get_status")  # make the object resident
    sim.run(100)
    running = CallRecord("get_meta", first.object_id, 100.0)
    sim.platform.client_call(WorkflowClient().meta("processOrder:order-1", key), running)
    sim.run(150)
    sim.platform.deploy()
    sim.call("get_status", at=200)
    return sim, running


def test_a_deploy_lets_a_call_in_flight_finish_and_holds_new_calls_for_the_new_instance() -> None:
    # DOC (lifecycle, "Shutdown behavior"): in-flight requests may finish for up to 30 s.
    sim, running = _deploy_during("wait:400")
    sim.run(2000)
    assert running.outcome == "ok" and running.end_ms == 500.0  # finished on the old instance
    after = [r for r in sim.log.calls if r.call == "get_status"][-1]
    assert after.mode == "cold" and after.start_ms == 200.0
    assert after.spans["input-gate"] == 300.0  # held until the old instance was gone
    assert [reason for _, _, reason in sim.log.resets] == ["deploy"]


def test_a_call_that_touches_storage_during_the_grace_period_is_stopped() -> None:
    # DOC: "if a request attempts to access a Durable Object's storage during this grace
    # period, it will be stopped immediately".
    sim, running = _deploy_during("read:400")
    sim.run(2000)
    assert running.outcome == "reset" and running.end_ms == 500.0  # stopped at its read


def test_a_call_still_running_when_the_grace_period_ends_is_cut_off() -> None:
    sim, running = _deploy_during("wait:10000", grace_ms=1000.0)
    sim.run(20_000)
    assert running.outcome == "reset" and running.end_ms == 1150.0
    after = [r for r in sim.log.calls if r.call == "get_status"][-1]
    assert after.outcome == "ok" and after.start_ms + after.spans["input-gate"] == 1150.0


def test_without_cold_start_costs_an_absent_object_starts_at_once() -> None:
    costly = constant_profile(cold_start=100.0)
    on, off = Sim(profile=costly), Sim(profile=costly, switches=PlatformSwitches(cold_start=False))
    a, b = on.call("get_status"), off.call("get_status")
    on.run(1000)
    off.run(1000)
    assert a.spans["cold-start"] == 100.0 and b.spans["cold-start"] == 0.0
    assert a.latency_ms - b.latency_ms == 100.0


def test_without_the_single_thread_computes_overlap() -> None:
    assert two_computes(PlatformSwitches(single_thread=False)) == [110.0, 110.0]


def test_without_the_input_gate_a_call_is_not_held_by_block_concurrency_while() -> None:
    sim = Sim(switches=PlatformSwitches(input_gate=False))

    def blocking() -> Program[Any]:
        return (yield BlockConcurrencyWhile(waits(100.0)))

    sim.call("get_status")
    sim.run(50)
    sim.run_program(blocking(), at=50)
    status = sim.call("get_status", at=60)
    sim.run(1000)
    assert status.spans["input-gate"] == 0.0


def test_background_work_can_be_made_to_keep_the_object_alive() -> None:
    def long_background() -> Program[None]:
        yield Fork(waits(5000.0))

    for keeps_alive, expected in ((False, "absent"), (True, "resident")):
        sim = Sim(
            profile=constant_profile(idle_eviction=1000.0),
            switches=PlatformSwitches(background_keeps_alive=keeps_alive),
        )
        sim.call("get_status")
        sim.run(10)
        sim.run_program(long_background(), at=10)
        sim.run(3000)
        assert sim.host().state == expected, keeps_alive


def test_module_level_layers_are_composed_once_per_isolate() -> None:
    profile = constant_profile(**{"compute__layer-compose": 50.0})
    sim = Sim("isolate-layers", profile, switches=PlatformSwitches(isolates=1))
    first = sim.call("get_status", "order-1")
    second = sim.call("get_status", "order-2", at=500)
    sim.run(2000)
    assert first.spans["constructor.layer-build"] == 50.0
    assert second.spans["constructor.layer-build"] == 0.0
    sim.platform.deploy()  # a new isolate: composed again
    third = sim.call("get_status", "order-3", at=2500)
    sim.run(4000)
    assert third.spans["constructor.layer-build"] == 50.0


def _handler_that_deletes_its_alarm_then_fails(stops_retry: bool) -> list[CallRecord]:
    class Failing(DurableWorkflowEngine):
        def alarm(self) -> Program[None]:
            yield DeleteAlarm()
            raise RuntimeError("the handler failed")

    switches = PlatformSwitches(rewritten_alarm_stops_retry=stops_retry)
    sim = Sim("fast-queue", switches=switches, engine_class=Failing)
    sim.call("run_async")
    sim.run(200_000)
    return [r for r in sim.log.calls if r.call == "alarm"]


def test_a_handler_that_deleted_its_alarm_is_retried_unless_prevention_is_assumed() -> None:
    # DOC: deleteAlarm() in the handler "may prevent retries on a best-effort basis, but is not
    # guaranteed". The pessimistic side (the default) retries: 2 s, 4 s, ... after each failure.
    retried = _handler_that_deletes_its_alarm_then_fails(stops_retry=False)
    assert len(retried) == 7 and retried[1].start_ms - (retried[0].end_ms or 0) == 2000.0
    assert len(_handler_that_deletes_its_alarm_then_fails(stops_retry=True)) == 1


def test_a_new_alarm_replaces_a_pending_retry_and_fires_on_time(sim: Sim) -> None:
    _stranded_alarm(sim)  # its handler fails at ~1.1 s; the retry would come 2 s later
    host = sim.host()

    def set_alarm_meanwhile() -> Any:
        yield sim.env.timeout(1500)
        host.storage.committed.alarm_ms = 1600.0
        sim.platform.alarms.committed(host)

    sim.env.process(set_alarm_meanwhile())
    sim.run(10_000)
    starts = [r.start_ms for r in sim.log.calls if r.call == "alarm"]
    assert starts[:2] == [1000.0, 1600.0]
    assert all(s < 3000.0 for s in starts[1:2])


class _SlowAlarm(DurableWorkflowEngine):
    """An alarm handler that runs for 300 ms and writes nothing (no alarm of its own)."""

    def alarm(self) -> Program[None]:
        yield Wait(300.0)


def test_an_alarm_deleted_while_another_handler_runs_does_not_fire() -> None:
    sim = Sim(engine_class=_SlowAlarm)
    sim.run_program(_one(SetAlarm(10.0)))  # durable at 20 ms: its handler runs 20-330 ms
    sim.run_program(_one(SetAlarm(70.0)), at=60)  # durable at 80 ms, due while the handler runs
    sim.run_program(_one(DeleteAlarm()), at=100)  # durable at 120 ms, still while it runs
    sim.run(5000)
    changes = [(e.at_ms, e.change) for e in sim.log.alarms]
    assert changes == [
        (20.0, "set"),
        (20.0, "fired"),
        (80.0, "set"),
        (120.0, "deleted"),
        (330.0, "finished"),
    ]
    assert [r.start_ms for r in sim.log.calls if r.call == "alarm"] == [20.0]


def test_writes_at_the_end_of_background_work_are_committed() -> None:
    def background_put() -> Program[None]:
        yield Fork(puts(1))

    sim = Sim()
    sim.call("get_status")
    sim.run(100)
    sim.run_program(background_put(), at=100)
    sim.run(1000)
    assert sim.host().storage.committed.data == {"k0": 0}


def test_a_constructor_that_throws_in_block_concurrency_while_resets_the_object_once() -> None:
    sim = Sim()
    host = sim.host()
    host.storage.committed.data["workflow:status"] = "not a status"  # the recovery check throws
    record = sim.call("get_status")
    sim.run(1000)
    assert record.outcome == "error"
    assert [r[2] for r in sim.log.resets] == ["blockConcurrencyWhile threw"]


def test_a_request_the_client_gave_up_on_is_still_accepted_and_a_resend_is_a_duplicate() -> None:
    sim = Sim(
        "baseline", constant_profile(tracker_http=2000.0), faults=Faults(tracker_timeout_ms=1500.0)
    )
    record = sim.call("run_async")
    sim.run(20_000)
    assert record.ops["http"] == 4  # every attempt of run_async's flush times out
    assert "workflow.queued" in sim.accepted_types()  # but the server took the first
    assert sim.log.duplicates >= 3  # and dropped the three resends
    assert record.latency_ms > 1500 * 4 + 1000 + 2000 + 4000


def test_a_client_may_let_the_execution_id_be_chosen_at_random() -> None:
    sim = Sim()
    records = [CallRecord("run_async", "?", 0.0) for _ in range(2)]
    calls = [
        sim.platform.client_call(WorkflowClient().run_async("processOrder", {"x": 1}), record)
        for record in records
    ]
    sim.run(1000)
    assert all(record.outcome == "ok" for record in records)
    first, second = (call.value for call in calls)
    assert first is not None and second is not None
    assert first["id"].startswith("processOrder:") and first["id"] != second["id"]
    # Each went to an object of its own, which durably queued a workflow of its own.
    queued = {c.object_id for c in sim.log.commits if c.key == "workflow:status"}
    assert len(queued) == 2


class _WritesThenFails(DurableWorkflowEngine):
    """`get_meta` writes a key and then throws (`key="first"`), or throws before writing."""

    def get_meta(self, key: str) -> Program[Any]:
        if key == "first":
            raise RuntimeError("thrown before any write")
        yield Put("meta:touched", True)
        raise RuntimeError("thrown after a write")


def _error_answered_at(key: str, switches: PlatformSwitches | None = None) -> float:
    sim = Sim("lazy-recovery", switches=switches, engine_class=_WritesThenFails)
    record = sim.call("get_status")  # starts the object, so the next call finds it warm
    sim.run(1000)
    failing = CallRecord("get_meta", record.object_id, 1000.0)
    sim.platform.client_call(WorkflowClient().meta("processOrder:order-1", key), failing)
    sim.run(2000)
    assert failing.outcome == "error" and failing.end_ms is not None
    return failing.end_ms


def test_an_error_response_waits_for_the_output_gate() -> None:
    # The write made before the throw commits in 20 ms: the error answer waits for it.
    gated = _error_answered_at("after") - _error_answered_at("first")
    assert gated == pytest.approx(LATENCIES["commit"])
    # Without the output gate the error leaves at once: the test sees the difference.
    ungated = PlatformSwitches(output_gate=False)
    assert _error_answered_at("after", ungated) == _error_answered_at("first", ungated)


def test_an_object_with_a_call_in_flight_is_not_evicted() -> None:
    sim = Sim(options=IO_STEPS)
    sim.call("run_async")

    def evict_mid_alarm() -> Any:
        yield sim.env.timeout(100)  # the alarm handler awaits its step's I/O
        sim.platform.evict(sim.host())

    sim.env.process(evict_mid_alarm())
    sim.run(150)
    assert sim.host().state == "resident"


@pytest.mark.parametrize("design", ["baseline", "alarm-flush"])
def test_an_idle_time_shorter_than_a_call_s_work_still_lets_time_advance(design: str) -> None:
    # An object idle for 2 ms is not idle while its call's work or an alarm handler runs: the
    # idle watcher waits instead of asking again, forever, at the same instant.
    def hung(signum: int, frame: Any) -> None:
        raise TimeoutError("the simulation stopped advancing")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(20)
    try:
        sim = Sim(design, profile=constant_profile(hibernation=2.0, idle_eviction=2.0))
        record = sim.call("run_async", at=0)
        sim.run(60_000)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert record.outcome == "ok"
    assert [r for r in sim.log.alarms if r.change == "finished"]
