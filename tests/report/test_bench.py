"""The report is computed from simulation rows, covers every seed cell, and validates."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from importlib.metadata import version
from pathlib import Path
from typing import Any

import jsonschema
import pandas as pd
import pytest

from simulator.experiments.jobs import COLD, Role, run_jobs
from simulator.experiments.run import rows_frame
from simulator.experiments.suite import standard_jobs
from simulator.model.fault_matrix import FAULTS
from simulator.model.profile import Constant
from simulator.model.seed import seed_cells
from simulator.report import seed_checks
from simulator.report.markdown import CELL_LIMIT
from simulator.report.results import schema
from simulator.report.summary import recommendation
from simulator.report.validation import noise_verdict
from tests.report.conftest import TINY

ROOT = Path(__file__).resolve().parents[2]


def test_the_bench_writes_its_report_figures_json_and_rows(tiny_bench: Path) -> None:
    for name in ("README.md", "results.json", "rows.parquet"):
        assert (tiny_bench / name).exists(), name
    figures = {p.name for p in (tiny_bench / "figures").glob("*.png")}
    for profile in ("seed-estimates", "public-figures"):
        assert {
            f"waterfall-{profile}.png",
            f"cdf-cold-{profile}.png",
            f"cdf-warm-{profile}.png",
            f"ablation-{profile}.png",
        } <= figures
    assert {"tails.png", "tradeoff.png"} <= figures
    # the fault × design counts are heatmaps, one figure per profile of the fault matrix
    document = json.loads((tiny_bench / "results.json").read_text())
    assert {f"faults-{c['profile']}.png" for c in document["correctness"]} <= figures
    readme = (tiny_bench / "README.md").read_text()
    assert "could not be computed" not in readme
    assert "Where the seed is right, and where it is wrong" in readme
    assert "## Key findings" in readme and "its largest cold phase is" in readme
    for name in figures:  # every figure is shown in the report
        assert f"(figures/{name})" in readme, name


def _table_cells(markdown: str) -> list[str]:
    return [
        cell.strip()
        for line in markdown.splitlines()
        if line.startswith("| ") and line.endswith(" |")
        for cell in re.split(r"(?<!\\)\|", line)[1:-1]
    ]


def test_long_table_cells_move_to_footnotes(tiny_bench: Path) -> None:
    readme = (tiny_bench / "README.md").read_text()
    cells = _table_cells(readme)
    assert cells and max(map(len, cells)) <= CELL_LIMIT
    referenced = set(re.findall(r"\[\^(\d+)\](?!:)", readme))
    defined = re.findall(r"^\[\^(\d+)\]: (.+)$", readme, flags=re.MULTILINE)
    assert referenced and referenced == {number for number, _ in defined}
    texts = [text for _, text in defined]
    assert len(texts) == len(set(texts))  # a text repeated in many cells is one footnote
    # the model's reasons are still there, whole: in the footnotes
    assert any(
        "the nine getState reads the seed counts run in the alarm handler" in t for t in texts
    )


def test_no_section_repeats_the_why_of_another(tiny_bench: Path) -> None:
    readme = (tiny_bench / "README.md").read_text()
    findings = readme.split("## Where the seed is right, and where it is wrong", 1)[1]
    assert "alarm handler" not in findings.split("[^1]:", 1)[0]


def test_results_json_validates_against_its_schema(tiny_bench: Path) -> None:
    document = json.loads((tiny_bench / "results.json").read_text())
    jsonschema.validate(document, schema())
    assert document["schema_version"] == 2 and document["complete"] is True
    run = next(
        r
        for r in document["runs"]
        if r["design"] == "baseline"
        and r["mode"] == "cold"
        and r["call"] == "run_async"
        and r["profile"] == "public-figures"
    )
    assert run["n"] > 0 and run["p50_ms"] <= run["p99_ms"] <= run["max_ms"]
    assert run["ops"]["http"] == pytest.approx(1.0)
    assert "event-flush" in run["phases"]


def _objects(node: Any) -> Iterator[dict[str, Any]]:
    """Every object schema inside a schema."""
    if isinstance(node, dict):
        if node.get("type") == "object":
            yield node
        for value in node.values():
            yield from _objects(value)
    elif isinstance(node, list):
        for value in node:
            yield from _objects(value)


def test_the_schema_describes_every_field_and_admits_no_other(tiny_bench: Path) -> None:
    for node in _objects(schema()):
        assert "additionalProperties" in node, node.get("description")
        for name, field in node.get("properties", {}).items():
            assert field.get("description"), f"field {name!r} has no description"
    document = json.loads((tiny_bench / "results.json").read_text())
    document["runs"][0]["p50_ci"] = "809 [751, 877]"  # an undescribed field, as text
    with pytest.raises(jsonschema.ValidationError, match="p50_ci"):
        jsonschema.validate(document, schema())


def test_results_json_says_where_it_came_from(tiny_bench: Path) -> None:
    provenance = json.loads((tiny_bench / "results.json").read_text())["provenance"]
    assert provenance["harness_version"] == version("runasync-harness")
    assert provenance["dependencies"]["simpy"] == version("simpy")
    profile = ROOT / "scenarios" / "profiles" / "public-figures.toml"
    digest = hashlib.sha256(profile.read_bytes()).hexdigest()
    assert provenance["inputs_sha256"]["scenarios/profiles/public-figures.toml"] == digest
    assert "scenarios/cold-start.toml" in provenance["inputs_sha256"]
    git = provenance["git"]
    assert re.fullmatch("[0-9a-f]{40}", git["commit"] or ""), git
    assert isinstance(git["dirty"], bool), git
    # the commit checked out when the bench ran: HEAD, or an ancestor if a commit came since
    here = subprocess.run(["git", "merge-base", "--is-ancestor", git["commit"], "HEAD"], cwd=ROOT)
    assert here.returncode == 0, git


def test_the_bench_shows_the_last_validation_against_workerd(tiny_bench: Path) -> None:
    last = json.loads((ROOT / "reports" / "validate" / "validation.json").read_text())
    met = sum(bool(r["p50_holds"]) and bool(r["p95_holds"]) for r in last["validation"])
    readme = (tiny_bench / "README.md").read_text()
    section = readme.split("## 13. The simulated platform against workerd", 1)[1]
    assert f"{met} of {len(last['validation'])} (design, mode) cells meet the goal" in section
    missed = [r for r in last["validation"] if not (r["p50_holds"] and r["p95_holds"])]
    noise = sum(noise_verdict(r) == "yes" for r in missed)
    assert (
        f"and {noise} of the {len(missed)} that miss are within the measurement's noise" in section
    )
    document = json.loads((tiny_bench / "results.json").read_text())
    assert document["validation"] == {
        "cells_met": met,
        "cells": len(last["validation"]),
        "misses_within_noise": noise,
    }


def test_every_seed_cell_appears_in_the_comparison_for_every_profile(tiny_bench: Path) -> None:
    document = json.loads((tiny_bench / "results.json").read_text())
    seen = {(c["profile"], c["table"], c["row"], c["mode"]) for c in document["seed_comparison"]}
    for profile in ("seed-estimates", "public-figures"):
        for cell in seed_cells():
            assert (profile, cell.table, cell.row, cell.mode) in seen, (profile, cell)


def test_rows_parquet_holds_one_row_per_call(tiny_bench: Path) -> None:
    rows = pd.read_parquet(tiny_bench / "rows.parquet")
    assert {"profile", "design", "replication", "call", "mode", "latency_ms", "role"} <= set(
        rows.columns
    )
    assert {"cold", "warm", "tails"} <= set(rows["role"])
    assert {r.split(":")[0] for r in rows["role"]} == {"cold", "warm", "tails", "fault"}


def _breakdown_for(read_ms: float) -> dict[tuple[str, str], float]:
    jobs = [
        j
        for j in standard_jobs(TINY)
        if j.role == Role(COLD)
        and j.design.label() == "baseline"
        and j.profile.name == "public-figures"
    ]
    jobs = [replace(j, profile=j.profile.with_ops({"read": Constant(read_ms)})) for j in jobs]
    rows = rows_frame(list(run_jobs(jobs)))
    return {
        (c["row"], c["mode"]): c["measured_ms"]
        for c in seed_checks.breakdown(rows)
        if c["mode"] == "cold"
    }


def test_the_tables_are_computed_from_the_simulation() -> None:
    # The constructor's recovery check is one storage read on a fresh object: change the read
    # latency in the profile and that cell follows it exactly.
    slow, fast = _breakdown_for(250.0), _breakdown_for(5.0)
    assert slow[("Constructor Recovery Check", "cold")] == pytest.approx(250.0)
    assert fast[("Constructor Recovery Check", "cold")] == pytest.approx(5.0)
    assert slow[("Total", "cold")] > fast[("Total", "cold")] + 200


def test_make_bench_quick_end_to_end(tiny_bench: Path) -> None:
    out = tiny_bench
    document = json.loads((out / "results.json").read_text())
    jsonschema.validate(document, schema())
    assert document["command"] == "python -m simulator bench --quick"
    best = document["best_design"]
    mine = [c for c in document["correctness"] if c["design"] == best["name"]]
    assert {c["fault"] for c in mine} == set(FAULTS)
    assert all(c["orphaned"] == 0 for c in mine)
    assert all(entry["floor_ratio_p50"] >= 1.0 for entry in best["latency"])
    readme = (out / "README.md").read_text()
    # the first screen names the best design and its numbers, beside the baseline's
    first_screen = "\n".join(readme.splitlines()[:25])
    assert first_screen.index("## The answer") < first_screen.index("## Key findings")
    assert f"**Use `{best['name']}`**" in first_screen
    for entry in best["latency"]:
        assert f" {entry['p50_ms']:,.0f} |" in first_screen, entry
    baseline = [
        r for r in document["runs"] if r["design"] == "baseline" and r["call"] == "run_async"
    ]
    assert any(f" {r['p50_ms']:,.0f} |" in first_screen for r in baseline)
    answer = first_screen.split("## Key findings", 1)[0]
    assert re.search(
        rf"\| `{re.escape(best['name'])}` \| best design \|( [\d,]+ \|){{4}} 0 \| 0 \|", answer
    )
    # then what was fitted, what was predicted and which guesses count
    findings = readme.split("## Key findings", 1)[1].split("## 1.", 1)[0]
    fitted = [c for c in document["seed_comparison"] if c["fitted"]]
    assert {(c["profile"], c["table"]) for c in fitted} == {("seed-estimates", "breakdown")}
    predicted = len(document["seed_comparison"]) - len(fitted)
    assert f"Predicted: the other {predicted} comparisons" in findings
    assert "`stub_check.median`" in findings  # a guess the verdicts rest on
    assert "$ / million workflows" in answer  # the best design's cost beside the baseline's


def test_the_answer_recommends_only_a_design_checked_under_every_fault() -> None:
    every = set(FAULTS)
    assert recommendation("alarm-flush", every) == "**Use `alarm-flush`**"
    partial = recommendation("alarm-flush", every - {"restarts", "crashes"})
    assert partial.startswith("**Not verified here: `alarm-flush`**")
    assert "under crashes, restarts" in partial
    assert recommendation("alarm-flush", set()).startswith("**Not verified here")
