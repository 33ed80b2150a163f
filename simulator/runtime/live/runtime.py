"""The live runtime: a plan of client calls replayed, in real time, on workerd.

`run` first runs the plan on the recording instant runtime, which writes down what every call
and alarm does (`record.py`); then it starts a loopback tracker and workerd, and sends each call
to the engine's Durable Object at its planned instant (wall-clock time from the start), with the
object's constructor and alarm scripts on its first call. A call's latency is measured from its
planned instant, as on the simulated platform. The run log gets the calls, the events the
recording emitted, and the events the tracker accepted.

Open-loop plans only, without faults: a replay cannot follow a schedule that changes what the
engine does. Runs are bounded: `MAX_CALLS` calls, `MAX_SECONDS` of arrivals.
"""

from __future__ import annotations

import contextlib
import json
import time
import urllib.request
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from simulator.runtime.errors import ObjectReset
from simulator.runtime.interface import ClientCall, Fault, NextCall, RunSetup
from simulator.runtime.live.record import RecordingRuntime
from simulator.runtime.live.tracker import tracker_server
from simulator.runtime.live.workerd import workerd
from simulator.runtime.runlog import CallRecord, RunLog, RunRecorder

MAX_CALLS = 2000
MAX_SECONDS = 600.0
SETTLE_S = 2.0  # after the last answer, for background work and alarms
LEAD_S = 0.5  # from starting the clock to the first planned instant
REQUEST_TIMEOUT_S = 60.0


class LiveRuntime:
    def __init__(self, setup: RunSetup) -> None:
        self.setup = setup
        self.log: RunRecorder = setup.log if setup.log is not None else RunLog()
        self._planned: list[ClientCall] = []

    @classmethod
    def from_setup(cls, setup: RunSetup) -> LiveRuntime:
        return cls(setup)

    def submit(self, call: ClientCall, then: NextCall | None = None) -> None:
        if then is not None:
            raise ValueError("the live runtime replays open-loop plans only, not closed loops")
        self._planned.append(call)

    def inject(self, fault: Fault) -> None:
        raise ValueError("the live runtime replays plans without faults")

    def close(self) -> None:
        """Nothing to let go: each run starts and stops its own servers."""

    def run(self, until_ms: float) -> RunRecorder:
        planned = sorted(self._planned, key=lambda c: c.at_ms)
        self._planned = []
        if len(planned) > MAX_CALLS or (planned and planned[-1].at_ms > MAX_SECONDS * 1000):
            raise ValueError(
                f"the live runtime runs at most {MAX_CALLS} calls over {MAX_SECONDS:g} s "
                f"of arrivals; this plan has {len(planned)}"
            )
        emitted = RunLog()  # the events the recording emits: the same ones the live run will
        recording = RecordingRuntime(
            self.setup.design,
            self.setup.options,
            tracing=False,
            engine_class=self.setup.engine_class,
            switches=self.setup.switches,
            log=emitted,
        )
        records = []
        for call in planned:
            record = call.record()
            records.append(record)
            recording.now_ms = max(recording.now_ms, call.at_ms)
            while (alarm := recording.next_alarm()) is not None and alarm[0] <= call.at_ms:
                recording.fire_next_alarm()
            recording.now_ms = max(recording.now_ms, call.at_ms)
            with contextlib.suppress(Exception, ObjectReset):  # recorded as failed
                recording.run_client(call.program(), record)
        recording.run(until_ms)
        for event in emitted.emitted.values():
            self.log.emit(event, event["at"])
        self._replay(planned, records, recording, emitted.emitted)
        return self.log

    def _replay(
        self,
        planned: list[ClientCall],
        records: list[CallRecord],
        recording: RecordingRuntime,
        emitted: Mapping[str, Mapping[str, Any]],
    ) -> None:
        start = time.monotonic() + LEAD_S

        def clock() -> float:
            return (time.monotonic() - start) * 1000.0

        def clock_at(monotonic_s: float) -> float:
            return (monotonic_s - start) * 1000.0

        seed = int(self.setup.latencies.rng("live").integers(2**31))
        first_call: set[str] = set()
        with tracker_server(self.log, seed, clock_at, emitted) as tracker, workerd(tracker) as url:
            start = time.monotonic() + LEAD_S
            with ThreadPoolExecutor(max_workers=64) as pool:
                futures = []
                for call, recorded in zip(planned, records, strict=True):
                    live = CallRecord(call.kind, call.object_id, call.at_ms)
                    live.mode = recorded.mode
                    body: dict[str, Any] = {"script": recording.script_of(recorded)}
                    if call.object_id not in first_call:
                        first_call.add(call.object_id)
                        body["init"] = recording.inits.get(call.object_id, [])
                        body["alarms"] = recording.alarm_scripts.get(call.object_id, [])
                    delay = start + call.at_ms / 1000.0 - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                    self.log.call(live)
                    futures.append(pool.submit(_send, f"{url}{call.instance}", body, live, clock))
                for future in futures:
                    future.result()
            time.sleep(SETTLE_S)


def _send(url: str, body: dict[str, Any], record: CallRecord, clock: Any) -> None:
    record.start_ms = clock()
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_S) as response:
            response.read()
        record.outcome = "ok"
    except Exception as error:  # a failed call is recorded as failed, as on the platform
        record.outcome, record.error = "error", f"{type(error).__name__}: {error}"
    record.end_ms = clock()
