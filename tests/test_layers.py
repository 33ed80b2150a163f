"""Imports run one way: from a layer to the layers below it, never up, and never in a cycle.

The layers, bottom to top (README, "Layout"): the engine; the simulator's errors, paths and whole-file writing; the
runtime's interface and shared parts; the runtimes themselves; the runtime registry; model
inputs; measures; experiments; the report; the CLI. Every import counts, those under
`TYPE_CHECKING` too: a cycle hidden from the interpreter is still a cycle for the reader.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: Bottom to top. Within a layer, a module may import only from its own entry.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("engine",),
    ("simulator.errors", "simulator.paths", "simulator.whole_files"),
    ("simulator.runtime",),
    ("simulator.runtime.instant", "simulator.runtime.simulated"),
    ("simulator.runtime.live",),
    ("simulator.runtime.registry",),
    ("simulator.model",),
    ("simulator.measure",),
    ("simulator.experiments",),
    ("simulator.report",),
    ("simulator.cli",),
    ("simulator.__main__",),
)


def modules(root: Path) -> dict[str, Path]:
    found = {}
    for package in ("engine", "simulator"):
        for path in (root / package).rglob("*.py"):
            name = ".".join(path.relative_to(root).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def imports(root: Path) -> dict[str, set[str]]:
    """Each module's imports of the project's own modules."""
    known = modules(root)
    graph: dict[str, set[str]] = {}
    for name, path in known.items():
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                # `from package import module` imports the module; `from module import name`
                # imports the module
                targets = [
                    f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in known else node.module
                    for a in node.names
                ]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            deps.update(t for t in targets if t in known and t != name)
        graph[name] = deps
    return graph


def place(module: str) -> tuple[int, str] | None:
    """The layer of a module and the entry it belongs to (the longest matching prefix)."""
    best: tuple[int, str] | None = None
    for level, entries in enumerate(LAYERS):
        for entry in entries:
            if (module == entry or module.startswith(entry + ".")) and (
                best is None or len(entry) > len(best[1])
            ):
                best = (level, entry)
    return best


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    problems = []
    for module, deps in sorted(graph.items()):
        here = place(module)
        if here is None:
            if module not in ("simulator",):
                problems.append(f"{module} is in no layer")
            continue
        for dep in sorted(deps):
            there = place(dep)
            if there is None:
                continue
            if there[0] > here[0] or (there[0] == here[0] and there[1] != here[1]):
                problems.append(f"{module} imports {dep}, which is above it or beside it")
    return problems


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import cycle, found by depth-first search (each reported once, from its first node)."""
    found: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                found.append([*path[path.index(dep) :], dep])
            elif dep not in state:
                visit(dep)
        path.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def test_no_import_runs_up_a_layer() -> None:
    assert upward_imports(imports(ROOT)) == []


def test_there_is_no_import_cycle() -> None:
    assert cycles(imports(ROOT)) == []


def _copy(tmp_path: Path) -> Path:
    for package in ("engine", "simulator"):
        shutil.copytree(ROOT / package, tmp_path / package)
    return tmp_path


def test_a_planted_upward_import_is_caught(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    storage = root / "simulator" / "runtime" / "storage.py"
    storage.write_text(storage.read_text() + "\nfrom simulator.report import plots  # planted\n")
    assert upward_imports(imports(root)) == [
        "simulator.runtime.storage imports simulator.report.plots, which is above it or beside it"
    ]


def test_a_planted_import_between_runtimes_is_caught(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    instant = root / "simulator" / "runtime" / "instant.py"
    instant.write_text(instant.read_text() + "\nfrom simulator.runtime.simulated import host\n")
    assert upward_imports(imports(root)) == [
        "simulator.runtime.instant imports simulator.runtime.simulated.host, "
        "which is above it or beside it"
    ]


def test_a_planted_cycle_is_caught_even_behind_type_checking(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    phases = root / "simulator" / "runtime" / "phases.py"
    phases.write_text(
        phases.read_text()
        + "\nfrom typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
        + "    from simulator.runtime.runlog import RunLog\n"
    )
    assert [set(c) for c in cycles(imports(root))] == [
        {"simulator.runtime.phases", "simulator.runtime.runlog"}
    ]
