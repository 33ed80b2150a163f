"""Micro-benchmarks on workerd: samples of each platform operation's latency, for a profile.

Each benchmark sends scripts to the live runtime's Durable Object one at a time, `GAP_S` apart,
and times them from here, end to end; an operation's sample is the call's time minus the median of an empty
call (the hop), divided by the number of operations when a script repeats one. The alarm delay is
read from the object's own clock (`stamp` steps). The samples go to a CSV file (operation, ms);
`python -m simulator calibrate --samples FILE` fits a profile to them (`local-workerd`).
"""

from __future__ import annotations

import csv
import json
import statistics
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from simulator.runtime.live.tracker import tracker_server
from simulator.runtime.live.workerd import workerd
from simulator.runtime.runlog import RunLog
from simulator.whole_files import writing

READS_PER_CALL = 20
DIAGNOSTIC_STEPS = 200  # cached gets in one call, to see what one costs
ALARM_AHEAD_MS = 1.0
#: Seconds between samples. Calls back to back run faster than calls that find workerd idle
#: (0.5 against 1.7 ms for an empty call, here): open-loop calls arrive apart, so samples do too.
GAP_S = 0.1
#: A commit's batch: the eight keys of a queued workflow, as the engine writes them together.
BATCH = {f"workflow:key{i}": "x" * 40 for i in range(8)}


def _call(url: str, name: str, body: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    """Send one script to an object; answer the milliseconds it took and the object's reply."""
    request = urllib.request.Request(
        f"{url}{name}", json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    time.sleep(GAP_S)
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=30) as response:
        reply: dict[str, Any] = json.loads(response.read())
    return (time.perf_counter() - started) * 1000.0, reply


def measure(
    samples: int = 100,
    progress: Callable[[], None] | None = None,
    diagnostics: dict[str, list[float]] | None = None,
) -> dict[str, list[float]]:
    """Samples of every operation the local profile prices, `samples` of each; `diagnostics`,
    when given, gets samples of what the model does not price apart (to explain misses)."""
    tick = progress or (lambda: None)
    out: dict[str, list[float]] = {}
    diagnostics = diagnostics if diagnostics is not None else {}
    log = RunLog()
    with tracker_server(log, 1, lambda at: 0.0) as tracker, workerd(tracker) as url:
        _call(url, "bench-warm", {"script": [], "init": [], "alarms": []})
        hop = []
        for _ in range(samples):
            hop.append(_call(url, "bench-warm", {"script": []})[0])
            tick()
        base = statistics.median(hop)
        out["rpc"] = hop
        out["stub_check"] = [0.0] * samples  # no global uniqueness check on a local workerd

        def extra(name: str, body: dict[str, Any], per: int = 1) -> list[float]:
            found = []
            for _ in range(samples):
                found.append(max(0.0, (_call(url, name, body)[0] - base) / per))
                tick()
            return found

        out["cold_start"] = []
        for i in range(samples):
            ms, _ = _call(url, f"bench-cold-{i}", {"script": [], "init": [], "alarms": []})
            out["cold_start"].append(max(0.0, ms - base))
            tick()
        out["read"] = []
        for i in range(samples):
            script = [["get", f"never-written-{i}-{j}"] for j in range(READS_PER_CALL)]
            ms, _ = _call(url, "bench-warm", {"script": script})
            out["read"].append(max(0.0, (ms - base) / READS_PER_CALL))
            tick()
        batch = [["put_many", BATCH]]
        out["commit"] = extra("bench-warm", {"script": batch})
        # A batch that also writes the alarm, against the median of a batch alone
        alarm_base = base + statistics.median(out["commit"])
        out["alarm_commit"] = []
        for _ in range(samples):
            ms, _ = _call(url, "bench-warm", {"script": [*batch, ["set_alarm", 60_000]]})
            out["alarm_commit"].append(max(0.0, ms - alarm_base))
            tick()
        # What the model does not price: whole calls, so a difference of medians is read
        cached = [["get", "written"]] * DIAGNOSTIC_STEPS
        diagnostics["call of cached gets"] = [
            _call(url, "bench-warm", {"script": cached})[0] for _ in range(samples)
        ]
        diagnostics["empty call"] = [
            _call(url, "bench-warm", {"script": []})[0] for _ in range(samples)
        ]
        out["tracker_http"] = extra("bench-warm", {"script": [["http", {"events": []}]]})
        out["alarm_delay"] = []
        for i in range(samples):
            name = f"bench-alarm-{i}"
            set_alarm = [["stamp", "set"], ["set_alarm", ALARM_AHEAD_MS]]
            _call(url, name, {"script": set_alarm, "init": [], "alarms": [[["stamp", "fired"]]]})
            time.sleep(0.05)
            stamps = dict(_call(url, name, {"script": []})[1]["stamps"])
            if "fired" in stamps:
                out["alarm_delay"].append(
                    max(0.0, stamps["fired"] - stamps["set"] - ALARM_AHEAD_MS)
                )
            tick()
    return out


def write_samples(samples: dict[str, list[float]], path: Path) -> Path:
    with writing(path) as partial, partial.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["operation", "ms"])
        for op, values in samples.items():
            writer.writerows([op, f"{v:.4f}"] for v in values)
    return path
