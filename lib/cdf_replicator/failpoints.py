"""Failpoints: a testing aid that kills the process at a named point, to prove a kill there loses nothing.

Set ``CDF_REPLICATOR_FAILPOINT=<name>`` (or ``<name>:<n>`` for the n-th time the point is reached) and the process
SIGKILLs itself when :func:`hit` is called with that name: no ``finally`` blocks, no ``atexit``, no flush of Spark
or Delta state, exactly like a node that dies. The kill tests in ``tests/e2e`` use it; production runs never set
the variable, and an unset variable costs one environment lookup per call.

The points ``replicate`` reaches, in order, for each batch:

- ``after_page``: a sync page has arrived (its rows are not committed yet);
- ``before_merge``: a batch is about to be merged into Delta;
- ``after_merge_before_cursor``: the Delta commit is done, the cursor that covers it is not saved yet.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections import Counter

ENV_VAR = "CDF_REPLICATOR_FAILPOINT"

_hits: Counter[str] = Counter()
_lock = threading.Lock()


def hit(name: str) -> None:
    """Kill this process with SIGKILL if the failpoint ``name`` is armed and this is the armed hit."""
    armed = os.environ.get(ENV_VAR)
    if not armed:
        return
    wanted, _, nth = armed.partition(":")
    if wanted != name:
        return
    with _lock:
        _hits[name] += 1
        count = _hits[name]
    if count < (int(nth) if nth else 1):
        return
    # One line so a test can tell where the process died; stderr is unbuffered enough once flushed.
    sys.stderr.write(f"failpoint {name} (hit {count}): SIGKILL pid {os.getpid()}\n")
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)
