"""What a platform does (switchable semantics) and what goes wrong in a run (faults)."""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class PlatformSwitches:
    """Each Durable Object semantic the platform models, so its contribution can be measured.

    Turning one off removes it: `cache=False` makes every read pay, `coalescing=False` commits every
    write on its own, `output_gate=False` answers before writes commit, and so on.
    """

    cold_start: bool = True  # an absent object pays its start (and the constructor) first
    single_thread: bool = True  # `Compute` on one object runs one at a time
    input_gate: bool = True  # blockConcurrencyWhile and pending reads hold back new calls
    # ... and completions of the object's own fetches and timers (DOC: "no events shall be
    # delivered to the object except for storage completion events")
    input_gate_holds_completions: bool = True
    cache: bool = True  # reads of keys already read or written are free
    coalescing: bool = True  # writes with no await between them commit once
    output_gate: bool = True  # a response or fetch waits for earlier writes to commit
    alarm_retries: bool = True  # a failed alarm handler is retried (2 s, doubling, 6 times)
    # Whether a failed handler that set or deleted its alarm is spared the retry. DOC: that
    # "may prevent retries on a best-effort basis, but is not guaranteed": off, the pessimistic
    # side, it is retried all the same.
    rewritten_alarm_stops_retry: bool = False
    stub_check: bool = True  # the first use of a name-derived id pays a uniqueness check
    eviction: bool = True  # an idle object is evicted; its next call is cold
    # An idle object with nothing pending hibernates after `hibernation` (about 10 s, DOC);
    # off, or with background work pending, it is evicted after `idle_eviction` (70-140 s).
    hibernation: bool = True
    background_keeps_alive: bool = False  # pending background work does not delay eviction
    isolates: int = 8  # objects share module-level state within an isolate (GUESS)
    # A deploy lets in-flight requests finish for up to this long; one that touches storage
    # meanwhile is stopped at once (DOC durable-object-lifecycle, "Shutdown behavior").
    deploy_grace_ms: float = 30_000.0

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))


@dataclass(frozen=True)
class Faults:
    """What goes wrong: deploys (every object shuts down after a grace period), restarts (every
    object dies at once), crashes (one object dies at once), forced evictions, failed commits and
    tracker trouble; at given instants or as Poisson processes."""

    deploys_at_ms: tuple[float, ...] = ()
    restarts_at_ms: tuple[float, ...] = ()
    crashes_at_ms: tuple[float, ...] = ()  # explicit instants (property tests), as well as rates
    evictions_at_ms: tuple[float, ...] = ()
    deploy_rate_per_hour: float = 0.0
    restart_rate_per_hour: float = 0.0
    crash_rate_per_hour: float = 0.0  # crashes of one (busy, if any) object
    eviction_rate_per_hour: float = 0.0  # forced evictions, e.g. with background work pending
    commit_failure_rate: float = 0.0  # probability a commit fails (the object resets)
    tracker_error_rate: float = 0.0  # probability the endpoint answers 500
    tracker_outages_ms: tuple[tuple[float, float], ...] = ()  # [start, end) windows: no answer
    # A fetch that gives up after this long. Upstream's tracker sets no timeout: this is a what-if.
    tracker_timeout_ms: float | None = None

    def tracker_down(self, now_ms: float) -> bool:
        return any(start <= now_ms < end for start, end in self.tracker_outages_ms)
