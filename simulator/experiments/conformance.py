"""Rule conformance: small probes run on workerd and on the simulated platform, compared.

Each probe exercises one rule the simulated platform models, with calls a few hundred
milliseconds apart, and reads what both sides let us observe: when each call answered, and
whether (and when) background work and alarm handlers ran. Local workerd's storage answers in
microseconds, so rules that only cost storage time (the output gate, coalescing, the cache) are
seen in the micro-benchmarks instead (`microbench`: a batch's commit, a read).
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import simpy

from engine.client import WorkflowClient
from engine.design import BASELINE
from engine.durable_object import DurableWorkflowEngine
from engine.layers import EngineOptions
from engine.ops import BlockConcurrencyWhile, DeleteAlarm, Fork, Now, Program, Put, SetAlarm, Wait
from engine.workflow import two_steps_with_sleep
from simulator.model.profile import Profile
from simulator.runtime.config import Faults, PlatformSwitches
from simulator.runtime.interface import RunSetup
from simulator.runtime.live.tracker import tracker_server
from simulator.runtime.live.workerd import workerd
from simulator.runtime.naming import object_id_for
from simulator.runtime.runlog import CallRecord, RunLog
from simulator.runtime.simulated.platform import Platform

Script = list[list[Any]]


@dataclass(frozen=True)
class Call:
    at_ms: float
    program: Callable[[], Program[Any]]  # for the simulated platform
    script: Script  # the same operations, for workerd


@dataclass(frozen=True)
class Probe:
    name: str
    rule: str
    calls: tuple[Call, ...]
    alarms: tuple[tuple[Callable[[], Program[Any]], Script], ...] = ()
    settle_ms: float = 1000.0


def _waits(ms: float) -> Program[None]:
    yield Wait(ms)


def _blocks(ms: float) -> Program[None]:
    yield BlockConcurrencyWhile(_waits(ms))


def _nothing() -> Program[None]:
    yield from ()


def _stamp(label: str) -> Program[None]:
    yield Put(f"stamp:{label}", True)


def _background(ms: float) -> Program[None]:
    def later() -> Program[None]:
        yield Wait(ms)
        yield from _stamp("background")

    yield Fork(later())


def _arms(delay_ms: float) -> Program[None]:
    now = yield Now()
    yield SetAlarm(now + delay_ms)


def _fails() -> Program[None]:
    yield from _stamp("first")
    raise RuntimeError("a probe's deliberate failure")


def _deletes_then_fails() -> Program[None]:
    yield DeleteAlarm()
    yield from _fails()


PROBES = (
    Probe(
        "block-holds-calls",
        "input gate: a call that arrives during blockConcurrencyWhile waits for it to end",
        (
            Call(0.0, lambda: _blocks(300.0), [["block", [["wait", 300.0]]]]),
            Call(100.0, _nothing, []),
        ),
    ),
    Probe(
        "background-runs-on",
        "background work runs on after the response, while the object lives",
        (
            Call(
                0.0,
                lambda: _background(200.0),
                [["fork", [["wait", 200.0], ["stamp", "background"]]]],
            ),
        ),
    ),
    Probe(
        "alarm-retried",
        "alarms: a handler that throws is retried (the first retry 2 s later)",
        (Call(0.0, lambda: _arms(10.0), [["set_alarm", 10.0]]),),
        alarms=(
            (_fails, [["stamp", "first"], ["throw"]]),
            (lambda: _stamp("retried"), [["stamp", "retried"]]),
        ),
        settle_ms=4000.0,
    ),
    Probe(
        "deleted-alarm-retried",
        "alarms: a handler that deleted its alarm and then throws is retried or not "
        "(the docs: prevention is best-effort; the model's default retries)",
        (Call(0.0, lambda: _arms(10.0), [["set_alarm", 10.0]]),),
        alarms=(
            (_deletes_then_fails, [["delete_alarm"], ["stamp", "first"], ["throw"]]),
            (lambda: _stamp("retried"), [["stamp", "retried"]]),
        ),
        settle_ms=4000.0,
    ),
)


@dataclass
class Seen:
    """What a run of a probe let us observe: when each call answered (ms from its planned
    instant), and when each stamp was written (ms from the probe's start)."""

    answered_ms: list[float]
    stamps: dict[str, float]


def observe(probe: Probe, seen: Seen) -> dict[str, Any]:
    """The probe's verdict on what was seen."""
    if probe.name == "block-holds-calls":
        held = seen.answered_ms[1] + probe.calls[1].at_ms >= 300.0 - 1.0
        return {"second call waited for the block": held}
    if probe.name == "background-runs-on":
        return {
            "answered before the background work": seen.answered_ms[0] < 100.0,
            "background work finished": "background" in seen.stamps,
        }
    retried = "retried" in seen.stamps and "first" in seen.stamps
    gap = seen.stamps["retried"] - seen.stamps["first"] if retried else None
    return {"retried": retried, "retry after (whole s)": None if gap is None else round(gap / 1000)}


# --- the simulated platform ---


class _ProbeEngine(DurableWorkflowEngine):
    """Runs the probe's programs: `get_meta(i)` is call i, `alarm` the next alarm program."""

    probe: Probe

    def get_meta(self, key: str) -> Program[Any]:
        return self.probe.calls[int(key)].program()

    def alarm(self) -> Program[None]:
        index = getattr(self, "_alarms_run", 0)
        self._alarms_run = index + 1
        if index < len(self.probe.alarms):
            return self.probe.alarms[index][0]()
        return _nothing()


def simulated(probe: Probe, profile: Profile) -> Seen:
    engine = type("Engine", (_ProbeEngine,), {"probe": probe})
    env = simpy.Environment()
    log = RunLog()
    setup = RunSetup(
        BASELINE,
        EngineOptions(workflows=(two_steps_with_sleep(),), tracker=None),
        profile.samplers(1, 0),
        PlatformSwitches(),
        Faults(),
        engine,
        log,
    )
    platform = Platform(env, setup)
    records = []
    for i, call in enumerate(probe.calls):
        record = CallRecord("get_meta", object_id_for("probe:0"), call.at_ms)
        records.append(record)

        def later(i: int = i, record: CallRecord = record, at: float = call.at_ms) -> Any:
            yield env.timeout(at)
            platform.client_call(WorkflowClient().meta("probe:0", str(i)), record)

        env.process(later())
    env.run(until=probe.calls[-1].at_ms + probe.settle_ms)
    stamps: dict[str, float] = {}
    for commit in log.commits:
        if commit.key.startswith("stamp:"):
            stamps.setdefault(commit.key.removeprefix("stamp:"), commit.at_ms)
    return Seen([r.latency_ms or float("nan") for r in records], stamps)


# --- workerd ---


def live(probe: Probe) -> Seen:
    log = RunLog()
    answered: list[float] = [float("nan")] * len(probe.calls)
    with tracker_server(log, 1, lambda at: 0.0) as tracker, workerd(tracker) as url:
        start = time.monotonic() + 0.2
        name = f"{probe.name}-{time.time_ns()}"

        def send(i: int, call: Call) -> None:
            time.sleep(max(0.0, start + call.at_ms / 1000 - time.monotonic()))
            body: dict[str, Any] = {"script": call.script}
            if i == 0:
                body["init"] = []
                body["alarms"] = [script for _, script in probe.alarms]
            request = urllib.request.Request(
                f"{url}{name}", json.dumps(body).encode(), {"Content-Type": "application/json"}
            )
            with urllib.request.urlopen(request, timeout=30) as response:
                response.read()
            answered[i] = (time.monotonic() - start) * 1000 - call.at_ms

        threads = [threading.Thread(target=send, args=(i, c)) for i, c in enumerate(probe.calls)]
        for thread in threads:
            thread.start()
            time.sleep(0.01)  # in order
        for thread in threads:
            thread.join()
        time.sleep(probe.settle_ms / 1000)
        request = urllib.request.Request(
            f"{url}{name}",
            json.dumps({"script": []}).encode(),
            {"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = json.loads(response.read())["stamps"]
    return Seen(answered, {label: float(at) for label, at in raw})


def conformance(profile: Profile) -> list[dict[str, Any]]:
    """Each probe on both sides: what each saw and whether they agree."""
    out = []
    for probe in PROBES:
        on_workerd = observe(probe, live(probe))
        on_model = observe(probe, simulated(probe, profile))
        out.append(
            {
                "probe": probe.name,
                "rule": probe.rule,
                "workerd": on_workerd,
                "simulated": on_model,
                "agree": on_workerd == on_model,
            }
        )
    return out
