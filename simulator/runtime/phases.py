"""The platform's phases, and the order of every phase in the rows and the waterfall.

The engine names its own phases (`engine.phases`); a runtime adds the time a call spends outside
the engine's code: the stub's uniqueness check, the hop, the object's start, the gates. A span
inside the constructor or in background work carries a prefix, so `constructor.layer-build` is the
constructor's share of `layer-build`.
"""

from __future__ import annotations

from engine import phases as engine

STUB = "stub"  # the uniqueness check of a name-derived id, on its first use
RPC = "rpc"  # the hop from the client to the object and back
COLD_START = "cold-start"  # starting the object before its constructor runs
INPUT_GATE = "input-gate"  # waiting to be delivered (blockConcurrencyWhile, a start, a read)
OUTPUT_GATE = "output-gate"  # the response waiting for earlier writes to commit
FETCH_OUTPUT_GATE = "fetch-output-gate"  # an outgoing fetch waiting for earlier writes

CONSTRUCTOR = "constructor."  # prefix of spans inside the constructor
BACKGROUND = "background."  # prefix of spans in background work (`Fork`)

#: The phases every row carries, in waterfall order; spans with other names are kept as well.
PHASES = (
    STUB,
    RPC,
    COLD_START,
    INPUT_GATE,
    CONSTRUCTOR + engine.LAYER_BUILD,
    CONSTRUCTOR + engine.RECOVERY_CHECK,
    engine.LAYER_BUILD,
    engine.RECOVERY_CHECK,
    engine.QUEUE,
    engine.EXECUTE,
    engine.EVENT_FLUSH,
    OUTPUT_GATE,
)
