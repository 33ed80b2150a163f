"""The correctness half of the report: invariants per design and fault, the trade-off chart,
and the best design with its distance from the floor."""

from __future__ import annotations

from typing import Any

import pandas as pd

from engine.design import design_by_name
from simulator.experiments import floor as floor_module
from simulator.experiments import search as search_module
from simulator.experiments.floor import FLOOR
from simulator.experiments.jobs import COLD, FAULT, Role
from simulator.experiments.run import RunResult
from simulator.experiments.search import VERIFY_BATCH, SearchResult
from simulator.measure import rows as measure
from simulator.measure.correctness import LATE_SLEEP_MS, losses, violations
from simulator.measure.stats import Estimate, latency_stats, reduction
from simulator.model import fault_matrix as fault_matrix_module
from simulator.model.fault_matrix import BASE as FAULT_BASE
from simulator.model.fault_matrix import FAULTS, fault_matrix
from simulator.model.scenario import Scenario, load_scenario
from simulator.model.seed import OPTIMIZED
from simulator.report import markdown as report
from simulator.report import plots
from simulator.report.highlight import featured, group_label
from simulator.report.section import Inputs, Section, figure_link, source_of

COUNTS = (
    "workflows",
    "completed",
    "failed",
    "cancelled",
    "orphaned",
    "events_emitted",
    "events_delivered",
    "events_lost",
    "lifecycle_lost",
    "lifecycle_missing",
    "steps_repeated",
    "sleeps_late",
    "sleep_late_max_ms",
    "acknowledged_not_queued",
    "alarms_dropped",
    "resets",
)


def correctness_records(runs: list[RunResult]) -> list[dict[str, Any]]:
    """One record per (profile, design, fault) of the fault-matrix runs, with the events lost
    per type."""
    out = []
    for run in runs:
        role = Role.parse(str(run.stats.get("role", "")))
        if role.kind != FAULT:
            continue
        record: dict[str, Any] = {
            "profile": run.profile,
            "design": run.design,
            "fault": role.fault,
        }
        for name in COUNTS:
            value = run.stats[name]
            record[name] = float(value) if name == "sleep_late_max_ms" else int(value)
        for name in ("lost_by_type", "lifecycle_lost_by_type", "lifecycle_missing_by_type"):
            record[name] = dict(run.stats[name])
        out.append(record)
    return out


def correctness_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """The records as a table, with each run's `losses` (orphans, lifecycle events lost,
    answers for workflows never queued), `never_emitted` lifecycle events, and `violations`,
    the two together."""
    frame = pd.DataFrame(records)
    if not frame.empty:
        frame["losses"] = frame.apply(losses, axis=1)
        frame["never_emitted"] = frame["lifecycle_missing"]
        frame["violations"] = frame.apply(violations, axis=1)
    return frame


#: The counts of the fault matrix the report shows, by fault: (column, what it counts, whether
#: it breaks an invariant: such counts are drawn in red).
SHOWN_COUNTS = (
    ("losses", "losses: orphaned workflows + lifecycle events emitted and never delivered + "
     "run_async answered for a workflow never durably queued", True),
    ("never_emitted", "lifecycle events never emitted: an observability gap, not a loss (the "
     "tracker is never told; e.g. the fast path emits no `workflow.queued`)", True),
    ("orphaned", "orphaned workflows: not terminal, nothing scheduled will ever move them", True),
    ("events_lost", "events undelivered: emitted into a tracker, never accepted by the "
     "endpoint, of any type (step, sleep and pause events, and lifecycle events whose stage "
     "another emission announced or whose attempt died before its state change was durable); "
     "not an invariant: the tracker's record is incomplete, no workflow is lost", False),
    ("steps_repeated", "steps run more than once: a step's body ran again after a reset "
     "(at-least-once execution, not a loss)", False),
    ("sleeps_late", f"sleeps that woke more than {LATE_SLEEP_MS / 1000:g} s late (the worst "
     "lateness of each run is "
     "`sleep_late_max_ms` in `results.json`)", False),
)  # fmt: skip


