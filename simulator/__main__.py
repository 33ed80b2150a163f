"""`python -m simulator`. A Ctrl-C or SIGTERM that comes while the command is still starting
(importing pandas and the rest takes seconds on a busy machine) ends it as one later would: the
line `interrupted` and status 130, not a traceback."""

import signal
import sys

signal.signal(signal.SIGTERM, signal.default_int_handler)
try:
    from simulator.cli import main
except KeyboardInterrupt:
    print("interrupted", file=sys.stderr)
    raise SystemExit(130) from None

raise SystemExit(main())
