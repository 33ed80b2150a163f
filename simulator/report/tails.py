"""The tail of run_async: p50 to max per design, with intervals, and the calls that never ended."""

from __future__ import annotations

import pandas as pd

from simulator.measure.rows import select
from simulator.measure.stats import latency_stats, quantile_cis


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
