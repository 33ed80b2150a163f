"""Tables computed from simulation rows: percentiles with bootstrap intervals, the seed's
breakdown with verdicts, each change's reduction, optimized totals, tails and cost.

Every figure here is computed from rows (one per call); nothing is copied from the seed except the
seed's own ranges, which stand beside the measured figures.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from engine.design import UnknownDesign, design_by_name
from simulator.model.seed import (
    BREAKDOWN,
    BREAKDOWN_PHASES,
    EXPECTED,
    EXPECTED_TOTAL,
    TOTALS,
    UNLISTED_PHASES,
    SeedRange,
)

#: Operations shown in the cost table, per call.
COST_OPS = (
    "get",
    "get_many",
    "list",
    "put",
    "put_many",
    "delete",
    "set_alarm",
    "http",
    "commit",
    "read_miss",
)
QUANTILES = {"p50_ms": 0.50, "p95_ms": 0.95, "p99_ms": 0.99, "p999_ms": 0.999}

# Prices, paid plan (platform-facts.md, developers.cloudflare.com/durable-objects/platform/pricing).
PRICE_REQUEST = 0.15 / 1e6  # per request (each RPC call, each alarm invocation)
PRICE_GB_S = 12.50 / 1e6  # per GB-second of duration, billed at 128 MB while active
PRICE_READ_UNIT = 0.20 / 1e6  # KV-backed storage, per 4 KB read unit
PRICE_WRITE_UNIT = 1.00 / 1e6  # KV-backed storage, per 4 KB write unit
BILLED_GB = 0.128


def select(rows: pd.DataFrame, **where: Any) -> pd.DataFrame:
    mask = pd.Series(True, index=rows.index)
    for column, value in where.items():
        mask &= rows[column] == value
    return rows[mask]


def phase_total(rows: pd.DataFrame, phases: tuple[str, ...]) -> pd.Series:
    columns = [f"phase_{p}" for p in phases if f"phase_{p}" in rows.columns]
    if not columns:
        return pd.Series(0.0, index=rows.index)
    return rows[columns].sum(axis=1)


@dataclass(frozen=True)
class Estimate:
    value: float
    low: float
    high: float

    def text(self, digits: int = 0) -> str:
        if np.isnan(self.value):
            return "n/a"
        return f"{self.value:,.{digits}f} [{self.low:,.{digits}f}, {self.high:,.{digits}f}]"


def _resamples(groups: int, boots: int, seed: int) -> Iterator[np.ndarray]:
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
    draws = np.array(
        [
            np.quantile(np.concatenate([groups[i] for i in picked]), qs)
            for picked in _resamples(len(groups), boots, seed)
        ]
    )
    bounds = np.quantile(draws, [0.025, 0.975], axis=0)
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


def measured(rows: pd.DataFrame) -> pd.DataFrame:
    """The calls of the cold and warm runs that met the mode their run is about: a warm run's
    first calls, made before its pre-warming began, are cold and are left out."""
    if rows.empty:
        return rows
    return rows[rows["role"].isin(["cold", "warm"]) & (rows["mode"] == rows["role"])]


def run_async(rows: pd.DataFrame, design: str, mode: str) -> pd.DataFrame:
    return select(rows, design=design, call="run_async", mode=mode, outcome="ok")


# --- the seed's breakdown ---


def breakdown(rows: pd.DataFrame, design: str = "baseline") -> list[dict[str, Any]]:
    """The seed's performance breakdown, measured: one line per seed cell, plus unlisted phases."""
    out: list[dict[str, Any]] = []
    for cell in BREAKDOWN:
        calls = run_async(rows, design, cell.mode)
        if cell.row == "Total":
            values = calls["latency_ms"]
        else:
            values = phase_total(calls, BREAKDOWN_PHASES[cell.row])
        estimate = quantile_ci(values, calls["replication"], 0.5)
        out.append(
            _compared(
                "breakdown",
                cell.row,
                cell.mode,
                cell.range,
                estimate,
                explain_breakdown(cell.row, cell.mode, calls, estimate.value),
            )
        )
    for name, phases in UNLISTED_PHASES.items():
        for mode in ("cold", "warm"):
            calls = run_async(rows, design, mode)
            estimate = quantile_ci(phase_total(calls, phases), calls["replication"], 0.5)
            out.append(
                {
                    "table": "breakdown",
                    "row": name,
                    "mode": mode,
                    "seed": "—",
                    "seed_low_ms": None,
                    "seed_high_ms": None,
                    "measured_ms": estimate.value,
                    "ci_low_ms": estimate.low,
                    "ci_high_ms": estimate.high,
                    "verdict": "missing from the seed",
                    "explanation": _unlisted_explanation(name, estimate.value),
                }
            )
    return out


