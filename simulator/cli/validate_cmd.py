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
from simulator.cli.progress import progress
from simulator.errors import InputError
from simulator.experiments.conformance import conformance
from simulator.experiments.fit_samples import fitted_profile, read_samples, write_fitted_profile
from simulator.experiments.microbench import DIAGNOSTIC_STEPS, measure, write_samples
from simulator.experiments.validate import (
    P50_FLOOR_MS,
    P50_TOLERANCE,
    P95_TOLERANCE,
    ValidationSpec,
    validate,
)
from simulator.report.markdown import fmt, table
from simulator.runtime.live.workerd import unavailable_reason
from simulator.whole_files import write_text


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "validate",
        help=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--out", type=Path, default=Path("reports/validate"), help="output folder")
    parser.add_argument(
        "--samples", type=int, default=200, help="micro-benchmark samples per operation"
    )
    parser.add_argument("--designs", default=",".join(PRESETS), help="comma-separated designs")
    parser.add_argument(
        "--duration", type=float, default=10.0, help="seconds of arrivals per run (real time)"
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
    held = sum(bool(r.get("p50_holds")) and bool(r.get("p95_holds")) for r in rows)
    print(
        f"# {held} of {len(rows)} (design, mode) cells within the goal; profile {profile_path}; "
        f"{time.perf_counter() - started:.0f} s",
        file=sys.stderr,
    )
    print(readme)
    return 0


def _gaps(missed: list[dict[str, Any]], step_ms: float) -> str:
    """Per missed cell: workerd's p50 minus the model's, the part the unpriced storage calls
    explain, what is left; and the same gap at p95."""
    if not missed:
        return "No cell misses."
    rows = []
    for r in missed:
        gap = r["p50_measured_ms"] - r["p50_predicted_ms"]
        storage = r["unpriced_storage_calls"] * step_ms
        rows.append(
            [
                r["design"],
                r["mode"],
                fmt(gap, 2),
                f"{r['unpriced_storage_calls']:g} x {step_ms * 1000:.0f} us = {storage:.2f}",
                fmt(gap - storage, 2),
                fmt(r["p95_measured_ms"] - r["p95_predicted_ms"], 1),
            ]
        )
    return table(
        [
            "design",
            "mode",
            "p50 gap ms (workerd - model)",
            "unpriced storage calls, ms",
            "p50 gap left, ms",
            "p95 gap ms",
        ],
        rows,
    )


def _seen(observed: dict[str, Any]) -> str:
    return "; ".join(f"{k}: {v}" for k, v in observed.items())


def write_report(
    rows: list[dict[str, Any]],
    fits: list[Any],
    spec: ValidationSpec,
    out: Path,
    samples: dict[str, list[float]],
    diagnostics: dict[str, list[float]],
    probes: list[dict[str, Any]],
) -> Path:
    missed = [r for r in rows if not (r.get("p50_holds") and r.get("p95_holds"))]

    def median(name: str) -> float:
        return statistics.median(diagnostics.get(name, [0.0]))

    alarm = statistics.median(samples.get("alarm_commit", [0.0]))
    step = (median("call of cached gets") - median("empty call")) / DIAGNOSTIC_STEPS
    lines = [
        "# The simulated platform against workerd",
        "",
        "Generated by `python -m simulator validate`. Every operation's latency was measured on "
        "a local workerd (Miniflare), one call at a time, and fitted (`local-workerd.toml`, "
        "samples in `samples.csv`):",
        "",
        table(
            ["operation", "samples", "fit", "KS distance"],
            [[f.op, f.samples, type(f.dist).__name__, f"{f.ks:.3f}"] for f in fits],
        ),
        "",
        f"Then each preset design ran the same plan of calls ({spec.duration_s:g} s of arrivals "
        f"at {spec.rate_per_s:g}/s, cold and warm scenarios) on workerd in real time, and on the "
        "simulated platform under that profile. Goal: p50 within "
        f"{P50_TOLERANCE:.0%} or {P50_FLOOR_MS:g} ms, p95 within {P95_TOLERANCE:.0%}.",
        "",
        table(
            [
                "design",
                "mode",
                "calls",
                "p50 sim",
                "p50 workerd",
                "ratio",
                "p95 sim",
                "p95 workerd",
                "ratio",
                "goal",
            ],
            [
                [
                    r["design"],
                    r["mode"],
                    r["calls"],
                    fmt(r.get("p50_predicted_ms"), 1),
                    fmt(r.get("p50_measured_ms"), 1),
                    fmt(r.get("p50_ratio"), 2),
                    fmt(r.get("p95_predicted_ms"), 1),
                    fmt(r.get("p95_measured_ms"), 1),
                    fmt(r.get("p95_ratio"), 2),
                    "yes" if r.get("p50_holds") and r.get("p95_holds") else "**no**",
                ]
                for r in rows
            ],
        ),
        "",
        f"**{len(rows) - len(missed)} of {len(rows)} cells meet the goal.** The model prices "
        f"a batch that writes the alarm apart (`alarm_commit`, median {alarm:.2f} ms here, every "
        "call of the engine's queue carries the start alarm). Where cells miss, what the "
        "micro-benchmarks show that the simulated platform still does not model: an awaited "
        f"storage call that hits the cache costs about {step * 1000:.0f} us, which the model "
        "takes as free; and calls in the plan overlap with each other, with alarm handlers and "
        "with the loopback tracker (served by the driver's own process), which the "
        "one-at-a-time micro-benchmarks do not. The table of gaps below says how much of each "
        "miss is left once the cache hits are priced.",
        "",
        _gaps(missed, step),
        "",
        "## Rule conformance",
        "",
        "Each probe runs on workerd and on the simulated platform (under the same profile) and "
        "compares what both let us observe. Rules that only cost storage time (the output gate, "
        "write coalescing, the cache) are measured by the micro-benchmarks above instead: local "
        "storage answers in microseconds.",
        "",
        table(
            ["probe", "rule", "workerd", "simulated", "agree"],
            [
                [
                    p["probe"],
                    p["rule"],
                    _seen(p["workerd"]),
                    _seen(p["simulated"]),
                    "yes" if p["agree"] else "**no**",
                ]
                for p in probes
            ],
        ),
        "",
        "Where a probe disagrees: `deleted-alarm-retried` is a switch of the model "
        "(`rewritten_alarm_stops_retry`): the docs promise the prevention only on a best-effort "
        "basis, so the model retries by default (the pessimistic side, for the correctness "
        "tables); local workerd prevents the retry, as the switch's other side does.",
        "",
    ]
    return write_text(out / "README.md", "\n".join(lines))
