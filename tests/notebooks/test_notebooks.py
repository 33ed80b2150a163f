"""The design-review notebooks are review material: committed executed, with their charts, and
current; each has papermill's `parameters` cell and runs with other parameters."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from nbformat import NotebookNode

from tests.notebooks.execute import (
    FOLDER,
    INJECTED,
    NOTEBOOKS,
    PARAMETERS,
    execute,
    read,
    tagged,
)

# What a reviewer changes first, injected as papermill injects it: a run of a few seconds.
SHORT = {"DURATION_S": 5.0, "REPLICATIONS": 2}
REFRESH = "make notebooks"


def code_cells(notebook: NotebookNode) -> list[NotebookNode]:
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def errors(notebook: NotebookNode) -> list[str]:
    return [
        f"{cell.id}: {out.ename}: {out.evalue}"
        for cell in code_cells(notebook)
        for out in cell.outputs
        if out.output_type == "error"
    ]


def text(output: NotebookNode) -> str:
    """A stream's text, or every text form of a result (tables, reprs); images left out."""
    data = output.get("data", {})
    kinds = sorted(kind for kind in data if kind.startswith("text/"))
    return str(output.get("text", "")) + "".join(data[kind] for kind in kinds)


def text_outputs(notebook: NotebookNode) -> dict[str, list[str]]:
    """Per code cell (by id), the text of each of its outputs."""
    return {cell.id: [text(out) for out in cell.outputs] for cell in code_cells(notebook)}


def assigned(source: str) -> set[str]:
    return {
        target.id
        for node in ast.parse(source).body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }


def test_the_four_notebooks_are_there() -> None:
    assert {p.stem for p in NOTEBOOKS} == {
        "runasync-latency",
        "event-delivery",
        "recovery",
        "what-if",
    }


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_one_parameters_cell_with_the_knobs(path: Path) -> None:
    notebook = read(path)
    cells = tagged(notebook, PARAMETERS)
    assert len(cells) == 1, f"{path.name}: {len(cells)} cells tagged {PARAMETERS!r}, not one"
    (cell,) = cells
    assert cell.cell_type == "code"
    assert set(SHORT) <= assigned(cell.source), f"{path.name}: the parameters cell sets {SHORT}"
    assert not tagged(notebook, INJECTED), f"{path.name}: committed with injected parameters"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_executed_with_a_picture_in_each_chart_cell(path: Path) -> None:
    notebook = read(path)
    cells = code_cells(notebook)
    stale = f"{path.name} is not committed executed top to bottom: run {REFRESH}"
    assert [cell.execution_count for cell in cells] == list(range(1, len(cells) + 1)), stale
    assert not errors(notebook)
    charts = [cell for cell in cells if "plt.show()" in cell.source]
    assert charts, f"{path.name} draws no chart"
    for cell in charts:
        kinds = [kind for out in cell.outputs for kind in out.get("data", {})]
        assert "image/png" in kinds, f"{path.name}, cell {cell.id}: a chart without its image"
    volatile = [cell.id for cell in notebook.cells if "execution" in cell.metadata]
    assert not volatile, f"{path.name}: execution timings recorded in cells {volatile}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_outputs_are_current_and_parameters_take_effect(path: Path) -> None:
    """Executed with its defaults, the notebook gives its committed text outputs; then a shorter
    run, injected as papermill injects it, runs to the end (an error fails the test) and changes
    them. Both runs in one kernel: a few seconds."""
    fresh, short = execute(path, ({}, SHORT))
    before = text_outputs(read(path))
    assert text_outputs(fresh) == before, f"{path.name}: committed outputs are stale; run {REFRESH}"
    (defaults,) = tagged(short, PARAMETERS)
    (injected,) = tagged(short, INJECTED)
    assert short.cells.index(injected) == short.cells.index(defaults) + 1
    after = text_outputs(short)
    assert any(after[cell] != before[cell] for cell in before), (
        f"{path.name}: the injected {SHORT} changed no output"
    )


def test_notebooks_are_linted_and_formatted() -> None:
    for command in (["check"], ["format", "--check"]):
        result = subprocess.run(
            [sys.executable, "-m", "ruff", *command, str(FOLDER)], capture_output=True, text=True
        )
        assert result.returncode == 0, result.stdout
