"""Statistics of latencies: percentiles with bootstrap intervals over replications.

Replications are independent runs; resampling them whole keeps each run's own correlations.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from simulator.measure.rows import run_async

QUANTILES = {"p50_ms": 0.50, "p95_ms": 0.95, "p99_ms": 0.99, "p999_ms": 0.999}


@dataclass(frozen=True)
class Estimate:
    value: float
    low: float
    high: float

    def text(self, digits: int = 0) -> str:
        if np.isnan(self.value):
            return "n/a"
        return f"{self.value:,.{digits}f} [{self.low:,.{digits}f}, {self.high:,.{digits}f}]"


def resamples(groups: int, boots: int, seed: int) -> Iterator[np.ndarray]:
    """The replications each bootstrap round picks, with replacement, reproducibly by seed."""
    rng = np.random.default_rng(seed)
    for _ in range(boots):
        yield rng.integers(groups, size=groups)


def quantile_cis(
    values: pd.Series,
    replications: pd.Series,
    qs: Sequence[float],
    boots: int = 200,
    seed: int = 0,
) -> list[Estimate]:
    """The pooled quantiles `qs` and 95 % bootstrap intervals from resampling whole
    replications; every quantile is read from the same resamples."""
    values = values.to_numpy(dtype=float)
    if len(values) == 0:
        return [Estimate(float("nan"), float("nan"), float("nan")) for _ in qs]
    points = np.quantile(values, qs)
    groups = [values[replications.to_numpy() == r] for r in np.unique(replications)]
    if len(groups) < 2:
        return [Estimate(float(p), float(p), float(p)) for p in points]
    pooled = _pooled(groups, _quantiles(qs))
    draws = [pooled(picked) for picked in resamples(len(groups), boots, seed)]
    return _with_intervals(points, draws)


def _quantiles(qs: Sequence[float]) -> Callable[[np.ndarray], np.ndarray]:
    return lambda values: np.quantile(values, qs)


def _pooled(
    groups: Sequence[np.ndarray], statistic: Callable[[np.ndarray], np.ndarray]
) -> Callable[[np.ndarray], np.ndarray]:
    """`statistic` of the picked replications' values, pooled, as a function of the picks.

    A statistic of pooled values depends on which replications were picked, not in what order,
    and with few replications bootstrap rounds repeat their picks (four replications: at most
    35 different picks in 200 rounds), so each different pick is computed once.
    """
    computed: dict[tuple[int, ...], np.ndarray] = {}

    def of(picked: np.ndarray) -> np.ndarray:
        key = tuple(sorted(picked.tolist()))
        if key not in computed:
            computed[key] = statistic(np.concatenate([groups[i] for i in key]))
        return computed[key]

    return of


def _with_intervals(points: np.ndarray, draws: Sequence[np.ndarray]) -> list[Estimate]:
    """Each point with the 95 % interval of its bootstrap draws."""
    bounds = np.quantile(np.array(draws), [0.025, 0.975], axis=0)
    return [
        Estimate(float(point), float(low), float(high))
        for point, low, high in zip(points, bounds[0], bounds[1], strict=True)
    ]


def quantile_ci(
    values: pd.Series, replications: pd.Series, q: float, boots: int = 200, seed: int = 0
) -> Estimate:
    """The pooled q-quantile and a 95 % bootstrap interval from resampling whole replications."""
    return quantile_cis(values, replications, (q,), boots, seed)[0]


def latency_stats(rows: pd.DataFrame) -> dict[str, float]:
    latency = rows["latency_ms"].dropna().to_numpy(dtype=float)
    if len(latency) == 0:
        return {
            "n": 0,
            **{k: float("nan") for k in QUANTILES},
            "max_ms": float("nan"),
            "mean_ms": float("nan"),
        }
    stats: dict[str, float] = {"n": len(latency)}
    for name, q in QUANTILES.items():
        stats[name] = float(np.quantile(latency, q))
    stats["max_ms"] = float(latency.max())
    stats["mean_ms"] = float(latency.mean())
    return stats


def median_saving(a: pd.DataFrame, b: pd.DataFrame) -> float:
    """How much lower the p50 latency of calls `b` is than that of calls `a`."""
    if a.empty or b.empty:
        return float("nan")
    return float(np.median(a["latency_ms"]) - np.median(b["latency_ms"]))


def saving(rows: pd.DataFrame, design: str, mode: str, base: str = "baseline") -> float:
    """Baseline p50 minus the design's p50 (the point of `reduction`, without its interval)."""
    return median_saving(run_async(rows, base, mode), run_async(rows, design, mode))


def reduction(rows: pd.DataFrame, design: str, mode: str, base: str = "baseline") -> Estimate:
    """Baseline p50 minus the design's p50, with a bootstrap interval over replications."""
    return _median_contrast(rows, [base, design], mode, lambda m: m[0] - m[1])


def interaction(
    rows: pd.DataFrame, together: str, alone: Sequence[str], mode: str, base: str = "baseline"
) -> Estimate:
    """How much more the changes save together than the sum of their savings alone (0: they
    add up), with its bootstrap interval."""

    def value(medians: Sequence[float]) -> float:
        base_p50, together_p50, *alone_p50 = medians
        return (base_p50 - together_p50) - sum(base_p50 - m for m in alone_p50)

    return _median_contrast(rows, [base, together, *alone], mode, value)


