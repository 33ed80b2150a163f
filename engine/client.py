"""The workflow client: derives the object id from the execution id and calls the object's stub."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.ops import IdFromName, Program, Random, Rpc
from engine.orchestrator import WorkflowCall
from engine.status import Status


def instance_name(workflow: str, execution_id: str) -> str:
    return f"{workflow}:{execution_id}"


@dataclass(frozen=True)
class WorkflowClient:
    binding: str = "WORKFLOWS"

    @classmethod
    def from_binding(cls, binding: str) -> WorkflowClient:
        return cls(binding)

    def _stub(self, workflow: str, execution_id: str | None) -> Program[tuple[str, str]]:
        if execution_id is None:
            execution_id = f"{int((yield Random()) * 2**64):016x}"
        name = instance_name(workflow, execution_id)
        object_id = yield IdFromName(name)
        return name, object_id

    def run_async(
        self, workflow: str, input: Any = None, execution_id: str | None = None
    ) -> Program[dict[str, str]]:
        name, object_id = yield from self._stub(workflow, execution_id)
        yield Rpc(object_id, "run_async", (WorkflowCall(workflow, input, execution_id),))
        return {"id": name}

    def run(
        self, workflow: str, input: Any = None, execution_id: str | None = None
    ) -> Program[dict[str, str]]:
        name, object_id = yield from self._stub(workflow, execution_id)
        yield Rpc(object_id, "run", (WorkflowCall(workflow, input, execution_id),))
        return {"id": name}

    def _call(self, instance: str, method: str, *args: Any) -> Program[Any]:
        object_id = yield IdFromName(instance)
        return (yield Rpc(object_id, method, args))

    def status(self, instance: str) -> Program[Status | None]:
        return (yield from self._call(instance, "get_status"))

    def cancel(self, instance: str, reason: str | None = None) -> Program[dict[str, Any]]:
        return (yield from self._call(instance, "cancel", reason))

    def completed_steps(self, instance: str) -> Program[list[str]]:
        return (yield from self._call(instance, "get_completed_steps"))

    def meta(self, instance: str, key: str) -> Program[Any]:
        return (yield from self._call(instance, "get_meta", key))
