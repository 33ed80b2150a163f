"""The tracker endpoint on the simulated network: latency, errors, outages, timeouts.

What it accepts goes into the run log (each event id once), so delivery and loss are counted. An
exchange is a timer whose own callback handles the request's arrival: if the sending object dies
mid-request, the endpoint still handles it, and what it accepted stays accepted. (A process per
request would cost two scheduler events more, and nothing in an exchange waits on anything but
its latency.) It reads the request's body as the engine built it (no JSON round trip) and answers
with the shared `ACCEPTED` or `REFUSED` response.
"""

from __future__ import annotations

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

    def exchange(self, post: Http, sender: ObjectHost, call: str = "") -> simpy.Event:
        """Send the request: an event that succeeds with the `Outcome` when the sender has its
        answer (or gives up)."""
        self.log.tracker_attempts += 1
        latency = sender.draw("tracker_http", call)
        timeout = self.faults.tracker_timeout_ms
        if self.faults.tracker_down(self.env.now):
            unreachable = httpx.ConnectError("tracker unreachable", request=post.request)
            waited = min(latency, timeout) if timeout is not None else latency
            return self._in_flight(sender, waited, Outcome(error=unreachable))
        rejected = bool(self.faults.tracker_error_rate) and (
            self._errors.random() < self.faults.tracker_error_rate
        )
        if timeout is not None and latency > timeout:
            # The client gives up, but the server still handles the request when it arrives: a
            # resend after a timeout is a duplicate, which the endpoint drops by event id.
            if not rejected:
                self._in_flight(sender, latency, Outcome(), accept=post)
            gave_up = httpx.ReadTimeout("tracker timed out", request=post.request)
            return self._in_flight(sender, timeout, Outcome(error=gave_up))
        if rejected:
            return self._in_flight(sender, latency, Outcome(REFUSED))
        return self._in_flight(sender, latency, Outcome(ACCEPTED), accept=post)

    def _in_flight(
        self, sender: ObjectHost, ms: float, outcome: Outcome, accept: Http | None = None
    ) -> simpy.Event:
        """A request (or its answer) on its way for `ms`: the sender counts it until it lands,
        and the endpoint accepts `accept`'s events when it does."""
        sender.requests_in_flight += 1

        def landed(_: simpy.Event) -> None:
            sender.requests_in_flight -= 1
            if accept is not None:
                self.log.accept(accept.json["events"], self.env.now)

        arrival = self.env.timeout(ms, outcome)
        arrival.callbacks.append(landed)
        return arrival