def _median_contrast(
    rows: pd.DataFrame,
    designs: Sequence[str],
    mode: str,
    value: Callable[[Sequence[float]], float],
) -> Estimate:
    """`value` of the designs' run_async p50s, with a 95 % bootstrap interval from resampling
    replications, the same ones for every design (they share random numbers, so their noise
    cancels)."""
    calls = [run_async(rows, name, mode) for name in designs]
    point = value([float(np.median(c["latency_ms"])) if len(c) else np.nan for c in calls])
    reps = sorted(set.intersection(*(set(c["replication"]) for c in calls)))
    if len(reps) < 2:
        return Estimate(point, point, point)
    pooled = [
        _pooled([c[c["replication"] == r]["latency_ms"].to_numpy() for r in reps], np.median)
        for c in calls
    ]
    draws = [
        value([float(m(picked)) for m in pooled]) for picked in resamples(len(reps), 200, seed=1)
    ]
    low, high = np.quantile(draws, [0.025, 0.975])
    return Estimate(point, float(low), float(high))


#: What makes two calls of two designs the same call: same replication, object and planned time
#: (designs share arrivals and random numbers, so a run's n-th call is the same in each).
SAME_CALL = ("replication", "object", "planned_ms")


def paired_difference(
    a: pd.DataFrame, b: pd.DataFrame, column: str = "latency_ms", boots: int = 400, seed: int = 0
) -> Estimate:
    """The median over calls answered in both of (a's `column` - b's `column`) of the same
    call, with a 95 % bootstrap interval from resampling the pairs.

    Pairing cancels the noise the two designs share, so a run too short to tell two medians
    apart can still show that one design answers the same calls faster.
    """
    return paired_differences(a, b, [column], boots, seed)[column]


def paired_differences(
    a: pd.DataFrame, b: pd.DataFrame, columns: Sequence[str], boots: int = 400, seed: int = 0
) -> dict[str, Estimate]:
    """`paired_difference` of several columns at once, from one pairing and the same resamples
    (a missing value counts as zero: a phase the call did not have took no time)."""
    pairs = a[[*SAME_CALL, *columns]].merge(b[[*SAME_CALL, *columns]], on=list(SAME_CALL))
    nan = Estimate(float("nan"), float("nan"), float("nan"))
    if pairs.empty:
        return {column: nan for column in columns}
    x = pairs[[f"{c}_x" for c in columns]].to_numpy(dtype=float)
    y = pairs[[f"{c}_y" for c in columns]].to_numpy(dtype=float)
    differences = np.nan_to_num(x) - np.nan_to_num(y)
    picks = np.random.default_rng(seed).integers(len(differences), size=(boots, len(differences)))
    draws = np.median(differences[picks], axis=1)  # boots x columns
    points = np.median(differences, axis=0)
    lows, highs = np.quantile(draws, [0.025, 0.975], axis=0)
    return {
        column: Estimate(float(point), float(low), float(high))
        for column, point, low, high in zip(columns, points, lows, highs, strict=True)
    }


def _by_replication(calls: pd.DataFrame) -> dict[int, np.ndarray]:
    finished = calls[calls["latency_ms"].notna()]
    return {
        int(r): group["latency_ms"].to_numpy(dtype=float)
        for r, group in finished.groupby("replication")
    }


def quantile_changes(
    before: pd.DataFrame,
    after: pd.DataFrame,
    qs: Sequence[float],
    paired: bool,
    boots: int = 400,
    seed: int = 0,
) -> list[Estimate]:
    """`after`'s quantiles minus `before`'s, each with a 95 % bootstrap interval.

    Whole replications are resampled. `paired`: the two runs drew the same random numbers
    (same seeds), so replication r of one is resampled with replication r of the other, and
    the noise they share cancels; otherwise each run is resampled on its own.
    """
    a, b = _by_replication(before), _by_replication(after)
    if not a or not b:
        return [Estimate(float("nan"), float("nan"), float("nan")) for _ in qs]
    points = np.quantile(np.concatenate(list(b.values())), qs) - np.quantile(
        np.concatenate(list(a.values())), qs
    )
    shared = sorted(set(a) & set(b))
    if paired and len(shared) >= 2:
        pooled_a = _pooled([a[r] for r in shared], _quantiles(qs))
        pooled_b = _pooled([b[r] for r in shared], _quantiles(qs))
        draws = [
            pooled_b(picked) - pooled_a(picked) for picked in resamples(len(shared), boots, seed)
        ]
    elif len(a) >= 2 and len(b) >= 2:
        ga, gb = list(a.values()), list(b.values())
        pooled_a, pooled_b = _pooled(ga, _quantiles(qs)), _pooled(gb, _quantiles(qs))
        draws = [
            pooled_b(pb) - pooled_a(pa)
            for pa, pb in zip(
                resamples(len(ga), boots, seed), resamples(len(gb), boots, seed + 1), strict=True
            )
        ]
    else:
        return [Estimate(float(p), float("nan"), float("nan")) for p in points]
    return _with_intervals(points, draws)
