"""The tail of run_async: p50 to max per design, with intervals, and the calls that never ended."""

from __future__ import annotations

import itertools

import pandas as pd

from engine.phases import EVENT_FLUSH
from engine.tracker import TRACKERS
from simulator.experiments.jobs import TAILS, Role
from simulator.experiments.suite import TAILS_SCENARIO
from simulator.measure.rows import phase_column, select
from simulator.measure.stats import Estimate, latency_stats, quantile_cis
from simulator.model.distributions import Mixture
from simulator.model.scenario import load_scenario
from simulator.report import plots
from simulator.report.highlight import featured, latencies
from simulator.report.markdown import frame_table
from simulator.report.section import Inputs, Section, figure_link

#: Designs whose tails differ by less than this at every compared percentile share a line.
ALIKE = 0.03
#: The seed's "2-3+ seconds": the share of calls past this many seconds is shown.
OVER_S = 2.0


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
                "p99_ci95": [p99.low, p99.high],
                "p999_ci95": [p999.low, p999.high],
                "share_over_2s": float((finished["latency_ms"] > OVER_S * 1000).mean())
                if len(finished)
                else float("nan"),
                "errors": int((finished["outcome"] != "ok").sum()),
                "unfinished": int(len(calls) - len(finished)),
            }
        )
    return pd.DataFrame(out)


def tracker_retries_text() -> str:
    """The tails scenario's tracker's retry schedule in words: the delays and where they put an
    awaited call."""
    delays = TRACKERS[load_scenario(TAILS_SCENARIO).engine.tracker].retry_delays_ms
    waits = ", then ".join(f"{d / 1000:g} s" for d in delays)
    after = list(itertools.accumulate(delays))
    past = f"one failed POST puts the call past {after[0] / 1000:g} s"
    if len(after) > 1:
        past += f", two past {after[1] / 1000:g} s"
    return f"the tracker's retries, {waits}: {past}"


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


def awaited_or_not(frame: pd.DataFrame, calls: pd.DataFrame) -> str:
    """The seed's "2-3+ seconds" against the designs whose run_async answer waits for the flush
    to the tracker (as measured: time in its event-flush phase) and those whose does not: the
    share of their calls past the mark and their worst p99."""
    flushing = calls.groupby("design")[phase_column(EVENT_FLUSH)].mean()
    waits = frame["design"].map(lambda d: flushing.get(d, 0.0) > 0)
    parts = []
    for chosen, which in ((waits, "waits"), (~waits, "does not wait")):
        group = frame[chosen]
        if len(group):
            parts.append(
                f"the {len(group)} design{'s' if len(group) > 1 else ''} whose answer {which} "
                "for the flush "
                f"({', '.join(f'`{d}`' for d in group['design'])}): up to "
                f"{group['share_over_2s'].max():.1%} of calls past {OVER_S:g} s, p99 at most "
                f"{group['p99_ms'].max():,.0f} ms"
            )
    return 'Against the seed\'s "2-3+ seconds": ' + "; ".join(parts) + "."


def _with_intervals(frame: pd.DataFrame, quantile: str) -> list[str]:
    """'value [low, high]' of a quantile column and its interval column, for a table."""
    pairs = zip(frame[f"{quantile}_ms"], frame[f"{quantile}_ci95"], strict=True)
    return [Estimate(value, *interval).text() for value, interval in pairs]


def tails_title(frame: pd.DataFrame, profile: str) -> str:
    """What the tails figure shows: the design with the longest tail against the others."""
    worst = frame.sort_values("p99_ms").iloc[-1]
    others = frame[frame["design"] != worst["design"]]
    text = (
        f"With a degraded tracker, {worst['design']} has the longest tail: p99 "
        f"{worst['p99_ms']:,.0f} ms"
    )
    if worst["share_over_2s"] > 0:
        text += f", {worst['share_over_2s']:.1%} of its calls past {OVER_S:g} s"
    if len(others):
        text += f"\nthe other {len(others)} designs: p99 at most {others['p99_ms'].max():,.0f} ms"
    return f"{text} ({profile})"


def tails_section(inputs: Inputs) -> Section:
    rows = inputs.rows
    tail_rows = rows[rows["role"] == str(Role(TAILS))]
    frame = tails(tail_rows, list(dict.fromkeys(tail_rows["design"])))
    shown = frame.assign(
        share_over_2s=(frame["share_over_2s"] * 100).map("{:.1f} %".format),
        p99_ci=_with_intervals(frame, "p99"),
        p999_ci=_with_intervals(frame, "p999"),
    )
    profile = str(tail_rows["profile"].iloc[0])
    calls = select(tail_rows, call="run_async", mode="cold")
    lines = plots.Lines(latencies(calls), featured(inputs, profile), ALIKE)
    path = plots.tails_plot(
        lines, inputs.figure("tails.png"), tails_title(frame, profile), OVER_S * 1000
    )
    worst = frame.sort_values("max_ms").iloc[-1]
    return Section(
        "tails",
        f"`run_async` (cold) under `{profile}` while {describe_tracker_faults()} "
        f"(`scenarios/{TAILS_SCENARIO}.toml`). A flush that is awaited pays "
        f"{tracker_retries_text()}. {awaited_or_not(frame, calls)} The worst call here is "
        f"`{worst['design']}`'s at {worst['max_ms']:,.0f} ms. p99 and p99.9 carry 95 % "
        "bootstrap intervals over replications.\n\n"
        + frame_table(
            shown,
            {
                "design": "design",
                "n": "n",
                "p50_ms": "p50",
                "p95_ms": "p95",
                "p99_ci": "p99 [95% CI]",
                "p999_ci": "p99.9 [95% CI]",
                "max_ms": "max",
                "share_over_2s": f"share > {OVER_S:g} s",
                "errors": "errors",
                "unfinished": "unfinished",
            },
            digits=0,
        )
        + "\n\n"
        + figure_link(path, "tails"),
        {"tails": frame.to_dict("records")},
        [path],
    )
