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
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from simulator.errors import ConfigError
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
    "idle_eviction",
)
DISTS = ("constant", "uniform", "lognormal", "empirical", "mixture")
Z99 = 2.3263478740408408  # the standard normal's 99th percentile


class Distribution:
    """A latency distribution in ms, sampled by its quantile function.

    Sampling by quantile of a uniform draw lets the n-th draw of a stream be the same in every
    design that draws it (common random numbers, see `SamplerSet`).
    """

    cap: float | None = None

    def raw_quantile(self, u: float) -> float:
        raise NotImplementedError

    def quantile(self, u: float) -> float:
        value = self.raw_quantile(u)
        return min(value, self.cap) if self.cap is not None else value

    def median(self) -> float:
        return self.quantile(0.5)


@dataclass(frozen=True)
class Constant(Distribution):
    value: float
    cap: float | None = None

    def raw_quantile(self, u: float) -> float:
        return self.value


@dataclass(frozen=True)
class Uniform(Distribution):
    low: float
    high: float
    cap: float | None = None

    def raw_quantile(self, u: float) -> float:
        return self.low + (self.high - self.low) * u


# Coefficients of Acklam's rational approximation of the inverse normal CDF (|rel. error| < 1.2e-9),
# several times faster in pure Python than statistics.NormalDist.inv_cdf.
_A = (
    -3.969683028665376e01,
    2.209460984245205e02,
    -2.759285104469687e02,
    1.383577518672690e02,
    -3.066479806614716e01,
    2.506628277459239e00,
)
_B = (
    -5.447609879822406e01,
    1.615858368580409e02,
    -1.556989798598866e02,
    6.680131188771972e01,
    -1.328068155288572e01,
)
_C = (
    -7.784894002430293e-03,
    -3.223964580411365e-01,
    -2.400758277161838e00,
    -2.549732539343734e00,
    4.374664141464968e00,
    2.938163982698783e00,
)
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00)
_P_LOW = 0.02425


def normal_quantile(p: float) -> float:
    """The standard normal's quantile at p in (0, 1)."""
    if p < _P_LOW:
        q = math.sqrt(-2 * math.log(p))
        return (((((_C[0] * q + _C[1]) * q + _C[2]) * q + _C[3]) * q + _C[4]) * q + _C[5]) / (
            (((_D[0] * q + _D[1]) * q + _D[2]) * q + _D[3]) * q + 1
        )
    if p > 1 - _P_LOW:
        return -normal_quantile(1 - p)
    q = p - 0.5
    r = q * q
    return (
        (((((_A[0] * r + _A[1]) * r + _A[2]) * r + _A[3]) * r + _A[4]) * r + _A[5])
        * q
        / (((((_B[0] * r + _B[1]) * r + _B[2]) * r + _B[3]) * r + _B[4]) * r + 1)
    )


@dataclass(frozen=True)
class LogNormal(Distribution):
    """Lognormal given by its median and 99th percentile (both in ms)."""

    median_ms: float
    p99_ms: float
    cap: float | None = None
    sigma: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sigma", math.log(self.p99_ms / self.median_ms) / Z99)

    def raw_quantile(self, u: float) -> float:
        u = min(max(u, 1e-12), 1 - 1e-12)
        # the exponent is bounded so that absurd p99/median ratios cap instead of overflowing
        return self.median_ms * math.exp(min(self.sigma * normal_quantile(u), 700.0))


@dataclass(frozen=True)
class Empirical(Distribution):
    samples: tuple[float, ...]
    cap: float | None = None

    def raw_quantile(self, u: float) -> float:
        ordered = sorted(self.samples)
        return ordered[min(int(u * len(ordered)), len(ordered) - 1)]


