"""Section 12: the simulated platform against workerd, from the last `make validate`.

Measuring workerd takes real time (about 11 minutes), so `make bench` does not run it; it shows
the last validation run (`reports/validate/validation.json`) and says whether this machine can
run a new one.
"""

from __future__ import annotations

import json
from typing import Any

from simulator.paths import PACKAGE_DIR
from simulator.report.markdown import fmt, table
from simulator.report.section import Inputs, Section
from simulator.runtime.live.workerd import unavailable_reason

VALIDATION = PACKAGE_DIR.parent / "reports" / "validate" / "validation.json"


def validation_section(inputs: Inputs) -> Section:
    reason = unavailable_reason()
    here = (
        "Node.js and workerd are available here: `make validate` measures them again."
        if reason is None
        else f"The live runtime cannot run on this machine ({reason})."
    )
    if not VALIDATION.exists():
        return Section("validation", f"No validation has been run yet. {here}")
    document: dict[str, Any] = json.loads(VALIDATION.read_text())
    rows, probes = document["validation"], document["conformance"]
    met = sum(bool(r.get("p50_holds")) and bool(r.get("p95_holds")) for r in rows)
    agree = sum(bool(p["agree"]) for p in probes)
    text = (
        f"From the last `make validate` (`reports/validate/README.md`, where each miss is "
        f"explained). {here} The same plans of calls on workerd and on the simulated platform "
        f"under the `local-workerd` profile fitted to workerd: {met} of {len(rows)} (design, "
        f"mode) cells meet the goal (p50 within 15 % or 2 ms, p95 within 25 %); {agree} of "
        f"{len(probes)} rule probes agree.\n\n"
        + table(
            ["design", "mode", "p50 sim", "p50 workerd", "ratio"],
            [
                [
                    r["design"],
                    r["mode"],
                    fmt(r.get("p50_predicted_ms"), 1),
                    fmt(r.get("p50_measured_ms"), 1),
                    fmt(r.get("p50_ratio"), 2),
                ]
                for r in rows
            ],
        )
    )
    return Section("validation", text, {"validation": {"cells_met": met, "cells": len(rows)}})
