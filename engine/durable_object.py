"""The Durable Object shell: the class the platform instantiates, one instance per object.

Each public method returns the program of one call. `constructor()` is the program the platform
runs when it creates the instance. Every call goes through `_run_effect`, which provides the service
layer: anew on each call in the baseline (`layer_lifetime="call"`), once per instance or isolate
otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from engine import layers, phases, storage
from engine.design import Design
from engine.layers import EngineOptions, IsolateState, Services
from engine.ops import BlockConcurrencyWhile, EventEmitted, Fork, Now, Program, Random, Span
from engine.orchestrator import WorkflowCall
from engine.state_machine import Keys, queued_entries
from engine.status import Status
from engine.tracker import EventFactory, outbox_key

T = TypeVar("T")


class OutboxUndelivered(Exception):
    """The outbox could not be delivered before a purge (the alarm fails and is retried)."""


#: The methods a client may call over RPC, and `alarm`, which only the platform calls.
RPC_METHODS = ("run", "run_async", "cancel", "get_status", "get_completed_steps", "get_meta")
CALLS = ("constructor", *RPC_METHODS, "alarm")


class DurableWorkflowEngine:
    def __init__(
        self,
        instance_id: str,
        options: EngineOptions,
        design: Design,
        isolate: IsolateState | None = None,
    ) -> None:
        self.instance_id = instance_id
        self.options = options
        self.design = design
        self.isolate = isolate if isolate is not None else IsolateState()
        self._composed = False
        self._services: Services | None = None
        self._builds = 0
        self._recovery_checked = False
        self._nonce: int | None = None

    # --- lifecycle---

    def constructor(self) -> Program[None]:
        if self.design.layer_build == "eager":
            yield from self._compose()
        if self.design.recovery == "constructor":
            yield BlockConcurrencyWhile(self._run_effect(self._recovery_check))

    # --- RPC methods---

    def run(self, call: WorkflowCall) -> Program[dict[str, Any]]:
        def body(s: Services) -> Program[dict[str, Any]]:
            yield from self._lazy_recovery(s)
            result = yield Span(phases.EXECUTE, s.orchestrator.start(call))
            yield Span(phases.EVENT_FLUSH, s.tracker.deliver())
            return {"id": result.id, "completed": result.completed}

        return self._run_effect(body)

    def run_async(self, call: WorkflowCall) -> Program[dict[str, Any]]:
        if self.design.queue_path == "fast":
            return self._span_program(phases.QUEUE, self._fast_queue(call))

        def body(s: Services) -> Program[dict[str, Any]]:
            result = yield Span(phases.QUEUE, s.orchestrator.queue(call))
            if self.design.flush == "background":
                yield Fork(self._flush(s))
            elif self.design.flush == "seed-literal":
                # `this.#runEffect(flushEvents)`: a new call, so new services, so a new buffer.
                yield Fork(self._run_effect(self._flush))
            else:
                yield from self._flush(s)
            return {"id": result.id}

        return self._run_effect(body)

    def alarm(self) -> Program[None]:
        def body(s: Services) -> Program[None]:
            yield from self._lazy_recovery(s)
            # With the outbox, a purge would delete undelivered events: deliver them first, or
            # fail so the platform retries this alarm.
            if (
                self.design.flush == "alarm"
                and (yield from s.purge.is_due())
                and not (yield Span(phases.EVENT_FLUSH, s.tracker.deliver()))
            ):
                raise OutboxUndelivered("the tracker did not accept the outbox; purge postponed")
            if (yield from s.purge.execute_if_due()):
                return
            yield Span(phases.EXECUTE, s.orchestrator.handle_alarm())
            yield Span(phases.EVENT_FLUSH, s.tracker.deliver())

        return self._run_effect(body)

    def cancel(self, reason: str | None = None) -> Program[dict[str, Any]]:
        def body(s: Services) -> Program[dict[str, Any]]:
            # Upstream does not flush here: the `workflow.cancelled` event stays in the buffer.
            # The outbox design delivers, since a cancelled workflow may have no alarm left.
            result = yield from s.orchestrator.cancel(reason)
            if self.design.flush == "alarm":
                yield Span(phases.EVENT_FLUSH, s.tracker.deliver())
            return {"cancelled": result.cancelled, "reason": result.reason}

        return self._run_effect(body)

    def get_status(self) -> Program[Status | None]:
        def body(s: Services) -> Program[Status | None]:
            yield from self._lazy_recovery(s)
            result = yield from s.orchestrator.get_status()
            return result.status

        return self._run_effect(body)

    def get_completed_steps(self) -> Program[list[str]]:
        return self._run_effect(lambda s: s.machine.get_completed_steps())

    def get_meta(self, key: str) -> Program[Any]:
        return self._run_effect(lambda s: storage.get(Keys.meta(key)))

    # --- the layer---

    def _compose(self) -> Program[None]:
        if self._composed:
            return
        shared = self.design.layer_lifetime == "isolate"
        if not (shared and self.isolate.layer_composed):
            yield from layers.compose()
        self._composed = True
        if shared:
            self.isolate.layer_composed = True

    def _instance_nonce(self) -> Program[int]:
        """A random number drawn once per instance, so that event ids of two instances of one
        object never collide, even when built in the same millisecond."""
        if self._nonce is None:
            self._nonce = int((yield Random()) * 2**32)
        return self._nonce

    def _services_for_call(self) -> Program[Services]:
        yield from self._compose()
        if self._services is not None:
            return self._services
        nonce = yield from self._instance_nonce()
        now = yield Now()
        self._builds += 1
        services = yield from layers.provide(
            self.instance_id, self.options, self.design, scope=f"{now:.0f}.{nonce}.{self._builds}"
        )
        if self.design.layer_lifetime != "call":
            self._services = services
        return services

    def _run_effect(self, body: Callable[[Services], Program[T]]) -> Program[T]:
        services = yield from self._services_for_call()
        return (yield from body(services))

    # --- pieces---

    def _recovery_check(self, s: Services) -> Program[None]:
        yield Span(phases.RECOVERY_CHECK, s.recovery.check_and_schedule())

    def _lazy_recovery(self, s: Services) -> Program[None]:
        if self.design.recovery == "lazy" and not self._recovery_checked:
            self._recovery_checked = True
            yield from self._recovery_check(s)

    def _flush(self, s: Services) -> Program[None]:
        yield Span(phases.EVENT_FLUSH, s.tracker.flush())

    def _span_program(self, name: str, child: Program[T]) -> Program[T]:
        return (yield Span(name, child))

    def _fast_queue(self, call: WorkflowCall) -> Program[dict[str, Any]]:
        """The seed's fast path: one read, one batched write with the status, one alarm; no layer.

        As the seed writes it, it emits no `workflow.queued` event (it has no tracker). With the
        durable outbox (`flush="alarm"`, ours) the event goes into the same batched write.
        """
        if (yield from storage.get(Keys.STATUS)) is not None:
            return {"id": self.instance_id}
        now = yield Now()
        entries = queued_entries(call.workflow, call.input, call.execution_id, now)
        if self.design.flush == "alarm" and self.options.tracker is not None:
            nonce = yield from self._instance_nonce()
            events = EventFactory(self.instance_id, f"fast.{now:.0f}.{nonce}")
            event = events.make(
                now, call.workflow, call.execution_id, "workflow.queued", input=call.input
            )
            yield EventEmitted(event)
            entries[outbox_key(event)] = event
        yield from storage.put_batch(entries)
        yield from storage.set_alarm(now + 1)
        return {"id": self.instance_id}
