"""The floor: a hypothetical run_async that does only the unavoidable work.

It keeps what no correct design can remove: the stub's uniqueness check, starting the object,
the idempotency read (is this workflow already queued? a duplicate call must not queue it again),
one coalesced durable write of the queued state with its alarm, and the response behind the
output gate. It drops everything else: no constructor work, no layer, no events. The best design's
latency is reported as a ratio to this floor, computed by the same simulator and profile.
"""

from __future__ import annotations

from typing import Any

from engine import storage
from engine.durable_object import DurableWorkflowEngine
from engine.ops import Now, Program
from engine.orchestrator import WorkflowCall
from engine.state_machine import Keys, queued_entries

FLOOR = "floor"


class FloorEngine(DurableWorkflowEngine):
    def constructor(self) -> Program[None]:
        yield from ()

    def run_async(self, call: WorkflowCall) -> Program[dict[str, Any]]:
        if (yield from storage.get(Keys.STATUS)) is not None:
            return {"id": self.instance_id}
        now = yield Now()
        entries = queued_entries(call.workflow, call.input, call.execution_id, now)
        yield from storage.put_batch(entries)
        yield from storage.set_alarm(now + 1)
        return {"id": self.instance_id}