def _compared(
    table: str, row: str, mode: str, seed: SeedRange, estimate: Estimate, explanation: str
) -> dict[str, Any]:
    return {
        "table": table,
        "row": row,
        "mode": mode,
        "seed": seed.text,
        "seed_low_ms": seed.low,
        "seed_high_ms": seed.high,
        "measured_ms": estimate.value,
        "ci_low_ms": estimate.low,
        "ci_high_ms": estimate.high,
        "verdict": seed.verdict(estimate.value, estimate.low, estimate.high),
        "explanation": explanation,
    }


def _median(rows: pd.DataFrame, column: str) -> float:
    if column not in rows.columns or rows.empty:
        return 0.0
    return float(rows[column].median())


def _mean(rows: pd.DataFrame, column: str) -> float:
    if column not in rows.columns or rows.empty:
        return 0.0
    return float(rows[column].mean())


def explain_breakdown(row: str, mode: str, calls: pd.DataFrame, measured: float) -> str:
    """One line on why the model gives this figure, from the calls' own phases and op counts."""

    def ms(column: str) -> float:
        return _median(calls, column)

    if row == "DO Stub Resolution":
        if mode == "cold":
            return (
                f"the uniqueness check of a name-derived id ({ms('phase_stub'):.0f} ms) plus "
                f"the RPC hop ({ms('phase_rpc'):.1f} ms), paid on the first call to an id"
            )
        return (
            f"the id was used before, so only the RPC hop is paid ({ms('phase_rpc'):.1f} ms); "
            "the uniqueness check is cached after the first use"
        )
    if row == "Constructor Layer Build":
        if mode == "cold":
            return (
                "composing the layer stack, then providing it once more inside "
                "blockConcurrencyWhile for the recovery check"
            )
        return (
            "no constructor runs on a resident object; but every call provides the layer "
            f"again ({ms('phase_layer-build'):.1f} ms, counted in Queue Operation)"
        )
    if row == "Constructor Recovery Check":
        if mode == "cold":
            return (
                f"on a fresh object the check finds no workflow after one read of "
                f"workflow:status ({measured:.0f} ms); the nine getState reads the seed "
                "counts run in the alarm handler, not in the constructor"
            )
        return "the constructor does not run on a resident object"
    if row == "Queue Operation":
        reads = _mean(calls, "ops_read_miss")
        return (
            f"its status read is {'a cache hit' if ms('phase_queue') < 0.5 else 'a miss'} "
            f"(the {'constructor' if mode == 'cold' else 'earlier call'} read it); the 8-key "
            "initialize, the status put and the alarm coalesce into one commit, paid at the "
            f"output gate of the flush's POST, not here ({reads:.1f} read misses in the whole "
            f"call{', constructor included' if mode == 'cold' else ''})"
        )
    if row == "Event Flush HTTP":
        gate = ms("phase_fetch-output-gate")
        return (
            f"one POST of the call's events ({measured - gate:.0f} ms) after {gate:.0f} ms at the "
            "output gate, waiting for the queue's writes to commit; retries add 1, 2, 4 s when "
            "the tracker fails"
        )
    listed = sum(
        _median(calls, f"phase_{p}") for phases in BREAKDOWN_PHASES.values() for p in phases
    )
    return (
        f"the seed's rows add up to {listed:.0f} ms at their medians; the call also pays the "
        f"object start ({ms('phase_cold-start'):.0f} ms) and the output gate "
        f"({ms('phase_output-gate'):.0f} ms), and medians of parts do not add to the median "
        "of the whole"
    )


