"""Turn a finished (or part-finished) suite into `reports/bench/`: README.md, figures,
results.json and rows.parquet.

The report is a list of sections (`simulator.report.section`), each computed from the suite's
rows; a section that cannot be computed becomes a note saying why, and the rest is still written.
The answer, the key findings and the seed's verdicts come last in computing and first in reading:
they summarise the sections' data. A table cell too long to read in a table (the model's "why" of
a verdict) moves to a footnote at the end.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from string import ascii_lowercase
from typing import Any

from simulator.experiments.robustness import Robustness
from simulator.experiments.search import SearchResult
from simulator.experiments.suite import SuiteResults, describe
from simulator.measure.rows import measured
from simulator.model.profile import load_profile
from simulator.model.scenario import load_scenario
from simulator.report import results
from simulator.report.calibration import calibration_section
from simulator.report.correctness import best_design_section, correctness_section
from simulator.report.cost import cost_section, workflow_cost_section
from simulator.report.latency_figures import latency_figures_section
from simulator.report.markdown import Footnotes
from simulator.report.parallel import run_parts
from simulator.report.robustness import robustness_section
from simulator.report.section import FIGURES, Inputs, Section, guarded
from simulator.report.seed_checks import (
    breakdown_section,
    cumulative_section,
    expected_section,
    totals_section,
)
from simulator.report.summary import (
    answer_section,
    intro_section,
    key_findings_section,
    merged,
    seed_findings_section,
)
from simulator.report.tails import tails_section
from simulator.report.validation import validation_section
from simulator.whole_files import write_text, writing

SectionBuilder = Callable[[Inputs], Section]

TITLE = "# run_async: the seed's analysis, tested"

#: What a report folder holds (`bench --out` refuses a folder that holds anything else).
REPORT_ENTRIES = frozenset({"README.md", "results.json", "rows.parquet", FIGURES})

#: Per profile of the cold and warm runs, in reading order: (number, title, builder); the
#: profile's letter follows the number (2a, 2b...).
PROFILE_SECTIONS: tuple[tuple[int, str, Callable[[Inputs, str], Section]], ...] = (
    (2, "The seed's breakdown, measured", breakdown_section),
    (3, "What each change buys", expected_section),
    (4, "The seed's priority order, cumulatively", cumulative_section),
    (5, "Optimized totals", totals_section),
    (6, "Where the time goes", latency_figures_section),
    (7, "Storage operations and cost", cost_section),
)

#: results.json's report sections, in order; lists are gathered across profiles.
RESULT_LISTS = ("seed_comparison", "cumulative", "tails", "cost", "workflow_cost", "correctness")


def _for_profile(build: Callable[[Inputs, str], Section], profile: str) -> SectionBuilder:
    return lambda inputs: build(inputs, profile)


def sections_of(inputs: Inputs) -> list[tuple[str, SectionBuilder]]:
    """Every section after the introduction, in reading order, as (title, builder)."""
    chosen: list[tuple[str, SectionBuilder]] = [
        ("1. Calibration of `seed-estimates`", calibration_section)
    ]
    rows = measured(inputs.rows)
    profiles = list(dict.fromkeys(rows["profile"])) if not rows.empty else []
    for letter, profile in zip(ascii_lowercase, profiles, strict=False):
        chosen += [
            (f"{number}{letter}. {title} ({profile})", _for_profile(build, profile))
            for number, title, build in PROFILE_SECTIONS
        ]
    chosen += [
        ("8. Tails with a degraded tracker", tails_section),
        ("9. What a whole workflow costs", workflow_cost_section),
        ("10. What each change costs in correctness", correctness_section),
    ]
    if inputs.search is not None:
        chosen.append(("11. The best design", best_design_section))
    if inputs.robustness is not None:
        chosen.append(
            ("12. Robust or fragile: the verdicts across the guesses", robustness_section)
        )
    chosen.append(("13. The simulated platform against workerd", validation_section))
    return chosen


def write_bench(
    suite: SuiteResults,
    out_dir: Path,
    command: str,
    search: SearchResult | None = None,
    robustness: Robustness | None = None,
    processes: int = 1,
) -> tuple[list[Path], list[str]]:
    """Write the report for the suite into `out_dir`, its sections built on `processes`
    processes; answer the files written and the sections that could not be computed."""
    out_dir.mkdir(parents=True, exist_ok=True)
    if not suite.results:
        readme = out_dir / "README.md"
        write_text(readme, f"{TITLE}\n\n**This run stopped before any simulation finished.**\n")
        return [readme], []
    rows, stats = suite.rows(), suite.stats()
    inputs = Inputs(suite, rows, out_dir, command, search, robustness)
    inputs.figures.mkdir(exist_ok=True)
    written: list[Path] = []
    if not rows.empty:
        with writing(out_dir / "rows.parquet") as unfinished:
            rows.to_parquet(unfinished, index=False)
        written.append(out_dir / "rows.parquet")

    intro = guarded("How to read this report", lambda: intro_section(inputs))
    sections = [
        partial(guarded, title, partial(build, inputs)) for title, build in sections_of(inputs)
    ]
    runs, *body = run_parts([partial(results.run_summaries, rows, stats), *sections], processes)
    body.append(
        guarded(
            "Where the seed is right, and where it is wrong",
            lambda: seed_findings_section(inputs, body),
        )
    )
    key = guarded("Key findings", lambda: key_findings_section(inputs, body))
    answer = guarded("The answer", lambda: answer_section(inputs, body))
    everything = [answer, key, intro, *body]
    problems = [f"{s.title}: {s.problem}" for s in [intro, *body, key, answer] if s.problem]
    notes = Footnotes()
    parts = [notes.tables(s.render()) for s in everything]
    if notes.numbers:
        parts.append(notes.render() + "\n")
    if problems:
        parts.append(
            "## Problems while writing this report\n\n"
            + "\n".join(f"- `{p}`" for p in problems)
            + "\n"
        )
    head = f"{TITLE}\n\n" + (
        "" if suite.complete else "**This run did not finish: the tables hold what completed.**\n\n"
    )
    readme = out_dir / "README.md"
    write_text(readme, head + "\n".join(parts))
    written += [path for s in body for path in s.files]
    written.append(readme)

    report_data: dict[str, Any] = {name: merged(body, name) for name in RESULT_LISTS}
    for name in ("best_design", "robustness", "validation"):
        value = next((s.data[name] for s in body if name in s.data), None)
        if value is not None:
            report_data[name] = value
    scenarios = [load_scenario(name) for name in sorted({r.scenario for r in suite.results})]
    profiles = [load_profile(name) for name in sorted(set(rows["profile"]))]
    files = [s.path for s in scenarios] + [p.path for p in profiles]
    read = [Path(f) for f in files if f is not None] + [p for s in body for p in s.inputs]
    seeds = {scenario.name: scenario.seed for scenario in scenarios}
    document = results.build(
        command, describe(suite.spec), seeds, rows, runs, report_data, suite.complete, read
    )
    written.append(results.write(document, out_dir / "results.json"))
    return written, problems
