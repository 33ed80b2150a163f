"""The floor: a hypothetical run_async that does only the unavoidable work.

It keeps what no design can remove (the stub's uniqueness check, starting the object, one
coalesced durable write of the queued state with its alarm, the response behind the output gate)
and drops everything else: no constructor work, no read, no layer, no events. The best design's
latency is reported as a ratio to this floor, computed by the same simulator and profile.
"""

from __future__ import annotations

from typing import Any

from engine import storage
from engine.durable_object import DurableWorkflowEngine
from engine.ops import Now, Program
from engine.orchestrator import WorkflowCall
from engine.state_machine import queued_entries

FLOOR = "floor"


class FloorEngine(DurableWorkflowEngine):
    def constructor(self) -> Program[None]:
        yield from ()

    def run_async(self, call: WorkflowCall) -> Program[dict[str, Any]]:
        now = yield Now()
        entries = queued_entries(call.workflow, call.input, call.execution_id, now)
        yield from storage.put_batch(entries)
        yield from storage.set_alarm(now + 1)
        return {"id": self.instance_id}
