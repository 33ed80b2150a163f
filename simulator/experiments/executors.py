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
import signal
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar
from urllib.parse import urlsplit

from simulator.errors import InputError, shown

Job = TypeVar("Job")
Result = TypeVar("Result")

#: The `--scheduler` values: `local`, or the address of a running Dask scheduler.
LOCAL = "local"
REMOTE_PREFIX = "tcp://"
CONNECT_TIMEOUT_S = 10  # to reach a scheduler at an address


def default_workers() -> int:
    return os.cpu_count() or 1


def check_scheduler(scheduler: str | None) -> None:
    if scheduler is None or scheduler == LOCAL:
        return
    try:
        address = urlsplit(scheduler)
        reachable = bool(address.hostname) and address.port is not None
    except ValueError:  # an unclosed IPv6 bracket, a port out of range
        reachable = False
    if not scheduler.startswith(REMOTE_PREFIX) or not reachable:
        raise InputError(
            f"--scheduler: bad value {shown(scheduler)}; allowed: {LOCAL!r} (a Dask "
            f"LocalCluster) or the address of a Dask scheduler, {REMOTE_PREFIX}HOST:PORT"
        )


@contextmanager
def executor(
    workers: int | None = None, scheduler: str | None = None, processes: bool = True
) -> Iterator[Executor | None]:
    """An executor for the jobs, closed on the way out (after an error or an interrupt: without
    starting the jobs still queued).

    `None` (one worker, no scheduler) means: run the jobs here, one after another. `processes`
    False starts a LocalCluster's workers as threads of this process (for tests).
    """
    check_scheduler(scheduler)
    workers = workers or default_workers()
    if scheduler is None:
        if workers == 1:
            yield None
            return
        pool = ProcessPoolExecutor(max_workers=workers, initializer=leave_interrupts_to_parent)
        try:
            yield pool
        except BaseException:
            # Drop the queued jobs; the running ones (one simulation each) finish. Stopping the
            # workers instead is not safe: one killed while it sends a result leaves the pool's
            # reader waiting forever for the rest of the message, and the exit waits with it.
            pool.shutdown(wait=True, cancel_futures=True)
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
        with _client(cluster if cluster is not None else scheduler) as client:
            yield client.get_executor()
    finally:
        if cluster is not None:
            cluster.close()


def _client(where: Any) -> Any:
    """A Dask client of a local cluster, or of the scheduler at an address (one it cannot reach
    within `CONNECT_TIMEOUT_S` is bad input, not a harness failure)."""
    import distributed

    dask: Any = distributed  # untyped constructors
    try:
        return dask.Client(where, timeout=CONNECT_TIMEOUT_S)
    except OSError as error:
        raise InputError(
            f"--scheduler: cannot reach a Dask scheduler at {shown(where)}: {error}"
        ) from None


def in_order(
    run: Callable[[Job], Result], jobs: Sequence[Job], pool: Executor | None
) -> Iterator[Result]:
    """`run` over the jobs on `pool` (here, one after another, when it is None), the results in
    job order, so that the output never depends on scheduling. A caller that stops reading
    cancels the jobs not started yet."""
    if pool is None:
        yield from map(run, jobs)
        return
    futures: list[Future[Result]] = [pool.submit(run, job) for job in jobs]
    try:
        for future in futures:
            yield future.result()
    finally:
        for future in futures:
            future.cancel()


def leave_interrupts_to_parent() -> None:
    """Workers ignore Ctrl-C, which a terminal sends to every process of the command: the parent
    stops the run, and a worker interrupted while it waits for a job would break the pool. A
    SIGTERM, which only the parent's pool sends them, ends them quietly: a forked worker inherits
    the command's handler, which would turn it into an interrupt and print its traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