def _unlisted_explanation(name: str, measured: float) -> str:
    if name.startswith("Object start"):
        return "starting the object before its constructor runs (isolate and instance)"
    if name.startswith("Input gate"):
        return "waiting behind blockConcurrencyWhile or another call's pending read"
    return (
        "the response waits for writes to commit (the fast path's and background flush's "
        "whole storage cost)"
    )


# --- each change's reduction ---


def phase_deltas(
    rows: pd.DataFrame, design: str, mode: str, base: str = "baseline", top: int = 2
) -> list[tuple[str, float]]:
    """The phases whose p50 moved most between `base` and `design` (design minus base)."""
    a, b = run_async(rows, base, mode), run_async(rows, design, mode)
    columns = [
        c for c in rows.columns if c.startswith("phase_") and not c.startswith("phase_background")
    ]
    moves = [(c.removeprefix("phase_"), _median(b, c) - _median(a, c)) for c in columns]
    moves = [(name, delta) for name, delta in moves if abs(delta) >= 0.5]
    return sorted(moves, key=lambda m: -abs(m[1]))[:top]


def op_deltas(rows: pd.DataFrame, design: str, mode: str, base: str = "baseline") -> str:
    a, b = run_async(rows, base, mode), run_async(rows, design, mode)
    parts = []
    for kind in COST_OPS:
        delta = _mean(b, f"ops_{kind}") - _mean(a, f"ops_{kind}")
        if abs(delta) >= 0.05:
            parts.append(f"{delta:+.1f} {kind}")
    return ", ".join(parts)


def _saving(a: pd.DataFrame, b: pd.DataFrame) -> float:
    """How much lower the p50 latency of `b` is than that of `a`."""
    if a.empty or b.empty:
        return float("nan")
    return float(np.median(a["latency_ms"]) - np.median(b["latency_ms"]))


def saving(rows: pd.DataFrame, design: str, mode: str, base: str = "baseline") -> float:
    """Baseline p50 minus the design's p50 (the point of `reduction`, without its interval)."""
    return _saving(run_async(rows, base, mode), run_async(rows, design, mode))


def reduction(rows: pd.DataFrame, design: str, mode: str, base: str = "baseline") -> Estimate:
    """Baseline p50 minus the design's p50, with a bootstrap interval over replications."""
    a, b = run_async(rows, base, mode), run_async(rows, design, mode)
    point = _saving(a, b)
    if a.empty or b.empty:
        return Estimate(point, point, point)
    reps = sorted(set(a["replication"]) & set(b["replication"]))
    if len(reps) < 2:
        return Estimate(point, point, point)
    ga = {r: a[a["replication"] == r]["latency_ms"].to_numpy() for r in reps}
    gb = {r: b[b["replication"] == r]["latency_ms"].to_numpy() for r in reps}
    draws = []
    for picked in _resamples(len(reps), 200, seed=1):
        chosen = [reps[i] for i in picked]
        draws.append(
            np.median(np.concatenate([ga[r] for r in chosen]))
            - np.median(np.concatenate([gb[r] for r in chosen]))
        )
    low, high = np.quantile(draws, [0.025, 0.975])
    return Estimate(point, float(low), float(high))


