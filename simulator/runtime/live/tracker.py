"""A tracker endpoint on loopback for the live runtime: it answers the object's POSTs after a
latency drawn from the profile, and records the events it accepts in the run log."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from simulator.runtime.runlog import RunLog


@contextmanager
def tracker_server(
    log: RunLog, latency: Callable[[], float], clock: Callable[[], float]
) -> Iterator[str]:
    """Serve on 127.0.0.1 (a free port) until the block ends; yields the endpoint's URL.

    `latency` draws the answer's delay in ms; `clock` says when, in the run's ms, an event was
    accepted.
    """
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as workerd's fetch expects

        def do_POST(self) -> None:
            body: Any = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            with lock:
                delay = latency()
            time.sleep(delay / 1000.0)
            with lock:
                log.tracker_attempts += 1
                log.accept(body.get("events", []), clock())
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass  # no line per request

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/events"
    finally:
        server.shutdown()
        server.server_close()