def _name(described: str) -> str:
    """The short name of a count: its description up to the colon or parenthesis."""
    return described.split(":")[0].split(" (")[0]


def safe_designs(frame: pd.DataFrame) -> list[str]:
    """The designs with no loss and no lifecycle event never emitted under any fault."""
    totals = frame.groupby("design", sort=False)[["losses", "never_emitted"]].sum()
    return [str(d) for d, row in totals.iterrows() if row.sum() == 0]


def heatmap_title(frame: pd.DataFrame) -> str:
    safe = safe_designs(frame)
    if not safe:
        return "Every design loses work or events under some fault"
    return (
        f"Only {', '.join(safe)} {'has' if len(safe) == 1 else 'have'} no loss and no lifecycle "
        "event never emitted, under every fault"
    )


def tradeoff_title(points: pd.DataFrame, roles: dict[str, str], safe: list[str]) -> str:
    """What the trade-off chart shows: which designs keep every invariant, at what speed, and
    how fast the ones that do not are."""
    kept = points[points["design"].isin(safe)]
    broken = points[~points["design"].isin(safe)]
    if kept.empty:
        return "No design keeps every invariant under every fault"
    names = ", ".join(group_label([str(d)], roles) for d in kept["design"])
    text = (
        f"Only {names} {'keeps' if len(kept) == 1 else 'keep'} every invariant under every "
        f"fault (p50 {kept['p50_ms'].min():,.0f} ms)"
    )
    if len(broken):
        text += (
            f";\nthe other {len(broken)} designs, at p50 {broken['p50_ms'].min():,.0f}-"
            f"{broken['p50_ms'].max():,.0f} ms, lose work or leave lifecycle events unsent"
        )
    return text


def _mix_changes(base: Scenario) -> str:
    """The faults that also change the base's mix of calls, in words (empty when none does)."""
    changed = [
        f"{fault} starts {dict(scenario.workload.mix).get('run', 0):.0%} with `run`"
        for fault, scenario in fault_matrix().items()
        if scenario.workload.mix != base.workload.mix
    ]
    return "; " + ", ".join(changed) if changed else ""


def tradeoff_points(frame: pd.DataFrame, rows: pd.DataFrame, profile: str) -> pd.DataFrame:
    """Each design's cold run_async p50 and the share of its events undelivered or never
    emitted (the fast path's missing queued event counts here), over every fault."""
    totals = frame.groupby("design", sort=False)[
        ["events_emitted", "events_lost", "lifecycle_missing"]
    ].sum()
    mine = measure.measured(rows)
    p50 = measure.p50_by_design(mine[mine["profile"] == profile], COLD)
    missed = totals["events_lost"] + totals["lifecycle_missing"]
    share = 100 * missed / (totals["events_emitted"] + totals["lifecycle_missing"]).clip(lower=1)
    return pd.DataFrame(
        [
            {"design": d, "p50_ms": float(p50[d]), "lost_percent": float(share[d])}
            for d in totals.index
            if d in p50.index
        ]
    )


