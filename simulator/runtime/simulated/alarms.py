"""Alarms on the simulated platform: one per object, fired when due, retried when they fail.

An alarm is written like storage: it exists once its write commits. It fires at its time plus a
firing delay, one handler at a time per object. A failed handler (it threw, or its object died)
meets the fate `simulator.runtime.rules` gives it. The pending retry is the object's alarm: an
alarm committed after the failure, by any call, replaces it, as setAlarm replaces any alarm.
During a deploy's shutdown, a due handler waits for the new instance.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import simpy

from simulator.runtime.config import PlatformSwitches
from simulator.runtime.errors import ObjectReset
from simulator.runtime.rules import after_failed_alarm
from simulator.runtime.runlog import CallRecord, RunRecorder
from simulator.runtime.simulated.host import ObjectHost
from simulator.runtime.simulated.outcome import Outcome, SimGen

#: Delivers a call to an object: (host, method, args, record) -> its process.
Deliver = Callable[[ObjectHost, str, tuple[Any, ...], CallRecord], simpy.Process]


class AlarmClock:
    def __init__(
        self, env: simpy.Environment, log: RunRecorder, switches: PlatformSwitches, deliver: Deliver
    ) -> None:
        self.env = env
        self.log = log
        self.switches = switches
        self.deliver = deliver

    def committed(self, host: ObjectHost) -> None:
        """The object's alarm changed durably: the timer of any earlier one is void."""
        host.alarm_token += 1
        at = host.storage.committed.alarm_ms
        if at is not None:
            self.env.process(self._timer(host, host.alarm_token, at))

    def _timer(self, host: ObjectHost, token: int, at: float) -> SimGen:
        host.alarm_timers += 1
        try:
            yield self.env.timeout(max(0.0, at - self.env.now) + host.draw("alarm_delay"))
            yield from host.no_alarm_running()
            if token != host.alarm_token:
                return  # replaced or deleted since it was set
            host.storage.committed.alarm_ms = None
            if host.storage.view.alarm_ms == at:
                host.storage.view.alarm_ms = None
            self.log.alarm(self.env.now, host.object_id, "fired", at)
            yield from self._run(host, at)
        finally:
            host.alarm_timers -= 1

    def _run(self, host: ObjectHost, planned: float) -> SimGen:
        """Run the handler, and its retries while it fails."""
        failures = 0
        while True:
            token = host.alarm_token
            record = CallRecord("alarm", host.object_id, planned, source="alarm")
            self.log.call(record)
            record.start_ms = self.env.now
            yield from host.wait_drained()
            host.alarm_running = self.env.event()
            outcome: Outcome = yield self.deliver(host, "alarm", (), record)
            running, host.alarm_running = host.alarm_running, None
            running.succeed()
            record.end_ms = self.env.now
            self.log.alarm(self.env.now, host.object_id, "finished")
            if outcome.error is None:
                record.outcome = "ok"
                return
            reset = isinstance(outcome.error, ObjectReset)
            record.outcome = "reset" if reset else "error"
            record.error = f"{type(outcome.error).__name__}: {outcome.error}"
            failures += 1
            fate = after_failed_alarm(failures, host.alarm_token != token, self.switches)
            if fate.kind == "replaced":
                return  # the failed handler committed an alarm: it stands instead
            if fate.kind == "dropped":
                self.log.alarm(self.env.now, host.object_id, "dropped")
                return
            due = self.env.now + fate.delay_ms
            self.log.alarm(self.env.now, host.object_id, "retrying", due)
            token = host.alarm_token  # the failed handler's own alarm writes do not replace it
            yield self.env.timeout(fate.delay_ms)
            yield from host.no_alarm_running()
            if host.alarm_token != token:
                self.log.alarm(self.env.now, host.object_id, "retry-replaced")
                return  # an alarm was set or deleted meanwhile: it replaced the retry
            self.log.alarm(self.env.now, host.object_id, "retry-fired", due)
            planned = self.env.now
