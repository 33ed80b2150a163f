"""Latency profiles: a distribution per platform operation, loaded from TOML and validated.

A profile file names each operation under `[ops.<name>]` with a `dist` and its parameters:

    [ops.read]
    dist = "lognormal"      # constant | uniform | lognormal | empirical | mixture
    median = 2.0            # ms
    p99 = 15.0
    cap = 1000.0            # optional upper bound for any distribution
    source = "BLOG ..."     # where the figure comes from, or "GUESS"

Mixtures list their parts under `parts = [{ weight = 0.999, dist = "lognormal", ... }, ...]`.
`compute.<label>` operations price the engine's named CPU work (e.g. `compute.layer-provide`);
`compute.default` prices any label not named.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from simulator.errors import ConfigError, InputError
from simulator.model.distributions import (
    DISTS,
    Constant,
    Distribution,
    Empirical,
    LogNormal,
    Mixture,
    Stream,
    Uniform,
    parameter,
    with_parameter,
)
from simulator.model.fields import MAX_MS, Fields, is_number
from simulator.model.files import load_named_toml
from simulator.paths import PROFILE_DIR

#: Platform operations a profile must price (compute labels are open-ended).
REQUIRED_OPS = (
    "stub_check",
    "rpc",
    "cold_start",
    "read",
    "commit",
    "alarm_delay",
    "tracker_http",
    "hibernation",
    "idle_eviction",
)
#: Operations a profile may price; left out, they cost nothing. `alarm_commit`: what a batch
#: that writes the alarm adds to its commit (measured on workerd; no public figure for
#: production).
OPTIONAL_OPS = ("alarm_commit",)
#: Every operation a profile can price (compute labels are open-ended).
KNOWN_OPS = (*REQUIRED_OPS, *OPTIONAL_OPS)


@dataclass(frozen=True)
class Plausible:
    """The plausible range of one parameter of an operation's distribution: a guess's range, or
    the honest reading of a vague source ("a couple of milliseconds")."""

    op: str
    parameter: str  # median, p99, value, low, high, parts[i].<one of those>
    low: float
    high: float
    guess: bool

    @property
    def name(self) -> str:
        return f"{self.op}.{self.parameter}"

    def holds(self, value: float) -> bool:
        return self.low <= value <= self.high


@dataclass(frozen=True)
class Profile:
    name: str
    ops: Mapping[str, Distribution]
    sources: Mapping[str, str]
    description: str = ""
    path: str | None = None
    plausible: tuple[Plausible, ...] = ()

    def range_of(self, op: str, parameter: str) -> Plausible | None:
        return next((p for p in self.plausible if (p.op, p.parameter) == (op, parameter)), None)

    def with_parameter(self, op: str, parameter: str, value: float) -> Profile:
        """The profile with one parameter of one operation's distribution changed."""
        return self.with_ops({op: with_parameter(self.dist(op), parameter, value)})

    def dist(self, op: str) -> Distribution:
        if op in self.ops:
            return self.ops[op]
        if op.startswith("compute."):
            return self.ops.get("compute.default", Constant(0.0))
        raise KeyError(op)

    def with_ops(self, overrides: Mapping[str, Distribution], name: str | None = None) -> Profile:
        return Profile(
            name or self.name,
            {**self.ops, **overrides},
            self.sources,
            self.description,
            self.path,
            self.plausible,
        )

    def samplers(self, seed: int, replication: int) -> SamplerSet:
        return SamplerSet(self, seed, replication)