def interactions(moves: dict[str, float], design: str, mode: str, base: str) -> list[str]:
    """The model's interactions that make a change differ from its additive estimate, named when
    the measured phase moves (`phase_deltas`, design minus base) show them."""
    changed = _switches(design).items() - _switches(base).items()
    switched = {name for name, _ in changed}
    notes = []
    if moves.get("constructor.recovery-check", 0) < 0 and moves.get("queue", 0) > 0:
        notes.append(
            "cache warming: the constructor's read of workflow:status made the queue's "
            "read a cache hit; without it the queue pays that read"
        )
    if moves.get("event-flush", 0) < 0 and moves.get("output-gate", 0) > 0:
        notes.append(
            "output gate: the response still waits for the queue's commit, which the "
            "awaited POST used to absorb"
        )
    if "state_reads" in switched:
        notes.append("run_async never calls getState; batching speeds only the alarm")
        if switched == {"state_reads"} and moves.get("output-gate", 0) > 0:
            notes.append(
                "the alarm due 1 ms after queueing now writes sooner, and the output "
                "gate holds run_async's answer for those writes too"
            )
    if "recovery" in switched and mode == "warm":
        notes.append("a warm object has no constructor, so there is no recovery check to remove")
    if "flush" in switched and _switches(design)["flush"] == "seed-literal":
        notes.append("the literal code flushes a new, empty buffer: the queued event is never sent")
    return notes


def _switches(label: str) -> dict[str, str]:
    try:
        return design_by_name(label).switches()
    except UnknownDesign:
        return {}


def explain_change(rows: pd.DataFrame, design: str, mode: str, base: str = "baseline") -> str:
    moves = phase_deltas(rows, design, mode, base, top=20)
    moved = "; ".join(f"{name} {delta:+.0f} ms" for name, delta in moves[:3])
    ops = op_deltas(rows, design, mode, base)
    if moved and ops:
        what = f"{moved} ({ops})"
    elif moved:
        what = f"{moved} (the same operations)"
    else:
        what = f"no phase moves ({ops})" if ops else "no phase or operation of run_async changes"
    notes = interactions(dict(moves), design, mode, base)
    return what + ((" — " + "; ".join(notes)) if notes else "")


def expected(rows: pd.DataFrame, labels: dict[str, str]) -> list[dict[str, Any]]:
    """The seed's Expected Results: each change alone against baseline, then their total."""
    out = []
    for change in EXPECTED:
        name = labels[change.row]
        for mode, seed in (("cold", change.cold), ("warm", change.warm)):
            estimate = reduction(rows, name, mode)
            out.append(
                _compared(
                    "expected", change.row, mode, seed, estimate, explain_change(rows, name, mode)
                )
            )
    row, cold, warm = EXPECTED_TOTAL
    for mode, seed in (("cold", cold), ("warm", warm)):
        estimate = reduction(rows, labels[row], mode)
        singles = sum(saving(rows, labels[c.row], mode) for c in EXPECTED)
        out.append(
            _compared(
                "expected",
                row,
                mode,
                seed,
                estimate,
                f"the three together save {estimate.value:.0f} ms; alone they sum to "
                f"{singles:.0f} ms ({'not ' if abs(singles - estimate.value) > 5 else ''}"
                f"additive); {explain_change(rows, labels[row], mode)}",
            )
        )
    return out


