"""The event tracker: a buffer of workflow events and its delivery to an HTTP endpoint.

`HttpBatchTracker` mirrors the upstream HTTP batch tracker: `emit` appends to an in-memory buffer
(flushing inline when it reaches the batch size); `flush` empties the buffer into one POST of
`{"events": [...]}`, retried with exponential backoff from 1 s (1, 2, 4 s: four attempts in all),
and swallows every error. The buffer belongs to the tracker instance, so its lifetime is the
lifetime of the service layer that built it: in the baseline, a single call.

`OutboxTracker` is a change of ours (design `flush="alarm"`): each event is written to durable
storage when emitted, coalesced with the call's other writes, and alarms send the outbox.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property, lru_cache
from typing import Any, Protocol

import httpx

from engine import storage
from engine.ops import Http, Program, Wait

#: Upstream's defaults (`packages/core/src/tracker/http-batch.ts`): `batchSize: 100`, `retry:
#: { maxAttempts: 3, initialDelayMs: 1000 }` with exponential backoff, read as three retries after
#: 1, 2 and 4 s (Effect's `Schedule.recurs(3)`). The POST has no timeout.
BATCH_SIZE = 100
RETRY_DELAYS_MS = (1000.0, 2000.0, 4000.0)
OUTBOX_PREFIX = "tracker:outbox:"


def iso(ms: float) -> str:
    """`ms` since the epoch as ISO 8601 UTC with milliseconds, exactly as
    `datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds")` writes it
    (microseconds rounded half to even, then truncated to milliseconds), at a fraction of the
    cost: the date and time of day are formatted once per second."""
    fraction, seconds = math.modf(ms / 1000)
    micros = round(fraction * 1e6)
    if micros >= 1_000_000:
        micros, seconds = micros - 1_000_000, seconds + 1
    elif micros < 0:
        micros, seconds = micros + 1_000_000, seconds - 1
    return f"{_utc_second(int(seconds))}.{micros // 1000:03d}+00:00"


@lru_cache(maxsize=4096)
def _utc_second(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).isoformat()[:19]


@dataclass(frozen=True)
class TrackerConfig:
    endpoint: str = "https://tracker.invalid/events"
    env: str = "sim"
    service_key: str = "runasync-harness"
    batch_size: int = BATCH_SIZE
    retry_delays_ms: tuple[float, ...] = RETRY_DELAYS_MS

    @cached_property
    def url(self) -> httpx.URL:
        """The endpoint, parsed once (parsing a URL costs more than building the request)."""
        return httpx.URL(self.endpoint)


#: Named tracker configurations: upstream's defaults, and the one of upstream's example app
#: (`examples/effect-worker/src/workflows.ts`: `batchSize: 2`, `retry: { maxAttempts: 2 }`, read as
#: two retries after 1 and 2 s), the app the seed's author most likely measured.
TRACKERS: dict[str, TrackerConfig] = {
    "upstream-defaults": TrackerConfig(),
    "example-app": TrackerConfig(batch_size=2, retry_delays_ms=(1000.0, 2000.0)),
}


class EventTracker(Protocol):
    def emit(self, event: dict[str, Any]) -> Program[None]: ...

    def flush(self) -> Program[None]:
        """Hand the buffer on at the end of a call (send it, or persist it for later)."""
        ...

    def deliver(self) -> Program[bool]:
        """Send everything this tracker holds now; answer whether all of it was accepted."""
        ...

    def pending(self) -> int:
        """How many events this tracker holds in memory, not yet handed on (upstream's
        `pending`): events already in a durable outbox are not counted."""
        ...


@dataclass
class EventFactory:
    """Builds events with the upstream base fields; ids are deterministic for reproducible runs."""

    workflow_id: str
    scope: str
    counter: int = 0

    def make(
        self,
        now_ms: float,
        workflow_name: str,
        execution_id: str | None,
        event_type: str,
        **fields: Any,
    ) -> dict[str, Any]:
        self.counter += 1
        event: dict[str, Any] = {
            "eventId": f"{self.workflow_id}/{self.scope}/{self.counter}",
            "timestamp": iso(now_ms),
            "source": "workflow",
            "type": event_type,
            "workflowId": self.workflow_id,
            "workflowName": workflow_name,
        }
        if execution_id:
            event["executionId"] = execution_id
        event.update(fields)
        return event


class NoopTracker:
    """The tracker used when none is configured: emits and flushes nothing."""

    def emit(self, event: dict[str, Any]) -> Program[None]:
        yield from ()

    def flush(self) -> Program[None]:
        yield from ()

    def deliver(self) -> Program[bool]:
        yield from ()
        return True

    def pending(self) -> int:
        return 0


@dataclass
class HttpBatchTracker:
    config: TrackerConfig
    buffer: list[dict[str, Any]] = field(default_factory=list)

    def emit(self, event: dict[str, Any]) -> Program[None]:
        self.buffer.append(event)
        if len(self.buffer) >= self.config.batch_size:
            yield from self.flush()

    def flush(self) -> Program[None]:
        yield from self.deliver()

    def deliver(self) -> Program[bool]:
        events, self.buffer = self.buffer, []
        if not events:
            return True
        return (yield from send_batch(self.config, events))

    def pending(self) -> int:
        return len(self.buffer)


def batch_post(config: TrackerConfig, events: list[dict[str, Any]]) -> Http:
    """The POST of one batch: `{"events": [...]}`, each event stamped with env and service key."""
    body = {"events": [{**e, "env": config.env, "serviceKey": config.service_key} for e in events]}
    return Http(config.url, body)


def send_batch(config: TrackerConfig, events: list[dict[str, Any]]) -> Program[bool]:
    """POST the events, retrying on errors and non-2xx answers; answers whether one was accepted.

    Errors are swallowed, as upstream: a batch that fails every attempt is silently dropped.
    """
    post = batch_post(config, events)
    for delay in (*config.retry_delays_ms, None):
        try:
            response: httpx.Response = yield post
            if 200 <= response.status_code < 300:
                return True
        except httpx.HTTPError:
            pass
        if delay is None:
            return False
        yield Wait(delay)
    return False


def outbox_key(event: dict[str, Any]) -> str:
    return f"{OUTBOX_PREFIX}{event['eventId']}"


@dataclass
class OutboxTracker:
    """A durable outbox (design `flush="alarm"`, ours): every event is written to storage as it is
    emitted, so it commits atomically with the state change it describes; `deliver` sends the
    outbox and deletes what was accepted. `run_async` only writes; the alarm (due 1 ms later)
    delivers, as do `run`, `cancel` and every alarm after it.

    Delivery is at least once: a batch that fails stays in the outbox for the next delivery, and a
    batch accepted but not yet deleted when the object dies is sent again (event ids let the
    endpoint drop the duplicate).
    """

    config: TrackerConfig

    def emit(self, event: dict[str, Any]) -> Program[None]:
        yield from storage.put(outbox_key(event), event)

    def flush(self) -> Program[None]:
        yield from ()  # the events are already durable; an alarm will deliver them

    def deliver(self) -> Program[bool]:
        stored: dict[str, dict[str, Any]] = yield from storage.list_prefix(OUTBOX_PREFIX)
        events = list(stored.values())
        for start in range(0, len(events), self.config.batch_size):
            chunk = events[start : start + self.config.batch_size]
            if not (yield from send_batch(self.config, chunk)):
                return False
        for key in stored:
            yield from storage.delete(key)
        return True

    def pending(self) -> int:
        return 0
