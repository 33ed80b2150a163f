"""The runtimes an experiment can choose by name. A new runtime is one line here."""

from __future__ import annotations

from collections.abc import Callable

from simulator.runtime.instant import InstantRuntime
from simulator.runtime.interface import RunSetup, Runtime
from simulator.runtime.live.runtime import LiveRuntime
from simulator.runtime.simulated.platform import Platform

RUNTIMES: dict[str, Callable[[RunSetup], Runtime]] = {
    "simulated": Platform.from_setup,
    "instant": InstantRuntime.from_setup,
    "live": LiveRuntime.from_setup,
}
DEFAULT_RUNTIME = "simulated"


class UnknownRuntime(ValueError):
    pass


def build_runtime(name: str, setup: RunSetup) -> Runtime:
    try:
        factory = RUNTIMES[name]
    except KeyError:
        raise UnknownRuntime(
            f"unknown runtime {name!r}; available: {', '.join(RUNTIMES)}"
        ) from None
    return factory(setup)
