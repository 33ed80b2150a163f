"""Why the model gives a figure: sentences computed from the calls' own phases and op counts."""

from __future__ import annotations

import pandas as pd

from engine import phases as engine
from engine.design import UnknownDesign, design_by_name
from engine.tracker import TRACKERS
from simulator.experiments.suite import MODES
from simulator.measure.rows import PHASE, mean_of, median_of, phase_column, phase_columns, run_async
from simulator.measure.stats import paired_differences
from simulator.model.scenario import load_scenario
from simulator.model.seed import BREAKDOWN_PHASES
from simulator.report.cost import COST_OPS
from simulator.runtime.phases import (
    COLD_START,
    CONSTRUCTOR,
    FETCH_OUTPUT_GATE,
    OUTPUT_GATE,
    RPC,
    STUB,
)


def explain_breakdown(row: str, mode: str, calls: pd.DataFrame, measured: float) -> str:
    """One line on why the model gives this figure, from the calls' own phases and op counts."""

    def ms(column: str) -> float:
        return median_of(calls, column)

    if row == "DO Stub Resolution":
        if mode == "cold":
            return (
                f"the uniqueness check of a name-derived id ({ms(phase_column(STUB)):.0f} ms) plus "
                f"the RPC hop ({ms(phase_column(RPC)):.1f} ms), paid on the first call to an id"
            )
        return (
            f"the id was used before, so only the RPC hop is paid ({ms(phase_column(RPC)):.1f} ms); "
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
            f"again ({ms(phase_column(engine.LAYER_BUILD)):.1f} ms, counted in Queue Operation)"
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
        reads = mean_of(calls, "ops_read_miss")
        return (
            f"its status read is {'a cache hit' if ms(phase_column(engine.QUEUE)) < 0.5 else 'a miss'} "
            f"(the {'constructor' if mode == 'cold' else 'earlier call'} read it); the 8-key "
            "initialize, the status put and the alarm coalesce into one commit, paid at the "
            f"output gate of the flush's POST, not here ({reads:.1f} read misses in the whole "
            f"call{', constructor included' if mode == 'cold' else ''})"
        )
    if row == "Event Flush HTTP":
        gate = ms(phase_column(FETCH_OUTPUT_GATE))
        return (
            f"one POST of the call's events ({measured - gate:.0f} ms) after {gate:.0f} ms at the "
            "output gate, waiting for the queue's writes to commit; retries add "
            f"{_retry_delays(mode)} s when the tracker fails"
        )
    listed = sum(
        median_of(calls, phase_column(p)) for phases in BREAKDOWN_PHASES.values() for p in phases
    )
    return (
        f"the seed's rows add up to {listed:.0f} ms at their medians; the call also pays the "
        f"object start ({ms(phase_column(COLD_START)):.0f} ms) and the output gate "
        f"({ms(phase_column(OUTPUT_GATE)):.0f} ms), and medians of parts do not add to the median "
        "of the whole"
    )


def _retry_delays(mode: str) -> str:
    """The retry delays of the tracker the mode's runs use, in seconds: "1, 2"."""
    tracker = TRACKERS[load_scenario(MODES[mode]).engine.tracker]
    return ", ".join(f"{delay / 1000:g}" for delay in tracker.retry_delays_ms)


def explain_unlisted(name: str, measured: float) -> str:
    if name.startswith("Object start"):
        return "starting the object before its constructor runs (isolate and instance)"
    if name.startswith("Input gate"):
        return "waiting behind blockConcurrencyWhile or another call's pending read"
    return (
        "the response waits for writes to commit (the fast path's and background flush's "
        "whole storage cost)"
    )


def phase_deltas(before: pd.DataFrame, after: pd.DataFrame) -> list[tuple[str, float]]:
    """The phases that moved between two designs' calls, most first: the median of the per-call
    changes (after minus before) on the same calls, for the phases whose 95 % interval of it
    excludes zero."""
    changes = paired_differences(after, before, phase_columns(after))
    moves = [
        (column.removeprefix(PHASE), change.value)
        for column, change in changes.items()
        if change.low > 0 or change.high < 0
    ]
    return sorted(moves, key=lambda m: -abs(m[1]))


def op_deltas(before: pd.DataFrame, after: pd.DataFrame) -> dict[str, float]:
    """The change of each operation's mean count per call (after minus before)."""
    return {
        kind: mean_of(after, f"ops_{kind}") - mean_of(before, f"ops_{kind}") for kind in COST_OPS
    }


def interactions(
    moves: dict[str, float], design: str, mode: str, base: str, posts: float
) -> list[str]:
    """The model's interactions that make a change differ from its additive estimate, named when
    the measured phase moves (`phase_deltas`, design minus base) and the change of HTTP requests
    per call (`posts`) show them."""
    changed = _switches(design).items() - _switches(base).items()
    switched = {name for name, _ in changed}
    notes = []
    if moves.get(CONSTRUCTOR + engine.RECOVERY_CHECK, 0) < 0 and moves.get(engine.QUEUE, 0) > 0:
        notes.append(
            "cache warming: the constructor's read of workflow:status made the queue's "
            "read a cache hit; without it the queue pays that read"
        )
    if posts < 0 and moves.get(engine.EVENT_FLUSH, 0) < 0 and moves.get(OUTPUT_GATE, 0) > 0:
        notes.append(
            "output gate: the response still waits for the queue's commit, which the "
            "awaited POST used to absorb"
        )
    if "state_reads" in switched:
        notes.append(
            "run_async never calls getState; batching speeds the alarm, which changes "
            "run_async only through the object they share"
        )
        if switched == {"state_reads"} and moves.get(OUTPUT_GATE, 0) != 0:
            notes.append(
                "the alarm due 1 ms after queueing now writes at another time, and the output "
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
    before, after = run_async(rows, base, mode), run_async(rows, design, mode)
    moves = phase_deltas(before, after)
    moved = "; ".join(f"{name} {delta:+.0f} ms" for name, delta in moves[:3])
    counts = op_deltas(before, after)
    ops = ", ".join(f"{delta:+.1f} {kind}" for kind, delta in counts.items() if abs(delta) >= 0.05)
    if moved and ops:
        what = f"{moved} ({ops})"
    elif moved:
        what = f"{moved} (the same operations)"
    else:
        what = f"no phase moves ({ops})" if ops else "no phase or operation of run_async changes"
    notes = interactions(dict(moves), design, mode, base, counts["http"])
    return what + ((" — " + "; ".join(notes)) if notes else "")