class SamplerSet:
    """Random streams for one replication, keyed by (seed, replication, operation, owner).

    `stream(op, owner)` answers the latencies of `op` on `owner` (an object id) in order. Two
    designs that both make their third read on an object get the same latency for it, whatever
    other objects did before: common random numbers at the level of each object's operations.
    `rng(name)` gives numpy generators for the workload and fault schedules.
    """

    def __init__(self, profile: Profile, seed: int, replication: int) -> None:
        self.profile = profile
        self.seed = seed
        self.replication = replication
        # Every key hashes the same seed and replication first: hashed once, then copied.
        self._prefix = hashlib.blake2b(f"{seed}\x1f{replication}\x1f".encode(), digest_size=8)

    def _key(self, first: str, *rest: str) -> int:
        """The hash of `seed, replication, first, *rest` joined by unit separators."""
        digest = self._prefix.copy()
        digest.update("\x1f".join((first, *rest)).encode())
        return int.from_bytes(digest.digest(), "little")

    def stream(self, op: str, owner: str = "", dist: Distribution | None = None) -> Stream:
        """The draws of `op` (priced by the profile, unless `dist` is given) on `owner`."""
        return Stream(dist or self.profile.dist(op), self._key(op, owner))

    def uniform(self, owner: str) -> Stream:
        return self.stream("random", owner, Uniform(0.0, 1.0))

    def prices(self, op: str) -> bool:
        ops = self.profile.ops
        return op in ops or (op.startswith("compute.") and "compute.default" in ops)

    def rng(self, name: str) -> np.random.Generator:
        return np.random.default_rng(self._key("rng", name))


# --- loading and validation ---


_FIELDS = {
    "constant": {"value"},
    "uniform": {"low", "high"},
    "lognormal": {"median", "p99"},
    "empirical": {"samples"},
    "mixture": {"parts"},
}
_COMMON = {"dist", "cap", "source"}
_RANGES = {"guess", "range"}  # an operation's plausible ranges, on its top-level table only


def parse_distribution(source: str, path: str, table: Any, top: bool = False) -> Distribution:
    if not isinstance(table, Mapping):
        raise ConfigError(source, path, table, "allowed: a table with a 'dist' field")
    kind = table.get("dist")
    if kind not in DISTS:
        raise ConfigError(source, f"{path}.dist", kind, f"allowed: {', '.join(DISTS)}")
    allowed = _FIELDS[kind] | _COMMON | (_RANGES if top else set())
    f = Fields(source, table, path, allowed, f"unknown field for dist {kind!r}")
    cap = f.optional_number("cap", maximum=MAX_MS)
    if kind == "constant":
        return Constant(f.number("value", maximum=MAX_MS), cap)
    if kind == "uniform":
        low, high = f.number("low", maximum=MAX_MS), f.number("high", maximum=MAX_MS)
        if high < low:
            f.fail("high", table["high"], f"allowed: a number >= low ({low:g})")
        return Uniform(low, high, cap)
    if kind == "lognormal":
        median = f.number("median", minimum=1e-9, maximum=MAX_MS)
        p99 = f.number("p99", minimum=1e-9, maximum=MAX_MS)
        if p99 <= median:
            f.fail("p99", table["p99"], f"allowed: a number > median ({median:g})")
        return LogNormal(median, p99, cap)
    if kind == "empirical":
        samples = table.get("samples")
        if (
            not isinstance(samples, list)
            or not samples
            or not all(is_number(s) and 0 <= s <= MAX_MS for s in samples)
        ):
            f.fail("samples", samples, f"allowed: a non-empty list of numbers from 0 to {MAX_MS:g}")
        return Empirical(tuple(float(s) for s in samples), cap)
    parts = table.get("parts")
    if not isinstance(parts, list) or not parts:
        f.fail("parts", parts, "allowed: a non-empty list of tables")
    weights, dists = [], []
    for i, part in enumerate(parts):
        part_path = f"{path}.parts[{i}]"
        if not isinstance(part, Mapping):
            raise ConfigError(source, part_path, part, "allowed: a table with weight and dist")
        weights.append(
            Fields(source, part, part_path).number("weight", minimum=1e-12, maximum=1e12)
        )
        dists.append(
            parse_distribution(source, part_path, {k: v for k, v in part.items() if k != "weight"})
        )
    return Mixture(tuple(weights), tuple(dists), cap)


