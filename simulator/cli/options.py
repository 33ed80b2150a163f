"""Options that several commands share: where their jobs run, whether progress is shown."""

from __future__ import annotations

import argparse
from concurrent.futures import Executor
from contextlib import AbstractContextManager
from typing import Any

from engine.design import UnknownDesign, design_by_name
from simulator.errors import InputError
from simulator.experiments.executors import LOCAL, check_scheduler, default_workers, executor
from simulator.model.scenario import MAX_SEED


def add_executor_options(parser: Any) -> None:
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help=f"worker processes (default: every core, {default_workers()} here; 1 runs in this "
        "process)",
    )
    parser.add_argument(
        "--scheduler",
        default=None,
        help=f"run the jobs on Dask: {LOCAL!r} for a LocalCluster of --workers workers, or "
        "tcp://HOST:8786 for a running scheduler (default: a local process pool)",
    )


def add_progress_option(parser: Any) -> None:
    parser.add_argument(
        "--no-progress", action="store_true", help="no progress bar on stderr (for logs and CI)"
    )


#: Worker processes a local pool may start per core (each holds a whole simulation).
PROCESSES_PER_CORE = 8


def check_executor_options(args: argparse.Namespace) -> None:
    """Refuse bad --workers and --scheduler values before any work starts."""
    here = args.scheduler is None or args.scheduler == LOCAL
    most = PROCESSES_PER_CORE * default_workers() if here else 1024
    if args.workers is not None and not 1 <= args.workers <= most:
        where = (
            f" on this machine ({default_workers()} cores: more processes only compete for them)"
            if here
            else ""
        )
        raise InputError(
            f"--workers: bad value {args.workers}; allowed: a whole number from 1 to {most}{where}"
        )
    check_scheduler(args.scheduler)


def open_executor(args: argparse.Namespace) -> AbstractContextManager[Executor | None]:
    check_executor_options(args)
    return executor(args.workers, args.scheduler)


def check_seed(seed: int) -> None:
    """The seeds `--seed` takes, as scenario files do (a numpy seed is not negative)."""
    if not 0 <= seed <= MAX_SEED:
        raise InputError(f"--seed: bad value {seed}; allowed: a whole number from 0 to {MAX_SEED}")


def parse_designs(text: str | None) -> list[str] | None:
    """The designs named on the command line, each once; None when the option is not given."""
    if text is None:
        return None
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise InputError(f"--designs: bad value {text!r}; allowed: one or more design names")
    seen: dict[Any, str] = {}
    for name in names:
        try:
            design = design_by_name(name)
        except UnknownDesign as error:
            raise InputError(f"--designs: {error}") from None
        if design in seen:
            raise InputError(f"--designs: {name!r} is the same design as {seen[design]!r}")
        seen[design] = name
    return names
