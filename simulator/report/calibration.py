"""Section 1: how `seed-estimates` was fitted to the seed's baseline table, and how well."""

from __future__ import annotations

from typing import Any

from simulator.experiments import calibrate
from simulator.experiments.calibrate import load_fit_record
from simulator.report.markdown import fmt, table
from simulator.report.section import Inputs, Section, source_of


def calibration_section(inputs: Inputs) -> Section:
    return Section("calibration", calibration_text(load_fit_record()))


def calibration_text(fit: dict[str, Any] | None) -> str:
    if not fit:
        return (
            "No calibration record was found (`scenarios/profiles/seed-estimates.fit.json`); "
            "run `python -m simulator calibrate`."
        )
    parameters = ", ".join(f"`{k}` {v:.3g} ms" for k, v in fit["medians"].items())
    lines = [
        "`seed-estimates` was fitted to the seed's **baseline** breakdown only (cold and warm), by "
        f"least squares on relative residuals of the phase medians (`{source_of(calibrate)}`). "
        f"Cost {fit['start_cost']:.3f} at the seed's own mapping, {fit['cost']:.3f} after the fit. "
        f"Fitted medians: {parameters}.",
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
    return "\n".join(lines)
