"""Purge: delete all of a workflow's storage some delay after it reaches a terminal state."""

from __future__ import annotations

from dataclasses import dataclass

from engine import storage
from engine.ops import Now, Program


class PurgeKeys:
    SCHEDULED = "workflow:purge:scheduled"
    PURGE_AT = "workflow:purge:purgeAt"
    REASON = "workflow:purge:reason"
    ALARM_TYPE = "workflow:alarm:type"


@dataclass(frozen=True)
class PurgeConfig:
    delay_ms: float = 60_000.0


class PurgeManager:
    """With `config=None` purging is disabled (the upstream default when no purge option is given)."""

    def __init__(self, config: PurgeConfig | None) -> None:
        self.config = config

    def schedule(self, terminal: str) -> Program[None]:
        if self.config is None:
            return
        now = yield Now()
        purge_at = now + self.config.delay_ms
        yield from storage.put_batch(
            {
                PurgeKeys.SCHEDULED: True,
                PurgeKeys.PURGE_AT: purge_at,
                PurgeKeys.REASON: terminal,
                PurgeKeys.ALARM_TYPE: "purge",
            }
        )
        yield from storage.set_alarm(purge_at)

    def is_due(self) -> Program[bool]:
        if self.config is None or not (yield from storage.get(PurgeKeys.SCHEDULED)):
            return False
        purge_at = yield from storage.get(PurgeKeys.PURGE_AT)
        yield from storage.get(PurgeKeys.REASON)
        now = yield Now()
        return purge_at is not None and now >= purge_at

    def execute_if_due(self) -> Program[bool]:
        if (yield from self.is_due()):
            yield from storage.delete_all()
            return True
        return False