def parse_plausible(
    source: str, path: str, op: str, dist: Distribution, entry: Mapping[str, Any]
) -> list[Plausible]:
    """The `guess = { median = [low, high] }` and `range = {...}` tables of one operation."""
    out = []
    for key, guess in (("guess", True), ("range", False)):
        table = entry.get(key, {})
        if not isinstance(table, Mapping):
            raise ConfigError(
                source, f"{path}.{key}", table, "allowed: a table of parameter = [low, high]"
            )
        for name, bounds in table.items():
            field = f"{path}.{key}.{name}"
            try:
                value = parameter(dist, name)
            except KeyError:
                raise ConfigError(
                    source, field, name, "unknown parameter of this distribution"
                ) from None
            if (
                not isinstance(bounds, list)
                or len(bounds) != 2
                or not all(is_number(b) for b in bounds)
                or not 0 <= bounds[0] < bounds[1] <= MAX_MS
            ):
                raise ConfigError(
                    source,
                    field,
                    bounds,
                    f"allowed: [low, high] with 0 <= low < high <= {MAX_MS:g}",
                )
            if not bounds[0] <= value <= bounds[1]:
                raise ConfigError(
                    source, field, bounds, f"allowed: a range that holds the value {value:g}"
                )
            out.append(Plausible(op, name, float(bounds[0]), float(bounds[1]), guess))
    return out


def parse_ops(
    source: str, path: str, table: Mapping[str, Any]
) -> tuple[dict[str, Distribution], dict[str, str], list[Plausible]]:
    """Operation tables (`read`, `compute.<label>`, ...) into distributions and their sources."""
    flat: dict[str, Any] = {}
    for name, entry in table.items():
        if name == "compute" and isinstance(entry, Mapping):
            pairs = [(f"compute.{label}", sub) for label, sub in entry.items()]
        else:
            pairs = [(name, entry)]
        for op, sub in pairs:
            if op in flat:  # [ops."compute.x"] beside [ops.compute.x]: one would be dropped
                raise ConfigError(source, f"{path}.{op}", "...", "allowed: each operation once")
            flat[op] = sub
    ops: dict[str, Distribution] = {}
    sources: dict[str, str] = {}
    plausible: list[Plausible] = []
    for name, entry in flat.items():
        if name not in KNOWN_OPS and not name.startswith("compute."):
            raise ConfigError(
                source,
                f"{path}.{name}",
                "...",
                f"unknown operation; allowed: {', '.join(KNOWN_OPS)}, compute.<label>",
            )
        ops[name] = parse_distribution(source, f"{path}.{name}", entry, top=True)
        if isinstance(entry, Mapping):
            plausible += parse_plausible(source, f"{path}.{name}", name, ops[name], entry)
            if isinstance(entry.get("source"), str):
                sources[name] = entry["source"]
    return ops, sources, plausible


def parse_profile(source: str, data: Mapping[str, Any]) -> Profile:
    allowed_top = {"name", "description", "ops"}
    if {"workload", "duration_s", "designs", "faults"} & set(data):
        raise InputError(f"{source}: this is a scenario file, not a latency profile (no [ops])")
    for key in data:
        if key not in allowed_top:
            raise ConfigError(
                source, key, data[key], f"unknown field; allowed: {', '.join(sorted(allowed_top))}"
            )
    ops_table = data.get("ops")
    if not isinstance(ops_table, Mapping):
        raise ConfigError(source, "ops", ops_table, "allowed: a table of operations")
    ops, sources, plausible = parse_ops(source, "ops", ops_table)
    for name in REQUIRED_OPS:
        if name not in ops:
            raise ConfigError(
                source,
                f"ops.{name}",
                None,
                f"missing; every profile prices {', '.join(REQUIRED_OPS)}",
            )
    profile_name = data.get("name", Path(source).stem)
    if not isinstance(profile_name, str) or not profile_name.strip():
        raise ConfigError(source, "name", profile_name, "allowed: a non-empty string")
    description = data.get("description", "")
    return Profile(profile_name, ops, sources, str(description), source, tuple(plausible))


def load_profile(name_or_path: str) -> Profile:
    """A profile by name (a file in scenarios/profiles/) or by path."""
    return parse_profile(*load_named_toml(name_or_path, PROFILE_DIR, "profile"))