def correctness_section(inputs: Inputs) -> Section:
    records = correctness_records(inputs.suite.results)
    frame = correctness_frame(records)
    if frame.empty:
        return Section("correctness", "_No fault-matrix run finished._", {"correctness": records})
    profile = str(frame["profile"].iloc[0])  # the fault matrix runs under one profile
    roles = featured(inputs, profile)
    designs = list(dict.fromkeys(frame["design"]))
    faults = [f for f in FAULTS if f in set(frame["fault"])]
    base = load_scenario(FAULT_BASE)
    engine, mix = base.engine, dict(base.workload.mix)
    panels = [
        plots.Panel(
            _name(described),
            frame.pivot_table(
                index="design", columns="fault", values=column, aggfunc="sum"
            ).reindex(index=designs, columns=faults),
            "Reds" if loss else "Blues",
        )
        for column, described, loss in SHOWN_COUNTS
    ]
    heatmap = plots.heatmaps(
        panels, roles, inputs.figure(f"faults-{profile}.png"), heatmap_title(frame)
    )
    points = tradeoff_points(frame, inputs.rows, profile)
    title = tradeoff_title(points, roles, safe_designs(frame))
    tradeoff = plots.tradeoff(points, roles, inputs.figure("tradeoff.png"), title)
    totals = frame.groupby("design", sort=False)[[c for c, _, _ in SHOWN_COUNTS]].sum()
    text = "\n\n".join(
        [
            f"Each design runs `scenarios/{FAULT_BASE}.toml` (workflows with two I/O steps and a "
            f"{engine.sleep_ms / 1000:g} s sleep, {mix.get('run', 0):.0%} started with `run`; "
            f"{inputs.suite.spec.faults_duration_s:g} s of arrivals, then "
            f"{base.drain_s / 60:g} minutes of drain) "
            f"under each fault of `{source_of(fault_matrix_module)}`, at random instants "
            f"(but the tracker outage's fixed times){_mix_changes(base)}. Counted as each run "
            "goes, by its invariant ledger. A safe design has zero losses and no "
            "lifecycle event never emitted, under every fault. The counts, by fault (each run's "
            "in `results.json`, `correctness`):\n\n"
            + "\n".join(f"- {described}" for _, described, _ in SHOWN_COUNTS),
            figure_link(heatmap, "faults by design"),
            "Over all faults:",
            report.table(
                ["design", *[_name(d) for _, d, _ in SHOWN_COUNTS]],
                [[d, *[f"{v:.0f}" for v in totals.loc[d]]] for d in designs],
            ),
            "Speed against safety: each design's cold `run_async` p50 and the share of its events "
            "undelivered or never emitted under all faults.",
            figure_link(tradeoff, "trade-off"),
        ]
    )
    return Section("correctness", text, {"correctness": records}, [heatmap, tradeoff])


def best_design_record(rows: pd.DataFrame, search: SearchResult) -> dict[str, Any] | None:
    if search.best is None:
        return None
    best = search.best.label()
    measured = measure.measured(rows)
    record: dict[str, Any] = {
        "profiles": list(dict.fromkeys(measured["profile"])),
        "name": best,
        "switches": search.best.switches(),
        "search": search.summary(),
    }
    record["latency"], record["against_seed_set"] = [], []
    for profile in record["profiles"]:
        mine = measured[measured["profile"] == profile]
        for mode in ("cold", "warm"):
            lower = reduction(mine, best, mode, base=OPTIMIZED.label())
            record["against_seed_set"].append(
                {
                    "profile": profile,
                    "mode": mode,
                    "p50_lower_by_ms": lower.value,
                    "interval_ms": [lower.low, lower.high],
                }
            )
            stats = latency_stats(measure.run_async(mine, best, mode))
            floor = latency_stats(measure.run_async(mine, FLOOR, mode))
            record["latency"].append(
                {
                    "profile": profile,
                    "mode": mode,
                    "p50_ms": stats["p50_ms"],
                    "p99_ms": stats["p99_ms"],
                    "floor_p50_ms": floor["p50_ms"],
                    "floor_p99_ms": floor["p99_ms"],
                    "floor_ratio_p50": stats["p50_ms"] / floor["p50_ms"],
                }
            )
    return record


def against_seed_set(record: dict[str, Any]) -> str:
    """How much lower the best design's p50 is than the seed's set's, per profile and mode,
    with the paired interval over replications; *no clear difference* when it meets zero."""

    def said(entry: dict[str, Any]) -> str:
        lower = Estimate(entry["p50_lower_by_ms"], *entry["interval_ms"])
        clear = lower.low > 0 or lower.high < 0
        return f"`{entry['profile']}` {entry['mode']} {lower.text(1)} ms" + (
            "" if clear else " (no clear difference)"
        )

    return (
        f"Its p50 lower than the seed's set's (`{OPTIMIZED.label()}`, same random numbers, "
        "95 % interval over replications): "
        + "; ".join(said(e) for e in record["against_seed_set"])
        + "."
    )


