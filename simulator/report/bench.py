"""Turn a finished (or part-finished) suite into `reports/bench/`: tables, figures, JSON, rows.

Each section is computed from the simulation rows. A section that cannot be computed (a suite cut
short) is replaced by a note saying why, and everything else is still written.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from simulator.experiments.calibrate import load_fit_record
from simulator.experiments.floor import FLOOR
from simulator.experiments.search import SEARCH_PROFILE, SearchResult
from simulator.experiments.suite import (
    MODES,
    TAILS_SCENARIO,
    SuiteResults,
    change_labels,
    cumulative_labels,
    describe,
    tail_designs,
)
from simulator.measure import rows as measure
from simulator.model.distributions import Mixture
from simulator.model.fault_matrix import BASE as FAULT_BASE
from simulator.model.scenario import load_scenario
from simulator.model.seed import OPTIMIZED
from simulator.report import cost, plots, results, seed_checks, tails
from simulator.report import markdown as report
from simulator.report.correctness import (
    best_design_record,
    best_design_section,
    correctness_frame,
    correctness_records,
    correctness_section,
)

FIGURES = "figures"


class Sections:
    """Collects report sections; a failing section becomes a note instead of stopping the rest."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.problems: list[str] = []

    def add(self, title: str, build: Callable[[], str]) -> None:
        try:
            body = build()
        except Exception as error:
            body = f"_This section could not be computed: {type(error).__name__}: {error}_"
            self.problems.append(f"{title}: {type(error).__name__}: {error}")
        self.parts.append(f"## {title}\n\n{body}\n")


def fastest_design(rows: pd.DataFrame, profile: str, candidates: list[str]) -> str:
    """The candidate with the lowest p50 of cold run_async, measured like every other p50."""
    cold = measure.select(
        measure.measured(rows), profile=profile, call="run_async", mode="cold", outcome="ok"
    )
    medians = cold[cold["design"].isin(candidates)].groupby("design")["latency_ms"].median()
    return str(medians.idxmin()) if len(medians) else "baseline"


