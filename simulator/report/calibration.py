"""Section 1: how `seed-estimates` was fitted to the seed's baseline table, and how well."""

from __future__ import annotations

from typing import Any

from simulator.experiments import calibrate
from simulator.experiments.calibrate import FIT_RECORD, load_fit_record
from simulator.paths import PROJECT_DIR
from simulator.report.markdown import fmt, table
from simulator.report.section import Inputs, Section, source_of


def calibration_section(inputs: Inputs) -> Section:
    fit = load_fit_record()
    read = [FIT_RECORD] if fit else []
    return Section("calibration", calibration_text(fit), inputs=read)


def calibration_text(fit: dict[str, Any] | None) -> str:
    if not fit:
        return (
            f"No calibration record was found (`{FIT_RECORD.relative_to(PROJECT_DIR)}`); "
            "run `python -m simulator calibrate`."
        )
    ranges = fit.get("ranges", {})
    parameters = ", ".join(
        f"`{op}` {value:.3g} ms"
        + (f" (plausible {ranges[op][0]:g}-{ranges[op][1]:g})" if op in ranges else "")
        for op, value in fit["medians"].items()
    )
    unreached = [c for c in fit["cells"] if not c["reached"]]
    lines = [
        "`seed-estimates` was fitted to the seed's **baseline** breakdown only (cold and warm), by "
        f"least squares on relative residuals of the phase medians (`{source_of(calibrate)}`), "
        f"each median kept within its plausible range (from `{fit.get('ranges_from', '?')}`). "
        f"Cost {fit['start_cost']:.3f} at the seed's own mapping, {fit['cost']:.3f} after the fit. "
        f"Fitted medians: {parameters}. "
        f"{len(fit['cells']) - len(unreached)} of {len(fit['cells'])} cells are reached; a cell the "
        "fit cannot reach with physically plausible parameters is evidence against the seed's "
        "figure, and the last column names the parameter that would have to leave its range.",
        "",
        table(
            ["row", "mode", "seed", "fitted p50 ms", "residual", "reached", "why not"],
            [
                [
                    c["row"],
                    c["mode"],
                    c["seed"],
                    fmt(c["fitted_ms"], 1),
                    f"{c['residual']:+.2f}",
                    "yes" if c["reached"] else "**no**",
                    c.get("why", ""),
                ]
                for c in fit["cells"]
            ],
        ),
    ]
    unbounded = fit.get("unbounded")
    if unbounded:
        flagged = ", ".join(
            f"`{op}` {value:.3g} ms"
            + (" (**out of range**)" if op in unbounded["out_of_range"] else "")
            for op, value in unbounded["medians"].items()
        )
        reached = sum(c["reached"] for c in unbounded["cells"])
        lines += [
            "",
            f"_Note, not used anywhere: without the ranges the same fit reaches cost "
            f"{unbounded['cost']:.3f} and {reached} of {len(unbounded['cells'])} cells, with "
            f"{flagged}._",
        ]
    return "\n".join(lines)
