"""Platform rules every runtime applies the same way: what becomes of a failed alarm handler.

Cloudflare retries a failed `alarm()` "using exponential backoff starting at a 2 second delay from
the first failure with up to 6 retries allowed" (developers.cloudflare.com/durable-objects/api/
alarms/); the doubling is our reading of "exponential". Whether a handler that wrote its object's
alarm before failing is spared the retry is uncertain: "Calling `deleteAlarm()` inside the
`alarm()` handler may prevent retries on a best-effort basis, but is not guaranteed" (same page).
The switch `rewritten_alarm_stops_retry` chooses; off (the pessimistic side) it is retried.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from simulator.runtime.config import PlatformSwitches

#: Delays before each retry of a failed alarm handler: 2 s, doubling, six retries.
ALARM_RETRY_DELAYS_MS = tuple(2000.0 * 2**i for i in range(6))


@dataclass(frozen=True)
class AlarmFate:
    """What follows a failed alarm handler: a retry after `delay_ms`, the alarm the handler
    wrote instead, or nothing ever again."""

    kind: Literal["retry", "replaced", "dropped"]
    delay_ms: float = 0.0


def after_failed_alarm(failures: int, wrote_alarm: bool, switches: PlatformSwitches) -> AlarmFate:
    """The fate of a handler that failed for the `failures`-th time in a row (1 for the first)."""
    if wrote_alarm and switches.rewritten_alarm_stops_retry:
        return AlarmFate("replaced")
    if not switches.alarm_retries or failures > len(ALARM_RETRY_DELAYS_MS):
        return AlarmFate("dropped")
    return AlarmFate("retry", ALARM_RETRY_DELAYS_MS[failures - 1])
