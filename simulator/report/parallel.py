"""The report's work spread over every core.

Once the simulations end, the report (tables, bootstrap intervals, a dozen figures) is the only
work left, and on one core it is about a sixth of `make bench`. Its parts are independent: each
reads the same inputs and writes its own files. So they run in forked processes, which see the
parent's inputs without copying them; only what each part answers (a `Section`: its Markdown, its
share of results.json and the names of the files it wrote) comes back, in the order the parts were
given, so the report is the same byte for byte on any number of processes. As with the
simulations, an interrupt is the parent's to handle: it stops the pool on its way out.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from typing import Any

from simulator.experiments.executors import leave_interrupts_to_parent

#: The parts of the run under way; forked processes inherit them, so only an index is sent.
_parts: Sequence[Callable[[], Any]] = ()


def _run(index: int) -> Any:
    return _parts[index]()


def run_parts(parts: Sequence[Callable[[], Any]], processes: int) -> list[Any]:
    """Every part's answer, in order; on `processes` forked processes when there are more than
    one (and the platform can fork), else here."""
    global _parts
    processes = min(processes, len(parts))
    if processes <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        return [part() for part in parts]
    _parts = parts
    try:
        context = multiprocessing.get_context("fork")
        with context.Pool(processes, initializer=leave_interrupts_to_parent) as pool:
            return pool.map(_run, range(len(parts)), chunksize=1)
    finally:
        _parts = ()