@dataclass(frozen=True)
class Mixture(Distribution):
    """Part i with probability weight_i: one uniform picks the part and, rescaled, its quantile."""

    weights: tuple[float, ...]
    parts: tuple[Distribution, ...]
    cap: float | None = None

    def raw_quantile(self, u: float) -> float:
        total = sum(self.weights)
        low = 0.0
        for weight, part in zip(self.weights, self.parts, strict=True):
            high = low + weight / total
            if u < high or part is self.parts[-1]:
                return part.quantile(min((u - low) / (high - low), 1.0))
            low = high
        raise AssertionError("unreachable")

    def median(self) -> float:
        grid = sorted(self.quantile((i + 0.5) / 4001) for i in range(4001))
        return grid[len(grid) // 2]


_MASK = (1 << 64) - 1


def _mix64(x: int) -> int:
    """splitmix64's finaliser: a fast, well-spread 64-bit hash."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


class Stream:
    """The draws of one operation for one owner (an object): the n-th draw is fixed by the key."""

    __slots__ = ("count", "dist", "key")

    def __init__(self, dist: Distribution, key: int) -> None:
        self.dist = dist
        self.key = key
        self.count = 0

    def __call__(self) -> float:
        self.count += 1
        u = (_mix64(self.key ^ (self.count * 0xD1B54A32D192ED03 & _MASK)) >> 11) * 2.0**-53
        return self.dist.quantile(u)


@dataclass(frozen=True)
class Profile:
    name: str
    ops: Mapping[str, Distribution]
    sources: Mapping[str, str]
    description: str = ""
    path: str | None = None

    def dist(self, op: str) -> Distribution:
        if op in self.ops:
            return self.ops[op]
        if op.startswith("compute."):
            return self.ops.get("compute.default", Constant(0.0))
        raise KeyError(op)

    def with_ops(self, overrides: Mapping[str, Distribution], name: str | None = None) -> Profile:
        return Profile(
            name or self.name, {**self.ops, **overrides}, self.sources, self.description, self.path
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

    def _key(self, *parts: str) -> int:
        text = "\x1f".join((str(self.seed), str(self.replication), *parts))
        return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")

    def stream(self, op: str, owner: str = "", dist: Distribution | None = None) -> Stream:
        """The draws of `op` (priced by the profile, unless `dist` is given) on `owner`."""
        return Stream(dist or self.profile.dist(op), self._key(op, owner))

    def rng(self, name: str) -> np.random.Generator:
        return np.random.default_rng(self._key("rng", name))


# --- loading and validation ---


def is_number(value: Any) -> bool:
    """A finite int or float (not a bool), small enough to be a float."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def _number(
    source: str, path: str, table: Mapping[str, Any], key: str, minimum: float = 0.0
) -> float:
    if key not in table:
        raise ConfigError(source, f"{path}.{key}", None, "a number is required")
    value = table[key]
    if not is_number(value):
        raise ConfigError(source, f"{path}.{key}", value, "allowed: a finite number")
    if value < minimum:
        raise ConfigError(source, f"{path}.{key}", value, f"allowed: a number >= {minimum:g}")
    return float(value)


def _optional_number(source: str, path: str, table: Mapping[str, Any], key: str) -> float | None:
    return _number(source, path, table, key) if key in table else None


_FIELDS = {
    "constant": {"value"},
    "uniform": {"low", "high"},
    "lognormal": {"median", "p99"},
    "empirical": {"samples"},
    "mixture": {"parts"},
}
_COMMON = {"dist", "cap", "source"}


