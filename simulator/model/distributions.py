"""Latency distributions in ms, sampled by quantile, and the streams that draw from them.

Sampling by the quantile of a uniform draw lets the n-th draw of a stream be the same in every
design that draws it (common random numbers, see `simulator.model.profile.SamplerSet`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

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
        # `min`/`max` written as comparisons (the same values, NaN included): a draw's hot path
        if u < 1e-12:
            u = 1e-12
        elif u > 1 - 1e-12:
            u = 1 - 1e-12
        # the exponent is bounded so that absurd p99/median ratios cap instead of overflowing
        exponent = self.sigma * normal_quantile(u)
        return self.median_ms * math.exp(700.0 if exponent > 700.0 else exponent)


@dataclass(frozen=True)
class Empirical(Distribution):
    """Draws from measured samples (kept sorted, so a draw is one index, not a sort)."""

    samples: tuple[float, ...]
    cap: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "samples", tuple(sorted(self.samples)))

    def raw_quantile(self, u: float) -> float:
        ordered = self.samples
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
_STEP = 0xD1B54A32D192ED03


class Stream:
    """The draws of one operation for one owner (an object): the n-th draw is fixed by the key.

    The n-th uniform is splitmix64's finaliser (a fast, well-spread 64-bit hash) of the key mixed
    with n times a constant. A run makes tens of draws per workflow, so the finaliser is written
    out here, n times the constant is kept up to date by addition, and the distribution's raw
    quantile and cap are bound once (`Distribution.quantile`, unrolled).
    """

    __slots__ = ("cap", "key", "raw_quantile", "weyl")

    def __init__(self, dist: Distribution, key: int) -> None:
        self.raw_quantile = dist.raw_quantile
        self.cap = dist.cap
        self.key = key
        self.weyl = 0  # n * _STEP modulo 2**64, after n draws

    def __call__(self) -> float:
        self.weyl = weyl = (self.weyl + _STEP) & _MASK
        x = ((self.key ^ weyl) + 0x9E3779B97F4A7C15) & _MASK
        x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
        value = self.raw_quantile(((x ^ (x >> 31)) >> 11) * 2.0**-53)
        cap = self.cap
        return cap if cap is not None and cap < value else value  # min(value, cap)


# --- parameters by name: what a profile's plausible ranges, the calibration and sweeps vary ---

#: The parameters each kind of distribution has, by name.
PARAMETERS: dict[type[Distribution], tuple[str, ...]] = {
    Constant: ("value",),
    Uniform: ("low", "high"),
    LogNormal: ("median", "p99"),
}


def _part(path: str) -> tuple[int, str] | None:
    """`parts[2].median` -> (2, "median")."""
    if not path.startswith("parts["):
        return None
    index, _, rest = path[len("parts[") :].partition("].")
    return (int(index), rest) if index.isdigit() and rest else None


def parameter(dist: Distribution, path: str) -> float:
    """The value of a named parameter: `median`, `p99`, `value`, `low`, `high`, or a mixture
    part's (`parts[0].median`). Raises KeyError for a name the distribution does not have."""
    part = _part(path)
    if isinstance(dist, Mixture) and part is not None and part[0] < len(dist.parts):
        return parameter(dist.parts[part[0]], part[1])
    if path in PARAMETERS.get(type(dist), ()):
        return float(getattr(dist, "median_ms" if path == "median" else _field(path)))
    raise KeyError(path)


def _field(path: str) -> str:
    return {"p99": "p99_ms"}.get(path, path)


def with_parameter(dist: Distribution, path: str, value: float) -> Distribution:
    """The distribution with one parameter changed. A lognormal's median moves with its spread
    (the p99/median ratio) kept; its p99 moves with the median kept, and must stay above it."""
    part = _part(path)
    if isinstance(dist, Mixture) and part is not None and part[0] < len(dist.parts):
        parts = list(dist.parts)
        parts[part[0]] = with_parameter(parts[part[0]], part[1], value)
        return replace(dist, parts=tuple(parts))
    if isinstance(dist, LogNormal) and path == "median":
        return LogNormal(value, value * dist.p99_ms / dist.median_ms, dist.cap)
    if isinstance(dist, LogNormal) and path == "p99":
        if value <= dist.median_ms:
            raise ValueError(f"p99 {value:g} must be above the median {dist.median_ms:g}")
        return LogNormal(dist.median_ms, value, dist.cap)
    if isinstance(dist, Uniform) and path in ("low", "high"):
        low, high = (value, dist.high) if path == "low" else (dist.low, value)
        if high < low:
            raise ValueError(f"uniform low {low:g} must not be above high {high:g}")
        return Uniform(low, high, dist.cap)
    if isinstance(dist, Constant) and path == "value":
        return Constant(value, dist.cap)
    raise KeyError(path)