def write_bench(
    suite: SuiteResults,
    out_dir: Path,
    command: str,
    search: SearchResult | None = None,
) -> tuple[list[Path], list[str]]:
    """Write README.md, figures, results.json and rows.parquet for the suite into `out_dir`;
    answer the files written and the sections that could not be computed."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / FIGURES).mkdir(exist_ok=True)
    rows, stats = suite.rows(), suite.stats()
    written: list[Path] = []
    if not rows.empty:
        rows.to_parquet(out_dir / "rows.parquet", index=False)
        written.append(out_dir / "rows.parquet")
    labels = change_labels()
    steps = cumulative_labels()
    comparisons: list[dict[str, Any]] = []
    tables: dict[str, Any] = {"cumulative": [], "tails": [], "cost": []}
    sections = Sections()
    sections.add("How to read this report", lambda: _intro(suite, command, search))
    sections.add(
        "1. Calibration of `seed-estimates`", lambda: report.calibration_section(load_fit_record())
    )
    best = search.best.label() if search is not None and search.best is not None else None
    cold_and_warm = measure.measured(rows)
    profiles = list(dict.fromkeys(cold_and_warm["profile"])) if not rows.empty else []
    for profile in profiles:
        mine = cold_and_warm[cold_and_warm["profile"] == profile]
        winner = best or fastest_design(
            rows, profile, [d for d in dict.fromkeys(mine["design"]) if d != FLOOR]
        )

        def breakdown_section(mine: pd.DataFrame = mine, profile: str = profile) -> str:
            cells = seed_checks.breakdown(mine)
            comparisons.extend(
                {"profile": profile, **c} for c in cells if c["seed_low_ms"] is not None
            )
            return (
                f"`run_async` of the **baseline** under `{profile}`, p50 of each phase "
                "(ms, 95 % bootstrap interval over replications). "
                + report.verdict_sentence(cells)
                + "\n\n"
                + report.comparison_table(cells, "p50 ms")
            )

        def expected_section(mine: pd.DataFrame = mine, profile: str = profile) -> str:
            cells = seed_checks.expected(mine, labels)
            comparisons.extend({"profile": profile, **c} for c in cells)
            path = plots.ablation(
                cells,
                out_dir / FIGURES / f"ablation-{profile}.png",
                f"Each change alone vs the seed's claim ({profile})",
            )
            written.append(path)
            return (
                "The reduction of `run_async` p50 when each change is applied alone to the "
                "baseline, and all three together. "
                + report.verdict_sentence(cells)
                + "\n\n"
                + report.comparison_table(cells, "reduction ms")
                + f"\n\n![ablation]({FIGURES}/{path.name})"
            )

        def cumulative_section(mine: pd.DataFrame = mine, profile: str = profile) -> str:
            steps_table = seed_checks.cumulative(mine, steps)
            tables["cumulative"].extend({"profile": profile, **r} for r in steps_table)
            return (
                "The seed's implementation priority, one change after another. Savings are "
                "not additive: a change can move work instead of removing it.\n\n"
                + report.table(
                    [
                        "step",
                        "design",
                        "mode",
                        "p50 ms [95% CI]",
                        "saved vs previous",
                        "saved vs baseline",
                    ],
                    [
                        [
                            r["step"],
                            r["design"],
                            r["mode"],
                            r["p50_ci"],
                            report.fmt(r["saved_vs_previous_ms"]),
                            report.fmt(r["saved_vs_baseline_ms"]),
                        ]
                        for r in steps_table
                    ],
                )
            )

        def totals_section(mine: pd.DataFrame = mine, profile: str = profile) -> str:
            cells = seed_checks.totals(mine, OPTIMIZED.label())
            comparisons.extend({"profile": profile, **c} for c in cells)
            return (
                "The seed promises `run_async` in ~100-300 ms cold and ~50-100 ms warm with "
                f"its changes (`{OPTIMIZED.label()}`).\n\n"
                + report.comparison_table(cells, "p50 ms")
            )

        def figures_section(
            mine: pd.DataFrame = mine, profile: str = profile, winner: str = winner
        ) -> str:
            shown = ["baseline", winner] if winner != "baseline" else ["baseline"]
            waterfall = plots.waterfall(
                mine,
                shown,
                out_dir / FIGURES / f"waterfall-{profile}.png",
                f"run_async phases: baseline vs {winner} ({profile})",
            )
            designs = list(dict.fromkeys(mine["design"]))
            cold = plots.cdfs(
                mine,
                designs,
                "cold",
                out_dir / FIGURES / f"cdf-cold-{profile}.png",
                f"run_async latency, cold, every design ({profile})",
            )
            warm = plots.cdfs(
                mine,
                designs,
                "warm",
                out_dir / FIGURES / f"cdf-warm-{profile}.png",
                f"run_async latency, warm, every design ({profile})",
            )
            written.extend([waterfall, cold, warm])
            return (
                f"Where the time of `run_async` goes, baseline against `{winner}`, and the "
                "latency distribution of every design.\n\n"
                f"![waterfall]({FIGURES}/{waterfall.name})\n\n"
                f"![cdf cold]({FIGURES}/{cold.name})\n\n![cdf warm]({FIGURES}/{warm.name})"
            )

        def cost_section(mine: pd.DataFrame = mine, profile: str = profile) -> str:
            frame = cost.cost(mine, list(dict.fromkeys(mine["design"])))
            tables["cost"].extend({"profile": profile, **r} for r in frame.to_dict("records"))
            return (
                "Storage operations per cold `run_async` call (mean) and dollars per million "
                "calls: one request, read and write units (KV-backed prices) and 128 MB of "
                "duration while the object works on the call.\n\n"
                + report.frame_table(
                    frame,
                    {
                        "design": "design",
                        "get": "get",
                        "list": "list",
                        "get_many": "multi-get",
                        "put": "put",
                        "put_many": "batch put",
                        "set_alarm": "set alarm",
                        "http": "POST",
                        "read_units": "read units",
                        "write_units": "write units",
                        "commit": "commits",
                        "usd_per_million": "$ / million",
                    },
                    digits=2,
                )
            )

        sections.add(f"2. The seed's breakdown, measured ({profile})", breakdown_section)
        sections.add(f"3. What each change buys ({profile})", expected_section)
        sections.add(f"4. The seed's priority order, cumulatively ({profile})", cumulative_section)
        sections.add(f"5. Optimized totals ({profile})", totals_section)
        sections.add(f"6. Where the time goes ({profile})", figures_section)
        sections.add(f"7. Storage operations and cost ({profile})", cost_section)

    def tails_section() -> str:
        tail_rows = rows[rows["role"] == "tails"]
        names = [d.label() for d in tail_designs()]
        frame = tails.tails(tail_rows, names)
        tables["tails"].extend(frame.to_dict("records"))
        shown = frame.assign(share_over_2s=(frame["share_over_2s"] * 100).map("{:.1f} %".format))
        profile = str(tail_rows["profile"].iloc[0])
        path = plots.tails_plot(
            frame,
            out_dir / FIGURES / "tails.png",
            f"run_async tails with a degraded tracker ({profile})",
        )
        written.append(path)
        worst = frame.sort_values("max_ms").iloc[-1]
        return (
            f"`run_async` (cold) under `{profile}` while {describe_tracker_faults()} "
            f"(`scenarios/{TAILS_SCENARIO}.toml`). A flush that is awaited pays the tracker's "
            "retries, 1 s, then 2 s, then 4 s: one failed POST puts the call past 1 s, two past "
            '3 s. That is where the seed\'s "2-3+ seconds" comes from; the worst here is '
            f"`{worst['design']}` at {worst['max_ms']:,.0f} ms. Designs that do not await the "
            "tracker keep their tail to storage and start-up. p99 and p99.9 carry 95 % "
            "bootstrap intervals over replications.\n\n"
            + report.frame_table(
                shown,
                {
                    "design": "design",
                    "n": "n",
                    "p50_ms": "p50",
                    "p95_ms": "p95",
                    "p99_ci": "p99 [95% CI]",
                    "p999_ci": "p99.9 [95% CI]",
                    "max_ms": "max",
                    "share_over_2s": "share > 2 s",
                    "errors": "errors",
                    "unfinished": "unfinished",
                },
                digits=0,
            )
            + f"\n\n![tails]({FIGURES}/{path.name})"
        )

    def workflow_cost_section() -> str:
        base = rows[rows["role"] == "fault:none"]
        frame = cost.workflow_cost(base, list(dict.fromkeys(base["design"])))
        tables["workflow_cost"] = frame.to_dict("records")
        return (
            "What a whole workflow costs: its `run_async` (or `run`) and every alarm after it "
            "(start, resume, purge), measured on the fault-matrix scenario without faults, whose "
            "runs last long enough for every workflow to end and be purged. Per workflow, mean; "
            "dollars per million workflows.\n\n"
            + report.frame_table(
                frame,
                {
                    "design": "design",
                    "calls": "requests (call + alarms)",
                    "alarms": "alarms",
                    "read_units": "read units",
                    "write_units": "write units",
                    "http": "POSTs",
                    "usd_per_million": "$ / million workflows",
                },
                digits=2,
            )
        )

    sections.add("8. Tails with a degraded tracker", tails_section)
    sections.add("8b. What a whole workflow costs", workflow_cost_section)
    correctness = correctness_records(suite.results)
    sections.add(
        "9. What each change costs in correctness",
        lambda: correctness_section(correctness, rows, out_dir / FIGURES / "tradeoff.png"),
    )
    extra: dict[str, Any] = {"correctness": correctness}
    if search is not None:
        record = best_design_record(rows, search)
        if record is not None:
            extra["best_design"] = record
        sections.add("10. The best design", lambda: best_design_section(record, search))
    sections.add("Where the seed is right, and where it is wrong", lambda: _findings(comparisons))
    if sections.problems:
        sections.parts.append(
            "## Problems while writing this report\n\n"
            + "\n".join(f"- `{p}`" for p in sections.problems)
            + "\n"
        )
    sections.parts.insert(
        1,
        _section(
            "Key findings",
            lambda: _key_findings(rows, comparisons, correctness, extra.get("best_design")),
            sections,
        ),
    )
    head = "# run_async: the seed's analysis, tested\n\n" + (
        "" if suite.complete else "**This run did not finish: the tables hold what completed.**\n\n"
    )
    readme = out_dir / "README.md"
    readme.write_text(head + "\n".join(sections.parts))
    written.append(readme)
    sections_json = {
        "seed_comparison": [c for c in comparisons if c.get("seed_low_ms") is not None],
        **tables,
        **extra,
    }
    seeds = _scenario_seeds(suite)
    document = results.build(
        command, describe(suite.spec), seeds, rows, stats, sections_json, suite.complete
    )
    written.append(results.write(document, out_dir / "results.json"))
    return written, sections.problems


def _scenario_seeds(suite: SuiteResults) -> dict[str, int]:
    names = sorted({r.scenario for r in suite.results})
    return {name: load_scenario(name).seed for name in names}


def _section(title: str, build: Callable[[], str], sections: Sections) -> str:
    """A section built after the others (it summarises them), in the same guarded way."""
    probe = Sections()
    probe.add(title, build)
    sections.problems.extend(probe.problems)
    return probe.parts[0]


def _key_findings(
    rows: pd.DataFrame,
    comparisons: list[dict[str, Any]],
    correctness: list[dict[str, Any]],
    best: dict[str, Any] | None,
) -> str:
    """The headline numbers of this run, each computed from the sections below."""
    lines = []
    measured = measure.measured(rows)
    phases = [
        c
        for c in measured.columns
        if c.startswith("phase_") and not c.startswith("phase_background")
    ]
    for profile in dict.fromkeys(measured["profile"]):
        mine = measured[measured["profile"] == profile]
        base = {m: measure.run_async(mine, "baseline", m) for m in ("cold", "warm")}
        seed = {m: measure.run_async(mine, OPTIMIZED.label(), m) for m in ("cold", "warm")}
        top = max(phases, key=lambda c: float(base["cold"][c].median()))
        judged = [c for c in comparisons if c["profile"] == profile]
        within = sum(c["verdict"] == "within" for c in judged)
        lines.append(
            f"- **{profile}**: baseline `run_async` p50 is "
            f"{base['cold']['latency_ms'].median():,.0f} ms cold and "
            f"{base['warm']['latency_ms'].median():,.0f} ms warm (the seed: ~700-1200 and "
            f"~300-600); its largest phase cold is `{top.removeprefix('phase_')}` "
            f"({base['cold'][top].median():,.0f} ms). The seed's recommended set gives "
            f"{seed['cold']['latency_ms'].median():,.0f} ms cold and "
            f"{seed['warm']['latency_ms'].median():,.0f} ms warm (promised ~100-300 and "
            f"~50-100). {within} of {len(judged)} of the seed's cells hold."
        )
    if correctness:
        by_design = correctness_frame(correctness).groupby("design")["violations"].sum()
        safe = [d for d, v in by_design.items() if v == 0]
        lines.append(
            f"- Under the fault matrix, the baseline has {by_design.get('baseline', 0)} "
            f"violations (orphans, lifecycle events lost or never emitted, answers for workflows "
            f"never queued), the seed's "
            f"recommended set {by_design.get(OPTIMIZED.label(), 0)}; designs with none: "
            + (", ".join(f"`{d}`" for d in safe) or "none")
            + "."
        )
    if best is not None:
        lines.append(
            f"- The best design found, `{best['name']}`, answers `run_async` in "
            f"{best['cold_p50_ms']:,.0f} ms cold and {best['warm_p50_ms']:,.0f} ms warm (p50, "
            f"{SEARCH_PROFILE}), {best['floor_ratio_cold_p50']:.2f}x the floor, and keeps every "
            "invariant (no orphan, no lifecycle event lost or never emitted, no answer for a "
            "workflow never queued) under every fault."
        )
    return "\n".join(lines)


def describe_tracker_faults() -> str:
    """The tails scenario's tracker faults, in words, from the scenario file itself."""
    scenario = load_scenario(TAILS_SCENARIO)
    faults = scenario.faults
    parts = []
    override = scenario.profile_overrides.get("tracker_http")
    if isinstance(override, Mixture):
        slow = min(override.weights) / sum(override.weights)
        parts.append(f"the tracker is slow for {slow:.0%} of requests")
    if faults.tracker_error_rate:
        parts.append(f"fails {faults.tracker_error_rate:.0%} of requests")
    for start, end in faults.tracker_outages_ms:
        parts.append(f"is down for {(end - start) / 1000:g} s")
    return ", ".join(parts) or "the tracker behaves"


