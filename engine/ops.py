"""The operation vocabulary: everything the engine asks of the world.

Engine code is written as generators. It never sleeps, reads a clock or does I/O; it yields one of
these small immutable values and receives the result. A runtime (instant, SimPy, live) interprets
them, so every storage access, alarm, HTTP call and unit of CPU work passes through one place where
it can be timed and traced.

Composite operations (`All`, `Fork`, `BlockConcurrencyWhile`, `Span`, `Timeout`) carry child
programs: generators that yield further operations.
"""

from __future__ import annotations

import json
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypeAlias, TypeVar

import httpx

T = TypeVar("T")

#: A program: a generator yielding operations and returning a value.
Program: TypeAlias = Generator["Op", Any, T]


class Op:
    """Base of every operation. `kind` is the name used in traces and op counts."""

    kind: str = "op"


# --- storage---


@dataclass(frozen=True)
class Get(Op):
    key: str
    kind = "get"


@dataclass(frozen=True)
class GetMany(Op):
    """One multi-key read (the platform allows up to 128 keys); answers a dict of present keys."""

    keys: tuple[str, ...]
    kind = "get_many"


@dataclass(frozen=True)
class Put(Op):
    key: str
    value: Any
    kind = "put"


@dataclass(frozen=True)
class PutMany(Op):
    entries: Mapping[str, Any]
    kind = "put_many"


@dataclass(frozen=True)
class List(Op):
    """Every key with the prefix, answered as a dict in key order."""

    prefix: str
    kind = "list"


@dataclass(frozen=True)
class Delete(Op):
    key: str
    kind = "delete"


@dataclass(frozen=True)
class DeleteAll(Op):
    kind = "delete_all"


# --- alarms---


@dataclass(frozen=True)
class SetAlarm(Op):
    at_ms: float
    kind = "set_alarm"


@dataclass(frozen=True)
class GetAlarm(Op):
    kind = "get_alarm"


@dataclass(frozen=True)
class DeleteAlarm(Op):
    kind = "delete_alarm"


# --- time, chance, the network, the CPU---


@dataclass(frozen=True)
class Now(Op):
    """The current wall-clock time in milliseconds."""

    kind = "now"


@dataclass(frozen=True)
class Wait(Op):
    """Suspend this program for `ms` of wall-clock time (Effect.sleep); other work may run."""

    ms: float
    kind = "wait"


@dataclass(frozen=True)
class Random(Op):
    """A uniform draw in [0, 1) from the runtime's seeded generator (retry jitter)."""

    kind = "random"


@dataclass(frozen=True)
class Http(Op):
    """Send `json` to `url`; answered with an `httpx.Response`, or raises `httpx.HTTPError`.

    The body stays a Python value: a simulated endpoint reads it as it is, and `request` builds
    the real `httpx.Request` (once) for a runtime that sends it or a test that inspects it.
    Encoding every batch only to decode it again was an eighth of a simulation's cost. So a body
    that JSON cannot encode fails only where `request` is built (the tests send every design's
    batches through it).
    """

    url: httpx.URL
    json: Any
    method: str = "POST"
    kind = "http"

    @cached_property
    def request(self) -> httpx.Request:
        return httpx.Request(
            self.method,
            self.url,
            headers={"Content-Type": "application/json"},
            content=json.dumps(self.json).encode(),
        )


@dataclass(frozen=True)
class Compute(Op):
    """CPU work on the object's single thread, named by `label` so a profile can price it.

    `ms` is the engine's own default cost; a latency profile that names `label` overrides it.
    """

    label: str
    ms: float = 0.0
    kind = "compute"


@dataclass(frozen=True)
class EventEmitted(Op):
    """Tells the runtime an event entered a tracker buffer (loss accounting); costs nothing."""

    event: Mapping[str, Any]
    kind = "event_emitted"


# --- the platform as seen by the client---


@dataclass(frozen=True)
class IdFromName(Op):
    """Derive a Durable Object id from a name (local and instant)."""

    name: str
    kind = "id_from_name"


@dataclass(frozen=True)
class Rpc(Op):
    """Call `method(*args)` on the Durable Object with this id, through its stub."""

    object_id: str
    method: str
    args: tuple[Any, ...] = ()
    kind = "rpc"


# --- composition---


@dataclass(frozen=True)
class All(Op):
    """Run the children concurrently; answers their results in order."""

    children: tuple[Program[Any], ...]
    kind = "all"


@dataclass(frozen=True)
class Fork(Op):
    """Start the child and go on without waiting (fire and forget, `waitUntil`)."""

    child: Program[Any]
    kind = "fork"


@dataclass(frozen=True)
class BlockConcurrencyWhile(Op):
    """Run the child with the object's input gate closed: no other call is delivered meanwhile."""

    child: Program[Any]
    kind = "block_concurrency_while"


@dataclass(frozen=True)
class Span(Op):
    """Run the child as a named phase, so its duration appears in the tables."""

    name: str
    child: Program[Any]
    kind = "span"


@dataclass(frozen=True)
class Timeout(Op):
    """Run the child; if it takes longer than `ms`, abandon it and raise `OperationTimedOut`."""

    ms: float
    child: Program[Any]
    kind = "timeout"


class OperationTimedOut(Exception):
    """Raised into a program whose `Timeout` expired."""


#: The operations the platform sees (traced, counted and priced), in a fixed order; time, chance
#: and composition are the runtime's own business.
PLATFORM_KINDS = (
    "get",
    "get_many",
    "put",
    "put_many",
    "list",
    "delete",
    "delete_all",
    "set_alarm",
    "get_alarm",
    "delete_alarm",
    "http",
    "compute",
)

#: Every kind of operation: the platform's, then the runtime's own.
KINDS = (
    *PLATFORM_KINDS,
    "now",
    "wait",
    "random",
    "event_emitted",
    "id_from_name",
    "rpc",
    "all",
    "fork",
    "block_concurrency_while",
    "span",
    "timeout",
)
