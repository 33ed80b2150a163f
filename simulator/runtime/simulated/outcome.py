"""Outcomes of guarded processes: a SimPy process that never fails; its waiter re-raises.

SimPy re-creates a failed process's exception from its args when delivering it, which breaks
exceptions with richer constructors, and an unwaited failure stops the simulation. Guarding every
spawned process avoids both.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import simpy

from simulator.runtime.errors import ObjectReset

SimGen = Generator[simpy.Event, Any, Any]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a guarded process ends with: processes never fail, their waiters re-raise."""

    value: Any = None
    error: BaseException | None = None

    def unwrap(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.value


def guarded(body: SimGen) -> Generator[simpy.Event, Any, Outcome]:
    try:
        return Outcome((yield from body))
    except simpy.Interrupt as interrupt:
        return Outcome(error=ObjectReset(str(interrupt.cause)))
    except (Exception, ObjectReset) as error:
        return Outcome(error=error)
