"""A tracker endpoint on loopback for the live runtime: it answers the object's POSTs after a
latency drawn from a lognormal, and records the events it accepts in the run log.

It serves from a process of its own: served from the driver's process, its threads shared one
interpreter lock with the threads that send the calls and time them, so a POST being answered
could delay the timing of a call.
"""

from __future__ import annotations

import json
import math
import random
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from simulator.runtime.runlog import RunRecorder

#: The tracker's added delay before it answers: lognormal, median and p99 in ms. A profile of
#: workerd measures the POST with it (`simulator.experiments.microbench`).
TRACKER_DELAY_MS = (10.0, 30.0)
Z99 = 2.3263478740408408
STOP = "stop"
STOP_TIMEOUT_S = 10.0


def tracker_delays(seed: int) -> Callable[[], float]:
    """Successive delays of the loopback tracker (ms), from `TRACKER_DELAY_MS`."""
    draws = random.Random(seed)
    median, p99 = TRACKER_DELAY_MS
    sigma = math.log(p99 / median) / Z99
    return lambda: draws.lognormvariate(math.log(median), sigma)


@contextmanager
def tracker_server(
    log: RunRecorder,
    seed: int,
    clock: Callable[[float], float],
    emitted: Mapping[str, Mapping[str, Any]] | None = None,
) -> Iterator[str]:
    """Serve on 127.0.0.1 (a free port) until the block ends; yields the endpoint's URL.

    Delays are drawn from `tracker_delays(seed)`. When the block ends, the server stops and the
    batches it accepted go into `log`, each at `clock(t)`, `t` being `time.monotonic()` when
    it was accepted (the same clock in every process). The server is this module run as a
    program (not a multiprocessing child, which would import the caller's main script again):
    it prints its URL, serves until a line arrives on its input, then prints what it accepted.
    The server knows only event ids: each accepted id goes into `log` as its event in `emitted`
    (the events the run emitted, by id), when there.
    """
    command = [sys.executable, "-m", __name__, str(seed)]
    with subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as process:
        try:
            assert process.stdin is not None and process.stdout is not None
            url = process.stdout.readline().strip()
            if not url:
                raise RuntimeError("the loopback tracker did not start")
            yield url
            process.stdin.write(STOP + "\n")
            process.stdin.flush()
            attempts, accepted = json.loads(process.stdout.readline())
            process.wait(STOP_TIMEOUT_S)
        finally:
            if process.poll() is None:
                process.kill()
    log.tracker_attempts += attempts
    known = emitted or {}
    for event_ids, at in accepted:
        log.accept(
            [known.get(event_id, {"eventId": event_id}) for event_id in event_ids], clock(at)
        )


def serve(seed: int) -> None:
    """The tracker's process: serve until a line arrives on stdin, then print what it accepted
    as JSON: [attempts, [[event ids, monotonic seconds], ...]]."""
    latency = tracker_delays(seed)
    lock = threading.Lock()
    accepted: list[tuple[list[str], float]] = []
    attempts = 0

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as workerd's fetch expects

        def do_POST(self) -> None:
            nonlocal attempts
            body: Any = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            with lock:
                delay = latency()
            time.sleep(delay / 1000.0)
            with lock:
                attempts += 1
                ids = [event["eventId"] for event in body.get("events", [])]
                accepted.append((ids, time.monotonic()))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass  # no line per request

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    print(f"http://127.0.0.1:{server.server_address[1]}/events", flush=True)
    sys.stdin.readline()  # the stop, or the end of input if the driver died
    server.shutdown()
    server.server_close()
    with lock:
        print(json.dumps([attempts, accepted]), flush=True)


if __name__ == "__main__":
    serve(int(sys.argv[1]))