def parse_distribution(source: str, path: str, table: Any) -> Distribution:
    if not isinstance(table, Mapping):
        raise ConfigError(source, path, table, "allowed: a table with a 'dist' field")
    kind = table.get("dist")
    if kind not in DISTS:
        raise ConfigError(source, f"{path}.dist", kind, f"allowed: {', '.join(DISTS)}")
    unknown = set(table) - _FIELDS[kind] - _COMMON
    if unknown:
        name = sorted(unknown)[0]
        raise ConfigError(
            source,
            f"{path}.{name}",
            table[name],
            f"unknown field for dist {kind!r}; allowed: "
            f"{', '.join(sorted(_FIELDS[kind] | _COMMON))}",
        )
    cap = _optional_number(source, path, table, "cap")
    if kind == "constant":
        return Constant(_number(source, path, table, "value"), cap)
    if kind == "uniform":
        low = _number(source, path, table, "low")
        high = _number(source, path, table, "high")
        if high < low:
            raise ConfigError(
                source, f"{path}.high", table["high"], f"allowed: a number >= low ({low:g})"
            )
        return Uniform(low, high, cap)
    if kind == "lognormal":
        median = _number(source, path, table, "median", minimum=1e-9)
        p99 = _number(source, path, table, "p99", minimum=1e-9)
        if p99 <= median:
            raise ConfigError(
                source, f"{path}.p99", table["p99"], f"allowed: a number > median ({median:g})"
            )
        return LogNormal(median, p99, cap)
    if kind == "empirical":
        samples = table.get("samples")
        if (
            not isinstance(samples, list)
            or not samples
            or not all(is_number(s) and s >= 0 for s in samples)
        ):
            raise ConfigError(
                source, f"{path}.samples", samples, "allowed: a non-empty list of numbers >= 0"
            )
        return Empirical(tuple(float(s) for s in samples), cap)
    parts = table.get("parts")
    if not isinstance(parts, list) or not parts:
        raise ConfigError(source, f"{path}.parts", parts, "allowed: a non-empty list of tables")
    weights, dists = [], []
    for i, part in enumerate(parts):
        part_path = f"{path}.parts[{i}]"
        if not isinstance(part, Mapping):
            raise ConfigError(source, part_path, part, "allowed: a table with weight and dist")
        weights.append(_number(source, part_path, part, "weight", minimum=1e-12))
        dists.append(
            parse_distribution(source, part_path, {k: v for k, v in part.items() if k != "weight"})
        )
    return Mixture(tuple(weights), tuple(dists), cap)


def parse_ops(
    source: str, path: str, table: Mapping[str, Any]
) -> tuple[dict[str, Distribution], dict[str, str]]:
    """Operation tables (`read`, `compute.<label>`, ...) into distributions and their sources."""
    flat: dict[str, Any] = {}
    for name, entry in table.items():
        if name == "compute" and isinstance(entry, Mapping):
            for label, sub in entry.items():
                flat[f"compute.{label}"] = sub
        else:
            flat[name] = entry
    ops: dict[str, Distribution] = {}
    sources: dict[str, str] = {}
    for name, entry in flat.items():
        if name not in REQUIRED_OPS and not name.startswith("compute."):
            raise ConfigError(
                source,
                f"{path}.{name}",
                "...",
                f"unknown operation; allowed: {', '.join(REQUIRED_OPS)}, compute.<label>",
            )
        ops[name] = parse_distribution(source, f"{path}.{name}", entry)
        if isinstance(entry, Mapping) and isinstance(entry.get("source"), str):
            sources[name] = entry["source"]
    return ops, sources


def parse_profile(source: str, data: Mapping[str, Any]) -> Profile:
    allowed_top = {"name", "description", "ops"}
    for key in data:
        if key not in allowed_top:
            raise ConfigError(
                source, key, data[key], f"unknown field; allowed: {', '.join(sorted(allowed_top))}"
            )
    ops_table = data.get("ops")
    if not isinstance(ops_table, Mapping):
        raise ConfigError(source, "ops", ops_table, "allowed: a table of operations")
    ops, sources = parse_ops(source, "ops", ops_table)
    for name in REQUIRED_OPS:
        if name not in ops:
            raise ConfigError(
                source,
                f"ops.{name}",
                None,
                f"missing; every profile prices {', '.join(REQUIRED_OPS)}",
            )
    profile_name = data.get("name", Path(source).stem)
    if not isinstance(profile_name, str):
        raise ConfigError(source, "name", profile_name, "allowed: a string")
    description = data.get("description", "")
    return Profile(profile_name, ops, sources, str(description), source)


def load_profile(name_or_path: str) -> Profile:
    """A profile by name (a file in scenarios/profiles/) or by path."""
    return parse_profile(*load_named_toml(name_or_path, PROFILE_DIR, "profile"))
