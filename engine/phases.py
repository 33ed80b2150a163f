"""The engine's named phases (`Span` names): the rows of the tables are made of them.

The platform adds phases of its own (the stub check, the hop, the gates); those are named in
`simulator.runtime.phases`.
"""

from __future__ import annotations

LAYER_BUILD = "layer-build"  # composing or providing the service layer
RECOVERY_CHECK = "recovery-check"
QUEUE = "queue"
EXECUTE = "execute"
EVENT_FLUSH = "event-flush"
