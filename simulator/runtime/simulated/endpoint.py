"""The tracker endpoint on the simulated network: latency, errors, outages, timeouts.

What it accepts goes into the run log (each event id once), so delivery and loss are counted. An
exchange runs in its own process: if the sending object dies mid-request, the endpoint still
answers, and what it accepted stays accepted. It reads the request's body as the engine built it
(no JSON round trip) and answers with the shared `ACCEPTED` or `REFUSED` response.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import httpx
import numpy as np
import simpy

from engine.ops import Http
from simulator.runtime.config import Faults
from simulator.runtime.endpoint import ACCEPTED, REFUSED
from simulator.runtime.interface import Latencies
from simulator.runtime.runlog import RunRecorder
from simulator.runtime.simulated.host import ObjectHost
from simulator.runtime.simulated.outcome import Outcome


class SimEndpoint:
    def __init__(
        self, env: simpy.Environment, latencies: Latencies, faults: Faults, log: RunRecorder
    ) -> None:
        self.env = env
        self.faults = faults
        self.log = log
        self._errors: np.random.Generator = latencies.rng("tracker-errors")

    def exchange(
        self, post: Http, sender: ObjectHost, call: str = ""
    ) -> Generator[simpy.Event, Any, Outcome]:
        sender.requests_in_flight += 1
        try:
            self.log.tracker_attempts += 1
            latency = sender.draw("tracker_http", call)
            timeout = self.faults.tracker_timeout_ms
            if self.faults.tracker_down(self.env.now):
                yield self.env.timeout(min(latency, timeout) if timeout is not None else latency)
                return Outcome(
                    error=httpx.ConnectError("tracker unreachable", request=post.request)
                )
            rejected = bool(self.faults.tracker_error_rate) and (
                self._errors.random() < self.faults.tracker_error_rate
            )
            if timeout is not None and latency > timeout:
                # The client gives up, but the server still handles the request when it
                # arrives: a resend after a timeout is a duplicate, which the endpoint drops by
                # event id.
                if not rejected:
                    sender.requests_in_flight += 1
                    self.env.process(self._accept_later(post, sender, latency))
                yield self.env.timeout(timeout)
                return Outcome(error=httpx.ReadTimeout("tracker timed out", request=post.request))
            yield self.env.timeout(latency)
            if rejected:
                return Outcome(REFUSED)
            self.log.accept(post.json["events"], self.env.now)
            return Outcome(ACCEPTED)
        finally:
            sender.requests_in_flight -= 1

    def _accept_later(
        self, post: Http, sender: ObjectHost, after_ms: float
    ) -> Generator[simpy.Event, Any, None]:
        try:
            yield self.env.timeout(after_ms)
            self.log.accept(post.json["events"], self.env.now)
        finally:
            sender.requests_in_flight -= 1