def cumulative(rows: pd.DataFrame, steps: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """The seed's priority order applied one change after another: p50 and the step's saving."""
    out = []
    previous = "baseline"
    for title, name in steps:
        for mode in ("cold", "warm"):
            calls = run_async(rows, name, mode)
            p50 = quantile_ci(calls["latency_ms"], calls["replication"], 0.5)
            out.append(
                {
                    "step": title,
                    "design": name,
                    "mode": mode,
                    "p50_ms": p50.value,
                    "p50_ci": p50.text(),
                    "saved_vs_previous_ms": saving(rows, name, mode, previous),
                    "saved_vs_baseline_ms": saving(rows, name, mode),
                }
            )
        previous = name
    return out


def totals(rows: pd.DataFrame, optimized: str) -> list[dict[str, Any]]:
    out = []
    for mode, seed in TOTALS.items():
        calls = run_async(rows, optimized, mode)
        estimate = quantile_ci(calls["latency_ms"], calls["replication"], 0.5)
        out.append(
            _compared(
                "totals",
                "Optimized run_async",
                mode,
                seed,
                estimate,
                f"{optimized}: {explain_change(rows, optimized, mode)}",
            )
        )
    return out


# --- tails and cost ---


def tails(rows: pd.DataFrame, designs: list[str], mode: str = "cold") -> pd.DataFrame:
    """p50 to max of run_async per design, p99 and p99.9 with bootstrap intervals; calls that
    never finished (their object died under them, or the run ended) are counted apart."""
    out = []
    for design in designs:
        calls = select(rows, design=design, call="run_async", mode=mode)
        finished = calls[calls["latency_ms"].notna()]
        p99, p999 = quantile_cis(finished["latency_ms"], finished["replication"], (0.99, 0.999))
        out.append(
            {
                "design": design,
                **latency_stats(finished),
                "p99_ci": p99.text(),
                "p999_ci": p999.text(),
                "share_over_2s": float((finished["latency_ms"] > 2000).mean())
                if len(finished)
                else float("nan"),
                "errors": int((finished["outcome"] != "ok").sum()),
                "unfinished": int(len(calls) - len(finished)),
            }
        )
    return pd.DataFrame(out)


def active_ms(calls: pd.DataFrame) -> pd.Series:
    """How long each call kept its object busy: its time on the object (without the client's
    stub check and hop) plus the background work it left running after answering."""
    background = tuple(
        c.removeprefix("phase_") for c in calls.columns if c.startswith("phase_background.")
    )
    on_object = (calls["end_ms"] - calls["start_ms"]) - phase_total(calls, ("stub", "rpc"))
    return (on_object + phase_total(calls, background)).clip(lower=0)


def _dollars(requests: float, reads: float, writes: float, active_ms: float) -> float:
    """Dollars per million of something billed these means (paid plan, KV-backed storage)."""
    return 1e6 * (
        requests * PRICE_REQUEST
        + reads * PRICE_READ_UNIT
        + writes * PRICE_WRITE_UNIT
        + active_ms / 1000 * BILLED_GB * PRICE_GB_S
    )


def cost(rows: pd.DataFrame, designs: list[str], mode: str = "cold") -> pd.DataFrame:
    """Storage operations per run_async call by kind, and dollars per million run_async calls.

    A run_async call is billed one request, its storage read and write units, and its duration
    (the object is active for the call's own time on the object, at 128 MB).
    """
    out = []
    for design in designs:
        calls = run_async(rows, design, mode)
        if calls.empty:
            continue
        reads, writes = _mean(calls, "ops_read_units"), _mean(calls, "ops_write_units")
        row: dict[str, Any] = {"design": design}
        for kind in COST_OPS:
            row[kind] = _mean(calls, f"ops_{kind}")
        row.update(
            {
                "read_units": reads,
                "write_units": writes,
                "usd_per_million": _dollars(1, reads, writes, float(active_ms(calls).mean())),
            }
        )
        out.append(row)
    return pd.DataFrame(out)


def workflow_cost(rows: pd.DataFrame, designs: list[str]) -> pd.DataFrame:
    """What a whole workflow costs: its run_async or run and every alarm invocation after it
    (start, resume, purge), per workflow, from runs long enough for every workflow to end."""
    out = []
    for design in designs:
        mine = rows[rows["design"] == design]
        objects = mine[mine["call"].isin(["run_async", "run"])]["object"].unique()
        calls = mine[mine["object"].isin(objects)]
        if not len(objects):
            continue
        active = float(active_ms(calls).sum())
        per = len(objects)
        requests = len(calls) / per
        reads = calls["ops_read_units"].sum() / per
        writes = calls["ops_write_units"].sum() / per
        out.append(
            {
                "design": design,
                "calls": requests,
                "alarms": (calls["call"] == "alarm").sum() / per,
                "read_units": reads,
                "write_units": writes,
                "http": calls["ops_http"].sum() / per,
                "usd_per_million": _dollars(requests, reads, writes, active / per),
            }
        )
    return pd.DataFrame(out)
