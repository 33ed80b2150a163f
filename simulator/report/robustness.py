"""Section 12: each verdict on the seed and each key claim, robust or fragile across the guesses."""

from __future__ import annotations

from typing import Any

from simulator.experiments.robustness import Label, Robustness
from simulator.measure.seed_cells import CellKey
from simulator.report.markdown import table
from simulator.report.section import Inputs, Section


def label_of(robustness: Robustness | None, profile: str, key: CellKey) -> Label | None:
    if robustness is None or robustness.profile != profile:
        return None
    return robustness.cells.get(key)


def robustness_section(inputs: Inputs) -> Section:
    found = inputs.robustness
    if found is None:
        raise ValueError("no robustness check ran")
    cells = list(found.cells.items())
    robust = sum(label.robust for _, label in cells)
    text = (
        f"Every guess of `{found.profile}` ({len(found.parameters)} parameters, each with a "
        "plausible range in the profile file) moved alone to each end of its range: "
        f"{found.points} points, each running the designs the verdicts need for {found.duration_s:g} s "
        "of cold and of warm arrivals, with the random numbers of the nominal point. A verdict "
        "that stays the same at every end is **robust**; one that changes is **fragile**, with "
        "the first value of a parameter at which it flips. The nominal verdict here comes from "
        "these short runs and may differ from the tables' (which use longer runs and an "
        f"interval). {robust} of {len(cells)} verdicts on the seed are robust to each guess "
        "moved alone; guesses moved together can flip more (`python -m simulator sweep public-figures-guesses` with "
        "Latin-hypercube points looks inside the ranges jointly).\n\n"
    )
    rows: list[list[Any]] = [
        [f"{t} · {r}", m, label.nominal, label.text()] for (t, r, m), label in cells
    ]
    claims = [[claim, "", label.nominal, label.text()] for claim, label in found.claims.items()]
    text += table(["cell or claim", "mode", "nominal", "robust?"], rows + claims)
    return Section("robustness", text, {"robustness": found.record()})
