"""What calls and workflows cost: storage operations, billed units, and dollars.

Prices are Cloudflare's paid plan (developers.cloudflare.com/durable-objects/platform/pricing/).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from simulator.experiments.jobs import FAULT, Role
from simulator.measure.rows import PHASE, mean_of, measured, phase_column, phase_total, run_async
from simulator.model.fault_matrix import NO_FAULT
from simulator.report.markdown import frame_table
from simulator.report.section import Inputs, Section
from simulator.runtime import phases

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


# Prices, paid plan (developers.cloudflare.com/durable-objects/platform/pricing/).
PRICE_REQUEST = 0.15 / 1e6  # per request (each RPC call, each alarm invocation)
PRICE_GB_S = 12.50 / 1e6  # per GB-second of duration, billed at 128 MB while active
PRICE_READ_UNIT = 0.20 / 1e6  # KV-backed storage, per 4 KB read unit
PRICE_WRITE_UNIT = 1.00 / 1e6  # KV-backed storage, per 4 KB write unit
BILLED_GB = 0.128


def active_ms(calls: pd.DataFrame) -> pd.Series:
    """How long each call kept its object busy: its time on the object (without the client's
    stub check and hop) plus the background work it left running after answering."""
    background = tuple(
        c.removeprefix(PHASE)
        for c in calls.columns
        if c.startswith(phase_column(phases.BACKGROUND))
    )
    on_object = (calls["end_ms"] - calls["start_ms"]) - phase_total(
        calls, (phases.STUB, phases.RPC)
    )
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
        reads, writes = mean_of(calls, "ops_read_units"), mean_of(calls, "ops_write_units")
        row: dict[str, Any] = {"design": design}
        for kind in COST_OPS:
            row[kind] = mean_of(calls, f"ops_{kind}")
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


def cost_section(inputs: Inputs, profile: str) -> Section:
    mine = measured(inputs.rows)
    mine = mine[mine["profile"] == profile]
    frame = cost(mine, list(dict.fromkeys(mine["design"])))
    return Section(
        "cost",
        "Storage operations per cold `run_async` call (mean) and dollars per million "
        "calls: one request, read and write units (KV-backed prices) and "
        f"{BILLED_GB * 1000:g} MB of duration while the object works on the call.\n\n"
        + frame_table(
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
        ),
        {"cost": [{"profile": profile, **r} for r in frame.to_dict("records")]},
    )


def workflow_cost_section(inputs: Inputs) -> Section:
    rows = inputs.rows
    base = rows[rows["role"] == str(Role(FAULT, NO_FAULT))]
    frame = workflow_cost(base, list(dict.fromkeys(base["design"])))
    return Section(
        "workflow cost",
        "What a whole workflow costs: its `run_async` (or `run`) and every alarm after it "
        "(start, resume, purge), measured on the fault-matrix scenario without faults, whose "
        "runs last long enough for every workflow to end and be purged. Per workflow, mean; "
        "dollars per million workflows.\n\n"
        + frame_table(
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
        ),
        {"workflow_cost": frame.to_dict("records")},
    )
