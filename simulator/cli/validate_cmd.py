"""`validate`: measure workerd, fit a `local-workerd` profile, and check the simulated platform's
predictions against workerd for every preset design, cold and warm."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from engine.design import PRESETS
from simulator.cli.options import add_progress_option
from simulator.cli.outputs import check_output_folder
from simulator.cli.progress import progress
from simulator.errors import InputError
from simulator.experiments.conformance import conformance
from simulator.experiments.fit_samples import fitted_profile, read_samples, write_fitted_profile
from simulator.experiments.microbench import measure, write_samples
from simulator.experiments.validate import ValidationSpec, meets_goal, validate
from simulator.report.validation import write_report
from simulator.runtime.live.workerd import unavailable_reason
from simulator.whole_files import write_text


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "validate",
        help=__doc__.splitlines()[0],
    )
    parser.add_argument("--out", type=Path, default=Path("reports/validate"), help="output folder")
    parser.add_argument(
        "--samples", type=int, default=200, help="micro-benchmark samples per operation"
    )
    parser.add_argument("--designs", default=",".join(PRESETS), help="comma-separated designs")
    parser.add_argument(
        "--duration",
        type=float,
        default=ValidationSpec().duration_s,
        help="seconds of arrivals per run (real time)",
    )
    add_progress_option(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    reason = unavailable_reason()
    if reason is not None:
        raise InputError(f"validate: the live runtime cannot run here: {reason}")
    if not 10 <= args.samples <= 10_000:
        raise InputError(f"--samples: bad value {args.samples}; allowed: 10 to 10000")
    if not 1.0 <= args.duration <= 120.0:
        raise InputError(f"--duration: bad value {args.duration}; allowed: 1 to 120 seconds")
    designs = tuple(d.strip() for d in args.designs.split(",") if d.strip())
    unknown = [d for d in designs if d not in PRESETS]
    if not designs or unknown:
        raise InputError(
            f"--designs: bad value {unknown or args.designs!r}; allowed: {', '.join(PRESETS)}"
        )
    check_output_folder("--out", args.out)
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    diagnostics: dict[str, list[float]] = {}
    with progress("micro-benchmarks", "sample", 8 * args.samples, disable=args.no_progress) as bar:
        samples = measure(args.samples, bar.update, diagnostics)
    samples_path = write_samples(samples, args.out / "samples.csv")
    profile, fits = fitted_profile(read_samples(samples_path), "local-workerd")
    profile_path = write_fitted_profile(
        profile, fits, samples_path, args.out / "local-workerd.toml"
    )
    spec = ValidationSpec(designs=designs, duration_s=args.duration)
    with progress("validation", "run", 2 * len(designs), disable=args.no_progress) as bar:
        rows = validate(profile, spec, on_run=lambda d, m: bar.update())
    probes = conformance(profile)
    readme = write_report(rows, fits, spec, args.out, samples, diagnostics, probes)
    document = {
        "validation": rows,
        "conformance": probes,
        "diagnostics_median_ms": {
            name: statistics.median(values) for name, values in diagnostics.items()
        },
    }
    write_text(args.out / "validation.json", json.dumps(document, indent=1) + "\n")
    held = sum(meets_goal(r) for r in rows)
    print(
        f"# {held} of {len(rows)} (design, mode) cells within the goal; profile {profile_path}; "
        f"{time.perf_counter() - started:.0f} s",
        file=sys.stderr,
    )
    print(readme)
    return 0
