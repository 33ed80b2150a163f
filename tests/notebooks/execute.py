"""Executing the design-review notebooks as papermill does, and writing them back with outputs.

Parameters are injected in a new cell after the notebook's `parameters` cell (tagged
`injected-parameters`), so a later assignment wins. Nothing that changes from one run to the next
is recorded (no cell timings, no kernel details): re-executing gives a diff only where results
changed. `make notebooks` (`python -m tests.notebooks.execute`) rewrites the committed notebooks
with fresh outputs, after a change to a notebook or to what it simulates.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient
from nbformat import NotebookNode

FOLDER = Path(__file__).resolve().parents[2] / "scenarios" / "notebooks"
NOTEBOOKS = sorted(FOLDER.glob("*.ipynb"))
PARAMETERS = "parameters"  # papermill's tag for the cell of defaults
INJECTED = "injected-parameters"  # papermill's tag for the cell it adds after it


def read(path: Path) -> NotebookNode:
    notebook: NotebookNode = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]
    return notebook


def tagged(notebook: NotebookNode, tag: str) -> list[NotebookNode]:
    return [cell for cell in notebook.cells if tag in cell.metadata.get("tags", [])]


def inject(notebook: NotebookNode, parameters: dict[str, Any]) -> None:
    """Papermill's injection: a cell assigning `parameters`, right after the parameters cell."""
    (defaults,) = tagged(notebook, PARAMETERS)
    source = "".join(f"{name} = {value!r}\n" for name, value in parameters.items())
    cell = nbformat.v4.new_code_cell(  # type: ignore[no-untyped-call]
        "# Parameters\n" + source, id=INJECTED, metadata={"tags": [INJECTED]}
    )
    notebook.cells.insert(notebook.cells.index(defaults) + 1, cell)


def execute(path: Path, runs: Sequence[dict[str, Any]] = ({},)) -> list[NotebookNode]:
    """The notebook at `path` run top to bottom in its folder, once for each set of parameters in
    `runs` (injected; `{}`: the defaults). The runs follow one another in one kernel, the first in
    a fresh one; each later run executes every cell again, paying neither a kernel's start nor
    the imports."""
    notebooks = [read(path) for _ in runs]
    for notebook, parameters in zip(notebooks, runs, strict=True):
        if parameters:
            inject(notebook, parameters)
    client = NotebookClient(
        notebooks[0],
        timeout=120,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    with client.setup_kernel():
        for notebook in notebooks:
            client.nb = notebook
            client.reset_execution_trackers()
            for index, cell in enumerate(notebook.cells):
                client.execute_cell(cell, index, execution_count=client.code_cells_executed + 1)
    return notebooks


def main() -> None:
    for path in NOTEBOOKS:
        started = time.perf_counter()
        (notebook,) = execute(path)
        nbformat.write(notebook, path)  # type: ignore[no-untyped-call]
        print(f"{path.name}: executed in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
