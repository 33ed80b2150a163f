"""Starting and stopping workerd (through Miniflare, from `live/`) for the live runtime.

The npm packages come from `live/package-lock.json`; `npm ci` installs them into
`live/node_modules` (`make validate` does it). The server binds to loopback, and the process is
stopped when the block ends, however it ends. Miniflare keeps the objects' storage in a folder under
the system's temporary directory and leaves it behind (it removes it in the background while the
process exits), so each server gets a temporary directory of its own, removed with the block.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LIVE_DIR = Path(__file__).resolve().parents[3] / "live"
START_TIMEOUT_S = 60.0


class WorkerdUnavailable(RuntimeError):
    """Node.js or the npm packages are missing: the live runtime cannot run here."""


def unavailable_reason() -> str | None:
    """Why the live runtime cannot run here, or None when it can."""
    if shutil.which("node") is None:
        return "Node.js is not installed (the live runtime runs workerd through Miniflare)"
    if not (LIVE_DIR / "node_modules" / "miniflare").exists():
        return "the npm packages are not installed: run `make validate`, or `npm ci` in live/"
    return None


@contextmanager
def workerd(tracker_url: str) -> Iterator[str]:
    """Run workerd with the engine's Durable Object; yields the Worker's URL."""
    reason = unavailable_reason()
    if reason is not None:
        raise WorkerdUnavailable(reason)
    with (
        tempfile.TemporaryDirectory(prefix="runasync-workerd-") as scratch,
        _serving(tracker_url, scratch) as url,
    ):
        yield url


@contextmanager
def _serving(tracker_url: str, scratch: str) -> Iterator[str]:
    process = subprocess.Popen(
        ["node", str(LIVE_DIR / "serve.mjs")],
        cwd=LIVE_DIR,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "TRACKER_URL": tracker_url, "TMPDIR": scratch},
        text=True,
        start_new_session=True,  # a Ctrl-C reaches us; we stop it ourselves
    )
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], START_TIMEOUT_S)
        url = process.stdout.readline().strip() if ready else ""
        if not url.startswith("http://127.0.0.1:"):
            raise WorkerdUnavailable(f"workerd did not start (it printed {url!r})")
        yield url
    finally:
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # the whole group: node and the workerd it started
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
