"""cProfile over every Python thread a stage starts (view workers, the prefetch thread) plus the calling one.

``cProfile.Profile.enable`` covers only the thread that calls it, and a replicate run works on pool threads, so
each new thread gets its own profiler (``threading.setprofile`` runs a hook first thing in every new thread,
and that hook switches the thread over to a fresh profiler). The stats of all threads are merged at the end.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any


@contextmanager
def profiled(out_path: str, top: int = 30) -> Iterator[list[str]]:
    """Profile the block; write merged stats to ``out_path`` and put a summary (text) in the yielded list."""
    profiles: list[cProfile.Profile] = []
    lock = threading.Lock()

    def start_in_thread(frame: FrameType, event: str, arg: Any) -> None:
        profile = cProfile.Profile()
        with lock:
            profiles.append(profile)
        profile.enable()

    summary: list[str] = []
    main = cProfile.Profile()
    profiles.append(main)
    threading.setprofile(start_in_thread)
    main.enable()
    try:
        yield summary
    finally:
        main.disable()
        threading.setprofile(None)
        summary.append(_write(profiles, out_path, top))


def _write(profiles: list[cProfile.Profile], out_path: str, top: int) -> str:
    text = io.StringIO()
    stats = pstats.Stats(profiles[0], stream=text)
    for profile in profiles[1:]:
        try:
            stats.add(profile)
        except TypeError:  # a thread that never ran any Python code under its profiler has no stats
            continue
    stats.dump_stats(out_path)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return text.getvalue()