def best_latency(record: dict[str, Any], profile: str, mode: str) -> dict[str, Any]:
    """The best design's latency entry for one (profile, mode)."""
    return next(e for e in record["latency"] if e["profile"] == profile and e["mode"] == mode)


def behaviour_table(search: SearchResult) -> str:
    """Violations of each (recovery, flush, queue path) combination, by fault."""
    faults = list(FAULTS)
    rows = []
    for label, failed in search.behaviours.items():
        design = design_by_name(label)
        rows.append(
            [
                design.recovery,
                design.flush,
                design.queue_path,
                *[str(failed.get(f, 0)) for f in faults],
                "**safe**" if not failed else str(sum(failed.values())),
            ]
        )
    return report.table(["recovery", "flush", "queue path", *faults, "total"], rows)


def best_design_section(inputs: Inputs) -> Section:
    search = inputs.search
    if search is None:
        raise ValueError("no design search ran")
    record = best_design_record(inputs.rows, search)
    data = {"best_design": record} if record is not None else {}
    return Section("best design", best_design_text(record, search), data)


def best_design_text(record: dict[str, Any] | None, search: SearchResult) -> str:
    safe = ", ".join(f"`{b}`" for b in search.behaviours_safe) or "none"
    passed = next((i for i, v in enumerate(search.verified, 1) if v["safe"]), None)
    ranking = search.ranking
    tied = (
        int((ranking["cold_p50_ms"] == ranking["cold_p50_ms"].min()).sum()) if len(ranking) else 0
    )
    steps = (
        f"How it was found (`{source_of(search_module)}`): each of the {len(search.behaviours)} "
        "combinations of recovery, flush and queue path (other switches as in baseline) ran "
        f"under the whole fault matrix; safe: {safe}. The {len(ranking)} designs with a safe "
        f"combination were ranked by cold run_async p50 ({tied} tied at the fastest; ties go to "
        "the design with fewer changes from baseline) and verified from the fastest down, "
        f"in batches of {VERIFY_BATCH}"
        + (f"; candidate {passed} was the first to pass." if passed else "; none passed.")
        + f" Verification runs are fault-matrix runs ({search.verify_duration_s:g} s of "
        "arrivals per fault): section 10 shows the same runs for the designs it shares with "
        "them. Violations of each combination "
        "(orphans + lifecycle events lost or never emitted + answers for workflows never "
        "queued), by fault:"
    )
    if record is None:
        return "\n\n".join(
            [
                "No design kept every invariant under the whole fault matrix.",
                steps,
                behaviour_table(search),
            ]
        )
    changed = design_by_name(record["name"]).changed_from_baseline()
    rows = [
        [
            entry["profile"],
            entry["mode"],
            report.fmt(entry["p50_ms"]),
            report.fmt(entry["p99_ms"]),
            report.fmt(entry["floor_p50_ms"]),
            report.fmt(entry["floor_p99_ms"]),
            f"{entry['floor_ratio_p50']:.2f}",
        ]
        for entry in record["latency"]
    ]
    return "\n\n".join(
        [
            f"The fastest design that keeps every invariant under the whole fault matrix is "
            f"**`{record['name']}`**: "
            + ", ".join(f"`{k}={v}`" for k, v in changed.items())
            + ". "
            + against_seed_set(record),
            steps,
            behaviour_table(search),
            "Its latency beside the **floor** (a run_async that only pays the stub check, the "
            "object start, the idempotency read any correct run_async needs, one coalesced write "
            "of the queued state with its alarm, and the response; "
            f"`{source_of(floor_module)}`), same simulator and profile:",
            report.table(
                ["profile", "mode", "p50 ms", "p99 ms", "floor p50", "floor p99", "p50 / floor"],
                rows,
            ),
        ]
    )