def _intro(suite: SuiteResults, command: str, search: SearchResult | None) -> str:
    spec = suite.spec
    cold = load_scenario(MODES["cold"]).workload
    warm = load_scenario(MODES["warm"]).workload
    faults = load_scenario(FAULT_BASE).workload
    roles = Counter(str(r.stats.get("role", "")).split(":")[0] for r in suite.results)
    searched = (
        f" The design search (section 10) ran {len(search.ranking)} screening runs "
        f"({spec.screen_duration_s:g} s of cold arrivals each) and verification runs of "
        f"{spec.verify_duration_s:g} s of arrivals per fault."
        if search is not None
        else ""
    )
    return (
        f"Generated by `{command}`. Every figure is computed from simulated calls. Cold and warm "
        f"runs (sections 2-7): {roles['cold'] + roles['warm']} runs, {spec.replications} "
        f"replications of each (profile, mode, design), {spec.duration_s:g} s of Poisson "
        f"arrivals at {cold.rate_per_s:g} calls/s. Tails (section 8): {roles['tails']} runs of "
        f"{spec.tails_duration_s:g} s. Fault matrix (sections 8b, 9): {roles['fault']} runs, one "
        f"per (design, fault), {spec.faults_duration_s:g} s of arrivals at "
        f"{faults.rate_per_s:g} calls/s, then the drain of `scenarios/{FAULT_BASE}.toml`."
        f"{searched} Latency is measured from the planned send time. Medians carry 95 % "
        "bootstrap intervals over replications, in brackets; with few replications they are "
        "coarse (they span little more than the replications' own spread). Designs share random "
        "numbers: the n-th read of an object takes as long in every design.\n\n"
        "`cold` means `run_async` meets an object that is not in memory (a fresh order id, as in "
        "production); `warm` means a `get_status` to the same id woke the object "
        f"{warm.prewarm_ms / 1000:g} s before (a warm run's first calls, before any pre-warming, "
        "are left out). "
        'The seed\'s "~X" is read as X ± 25 % and its "0ms" as at most 1 ms. A measured figure '
        "is *within* that range when its 95 % interval meets it, else *below* or *above*. Two "
        "profiles: `seed-estimates` (fitted to the seed's baseline table, section 1) and "
        "`public-figures` (published Durable Objects figures, guesses marked in "
        "`scenarios/profiles/public-figures.toml`). The model's assumptions: `docs/platform.md`, "
        "`docs/faithfulness.md`."
    )


def _findings(comparisons: list[dict[str, Any]]) -> str:
    if not comparisons:
        return "_No comparison was computed._"
    lines = []
    for profile in dict.fromkeys(c["profile"] for c in comparisons):
        mine = [c for c in comparisons if c["profile"] == profile]
        right = [c for c in mine if c["verdict"] == "within"]
        wrong = [c for c in mine if c["verdict"] != "within"]
        lines.append(f"**{profile}**: the seed is right on {len(right)} of {len(mine)} cells.")
        for c in wrong:
            lines.append(
                f"- {c['table']} · {c['row']} · {c['mode']}: seed {c['seed']}, measured "
                f"{report.fmt(c['measured_ms'])} ms (**{c['verdict']}**): "
                f"{c['explanation']}"
            )
        lines.append("")
    return "\n".join(lines)
