"""`calibrate`: fit the seed-estimates profile to the seed's baseline table and write it; or,
with --samples, fit a profile to measured samples."""

from __future__ import annotations

import argparse
import math
import unicodedata
from pathlib import Path
from typing import Any

from simulator.cli.options import add_progress_option
from simulator.cli.outputs import check_output_file
from simulator.cli.progress import progress
from simulator.errors import InputError, shown
from simulator.experiments.calibrate import calibrate, write_profile
from simulator.experiments.fit_samples import fitted_profile, read_samples, write_fitted_profile

MIN_DURATION_S = 5.0


def add_parser(sub: Any) -> None:
    parser = sub.add_parser("calibrate", help=__doc__)
    parser.add_argument(
        "--duration",
        type=float,
        help="simulated seconds of cold and of warm run_async per evaluation (default 120)",
    )
    parser.add_argument(
        "--max-evaluations",
        type=int,
        help="stop the least-squares fit after this many simulated evaluations (default 200)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="where to write the profile (default: scenarios/profiles/seed-estimates.toml)",
    )
    parser.add_argument(
        "--samples",
        type=Path,
        help="instead: fit a profile to measured samples (CSV `operation,ms`, or JSON)",
    )
    parser.add_argument("--name", help="with --samples: the profile's name (default measured)")
    parser.add_argument(
        "--base",
        help="with --samples: where operations without samples come from (default public-figures)",
    )
    add_progress_option(parser)
    parser.set_defaults(handler=run)


def check_name(name: str) -> None:
    """A profile's name is written in its TOML file and shown in reports: printable text."""
    if not name or any(unicodedata.category(c) in ("Cc", "Cs") for c in name):
        raise InputError(
            f"--name: bad value {shown(name)}; allowed: non-empty text without control "
            "characters (or bytes that are not UTF-8)"
        )


def only_with(args: argparse.Namespace, options: tuple[str, ...], why: str) -> None:
    """Refuse an option the chosen kind of calibration would ignore."""
    for option in options:
        value = getattr(args, option.removeprefix("--").replace("-", "_"))
        if value is not None:
            raise InputError(f"{option}: bad value {shown(str(value))}; allowed only {why}")


def run_samples(args: argparse.Namespace) -> int:
    only_with(
        args,
        ("--duration", "--max-evaluations"),
        "without --samples (a fit to samples runs no simulation)",
    )
    name = "measured" if args.name is None else args.name
    check_name(name)
    out: Path = args.out or args.samples.with_suffix(".toml")
    check_output_file("--out", out, (".toml",))
    base = "public-figures" if args.base is None else args.base
    profile, fits = fitted_profile(read_samples(args.samples), name, base)
    path = write_fitted_profile(profile, fits, args.samples, out)
    for fitted in fits:
        print(f"{fitted.op:<14} {fitted.samples:6d} samples  {fitted.source}")
    print(f"# profile {profile.name!r} written to {path}")
    return 0


def run(args: argparse.Namespace) -> int:
    if args.samples is not None:
        return run_samples(args)
    only_with(args, ("--name", "--base"), "with --samples (the fit to the seed names its profile)")
    duration = 120.0 if args.duration is None else args.duration
    if not (math.isfinite(duration) and MIN_DURATION_S <= duration <= 86_400):
        raise InputError(
            f"--duration: bad value {duration}; allowed: {MIN_DURATION_S:g} to 86400 seconds "
            "(the fit needs calls in each mode)"
        )
    if args.out is not None:
        check_output_file("--out", args.out, (".toml",))
    max_evaluations = 200 if args.max_evaluations is None else args.max_evaluations
    if max_evaluations < 1:
        raise InputError(f"--max-evaluations: {max_evaluations} must be at least 1")
    with progress("calibrating", "eval", disable=args.no_progress) as bar:

        def tick(cost: float) -> None:
            bar.set_postfix_str(f"cost {cost:.3f}", refresh=False)
            bar.update()

        result = calibrate(duration, max_evaluations, tick)
    path = write_profile(result, args.out)
    print(
        f"# fitted {len(result.cells)} cells of the seed's baseline breakdown; cost "
        f"{result.start_cost:.3f} -> {result.cost:.3f} ({result.evaluations} evaluations)"
    )
    print(
        f"# within the plausible ranges of {', '.join(f'{op} {lo:g}-{hi:g} ms' for op, (lo, hi) in result.ranges.items())}"
    )
    for cell in result.cells:
        note = "" if cell["reached"] else f"  NOT reached: {cell['why']}"
        print(
            f"{cell['row']:<28} {cell['mode']:<5} seed {cell['seed']:<13} fitted "
            f"{cell['fitted_ms']:8.1f} ms  residual {cell['residual']:+.2f}{note}"
        )
    print(
        "# parameters (median ms): "
        + ", ".join(f"{op} {dist.median():.3g}" for op, dist in result.profile.ops.items())
    )
    outside = result.out_of_range()
    print(
        f"# without the ranges the fit reaches cost {result.unbounded.cost:.3f}; out of range: "
        + (", ".join(f"{op} {result.unbounded.medians[op]:.3g} ms" for op in outside) or "none")
    )
    print(f"# profile written to {path}")
    return 0
