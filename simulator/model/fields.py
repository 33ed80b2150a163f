"""Reading the fields of a user's TOML table: each check names the file, the field, the value and
what is allowed, in one line (`ConfigError`). Scenario and profile files share these readers."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, NoReturn

from simulator.errors import ConfigError

#: The longest time a file may name (a run's length, a latency): bounds that keep simulated time
#: exact (float milliseconds) and the plan finite; the budget (`simulator.model.budget`) then
#: bounds the work as a whole. A latency beyond the longest run could never end inside one.
MAX_S = 10_000_000.0  # about 116 days, in seconds
MAX_MS = MAX_S * 1000.0

_REQUIRED: Any = object()  # the default of a field that must be given


def is_number(value: Any) -> bool:
    """A finite int or float (not a bool), small enough to be a float."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


class Fields:
    """The fields of one table (`path` within the file `source`), checked as they are read.

    With `allowed`, a field not in it is refused at once.
    """

    REQUIRED = _REQUIRED

    def __init__(
        self,
        source: str,
        table: Mapping[str, Any],
        path: str = "",
        allowed: set[str] | None = None,
        unknown: str = "unknown field",
    ) -> None:
        self.source = source
        self.table = table
        self.path = path
        if allowed is not None:
            for key in sorted(set(table) - allowed, key=list(table).index):
                self.fail(key, table[key], f"{unknown}; allowed: {', '.join(sorted(allowed))}")

    def name(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def fail(self, key: str, value: Any, allowed: str) -> NoReturn:
        raise ConfigError(self.source, self.name(key), value, allowed)

    def _get(self, key: str, default: Any) -> Any:
        if key not in self.table and default is _REQUIRED:
            self.fail(key, None, "a number is required")
        return self.table.get(key, default)

    def number(
        self,
        key: str,
        default: float = _REQUIRED,
        minimum: float = 0.0,
        maximum: float = math.inf,
    ) -> float:
        value = self._get(key, default)
        if not is_number(value):
            self.fail(key, value, "allowed: a finite number")
        if not minimum <= value <= maximum:
            bound = (
                f"between {minimum:g} and {maximum:g}" if maximum < math.inf else f">= {minimum:g}"
            )
            self.fail(key, value, f"allowed: a number {bound}")
        return float(value)

    def optional_number(
        self, key: str, minimum: float = 0.0, maximum: float = math.inf
    ) -> float | None:
        return self.number(key, minimum=minimum, maximum=maximum) if key in self.table else None

    def integer(self, key: str, default: int, minimum: int = 0, maximum: int = 10**6) -> int:
        value = self.table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
            self.fail(key, value, f"allowed: a whole number from {minimum} to {maximum}")
        return int(value)

    def choice(self, key: str, default: str, allowed: tuple[str, ...]) -> str:
        value = self.table.get(key, default)
        if value not in allowed:
            self.fail(key, value, f"allowed: {', '.join(allowed)}")
        return str(value)

    def text(self, key: str, default: str) -> str:
        value = self.table.get(key, default)
        if not isinstance(value, str):
            self.fail(key, value, "allowed: a string")
        return str(value)

    def boolean(self, key: str, default: bool) -> bool:
        value = self.table.get(key, default)
        if not isinstance(value, bool):
            self.fail(key, value, "allowed: true or false")
        return bool(value)

    def table_of(self, key: str) -> Mapping[str, Any]:
        value = self.table.get(key, {})
        if not isinstance(value, Mapping):
            self.fail(key, value, "allowed: a table")
        return dict(value)

    def number_list(self, key: str) -> tuple[float, ...]:
        value = self.table.get(key, [])
        if not isinstance(value, list) or not all(is_number(v) and v >= 0 for v in value):
            self.fail(key, value, "allowed: a list of numbers >= 0")
        return tuple(float(v) for v in value)
