"""Platform rules every runtime applies the same way: what becomes of a failed alarm handler.

Cloudflare retries a failed `alarm()` "with exponential backoff starting at a 2 second delay from
the first failure with up to 6 retries" (developers.cloudflare.com/durable-objects/api/alarms/);
the doubling is our reading of "exponential". A handler that wrote its object's alarm (set or
deleted it) before failing is not retried: the alarm it wrote stands instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: Delays before each retry of a failed alarm handler: 2 s, doubling, six retries.
ALARM_RETRY_DELAYS_MS = tuple(2000.0 * 2**i for i in range(6))


@dataclass(frozen=True)
class AlarmFate:
    """What follows a failed alarm handler: a retry after `delay_ms`, the alarm the handler
    wrote instead, or nothing ever again."""

    kind: Literal["retry", "replaced", "dropped"]
    delay_ms: float = 0.0


def after_failed_alarm(failures: int, wrote_alarm: bool, retries: bool = True) -> AlarmFate:
    """The fate of a handler that failed for the `failures`-th time in a row (1 for the first)."""
    if wrote_alarm:
        return AlarmFate("replaced")
    if not retries or failures > len(ALARM_RETRY_DELAYS_MS):
        return AlarmFate("dropped")
    return AlarmFate("retry", ALARM_RETRY_DELAYS_MS[failures - 1])
