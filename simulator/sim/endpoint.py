"""The tracker endpoint on the simulated network: latency, errors, outages, timeouts.

It records every event it accepts (once per event id), so delivery and loss are counted. An
exchange runs in its own process: if the sending object dies mid-request, the endpoint still
answers, and what it accepted stays accepted.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import httpx
import numpy as np
import simpy

from simulator.endpoint import RecordingEndpoint
from simulator.profile import SamplerSet
from simulator.sim.config import Faults
from simulator.sim.host import ObjectHost
from simulator.sim.outcome import Outcome


class SimEndpoint:
    def __init__(self, env: simpy.Environment, samples: SamplerSet, faults: Faults) -> None:
        self.env = env
        self._client_latency = samples.stream("tracker_http", "client")
        self.faults = faults
        self.recorder = RecordingEndpoint()
        self.accepted_at: dict[str, float] = {}
        self._errors: np.random.Generator = samples.rng("tracker-errors")
        self.attempts = 0
        self.failures = 0

    def exchange(
        self, request: httpx.Request, sender: ObjectHost | None, call: str = ""
    ) -> Generator[simpy.Event, Any, Outcome]:
        self.attempts += 1
        latency = sender.draw("tracker_http", call) if sender else self._client_latency()
        timeout = self.faults.tracker_timeout_ms
        if self.faults.tracker_down(self.env.now):
            yield self.env.timeout(min(latency, timeout) if timeout is not None else latency)
            self.failures += 1
            return Outcome(error=httpx.ConnectError("tracker unreachable", request=request))
        if timeout is not None and latency > timeout:
            yield self.env.timeout(timeout)
            self.failures += 1
            return Outcome(error=httpx.ReadTimeout("tracker timed out", request=request))
        yield self.env.timeout(latency)
        if (
            self.faults.tracker_error_rate
            and self._errors.random() < self.faults.tracker_error_rate
        ):
            self.failures += 1
            return Outcome(httpx.Response(500, request=request))
        for event_id in self.recorder.accept(request):
            self.accepted_at[event_id] = self.env.now
        return Outcome(httpx.Response(200, request=request))
