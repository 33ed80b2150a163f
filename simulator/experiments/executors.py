"""Where jobs run: in this process, on a local process pool, or on a Dask cluster.

Every command that runs many simulations (bench, search, gates, sweep, soak) submits its jobs
through one `concurrent.futures.Executor`. The default is a process pool on every core; `--scheduler
local` starts a Dask LocalCluster on this machine, and `--scheduler tcp://HOST:8786` sends the
jobs to a running Dask scheduler (its `Client.get_executor()` is a `concurrent.futures` executor).
Jobs are small, pure and picklable, so results do not depend on where they ran.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any

from simulator.errors import InputError

#: The `--scheduler` values: `local`, or the address of a running Dask scheduler.
LOCAL = "local"
REMOTE_PREFIX = "tcp://"


def default_workers() -> int:
    return os.cpu_count() or 1


def check_scheduler(scheduler: str | None) -> None:
    if scheduler is not None and scheduler != LOCAL and not scheduler.startswith(REMOTE_PREFIX):
        raise InputError(
            f"--scheduler: bad value {scheduler!r}; allowed: {LOCAL!r} (a Dask LocalCluster) or "
            f"the address of a Dask scheduler, {REMOTE_PREFIX}HOST:PORT"
        )


@contextmanager
def executor(
    workers: int | None = None, scheduler: str | None = None, processes: bool = True
) -> Iterator[Executor | None]:
    """An executor for the jobs, closed (and its workers stopped) on the way out.

    `None` (one worker, no scheduler) means: run the jobs here, one after another. `processes`
    False starts a LocalCluster's workers as threads of this process (for tests).
    """
    check_scheduler(scheduler)
    workers = workers or default_workers()
    if scheduler is None:
        if workers == 1:
            yield None
            return
        pool = ProcessPoolExecutor(max_workers=workers)
        try:
            yield pool
        except BaseException:
            _stop_now(pool)
            raise
        pool.shutdown()
        return
    import distributed  # only when asked for: a heavy import

    logging.getLogger("distributed").setLevel(logging.WARNING)  # no lines per worker started

    dask: Any = distributed  # untyped constructors
    cluster: Any = None
    if scheduler == LOCAL:
        # Workers as processes listen on loopback only; as threads, they talk in memory.
        where = {"host": "127.0.0.1"} if processes else {}
        cluster = dask.LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=processes,
            dashboard_address=None,
            **where,
        )
    try:
        with dask.Client(cluster if cluster is not None else scheduler) as client:
            yield client.get_executor()
    finally:
        if cluster is not None:
            cluster.close()


def _stop_now(pool: ProcessPoolExecutor) -> None:
    """On an interrupt or an error: drop the queued jobs and stop the running ones, so that no
    worker is left behind computing results nobody will read."""
    workers = list(getattr(pool, "_processes", {}).values())  # no public API before Python 3.14
    pool.shutdown(wait=False, cancel_futures=True)
    for process in workers:
        process.terminate()
    for process in workers:
        process.join(timeout=5)
