"""What a runtime raises into the programs it runs."""

from __future__ import annotations

import contextlib

import httpx

from engine.ops import OperationTimedOut
from simulator.errors import shown


class ObjectReset(BaseException):
    """The object died (deploy, crash, failed commit) while this program ran.

    A BaseException, so engine code that handles its own errors (`except Exception`) cannot catch
    it: a reset ends the call, as a process restart does.
    """


class HarnessError(BaseException):
    """The harness itself failed while performing an operation (a sampler, a model, a bug):
    never an engine result. A BaseException, so no engine code can swallow it; the run stops."""


_RAISED_BY_ENGINE = "_raised_by_engine"


def mark_engine(error: BaseException) -> None:
    """Remember that engine code raised (or let through) this exception."""
    with contextlib.suppress(AttributeError):  # an exception type with __slots__
        setattr(error, _RAISED_BY_ENGINE, True)


PLATFORM_ANSWERS: tuple[type[Exception], ...] = (httpx.HTTPError, OperationTimedOut)
"""What a runtime may answer an operation with: a failed request, a passed deadline."""


def answer_or_stop(error: Exception, op: object) -> Exception:
    """The exception to throw into the program that yielded `op`: a platform's answer or an
    engine error from a nested program. Anything else is the harness's own failure."""
    if isinstance(error, PLATFORM_ANSWERS) or getattr(error, _RAISED_BY_ENGINE, False):
        return error
    raise HarnessError(f"{type(error).__name__} while performing {shown(op)}: {error}") from error
