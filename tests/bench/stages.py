"""Where a replicate run spends its time: product functions wrapped with ``time.perf_counter`` timers.

The benchmark swaps a few module attributes of ``cdf_replicator.replicate`` and ``cdf_replicator.delta_sink`` for
timed wrappers while a stage runs (and puts the originals back after), so the run is the product's own code path
with a clock around each step. Times are *self* times per thread: a timed call inside another timed call (the
history read inside a MERGE) is subtracted from its caller, so the shares add up to the measured wall time of the
threads. Generators (the pager, the prefetch queue) are timed per ``next()``.
"""

from __future__ import annotations

import functools
import inspect
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

# Steps timed once per page: their sums are in the report, but a timeline of each call would drown the rest.
PER_PAGE_STEPS = ("fetch page", "wait for a page", "page -> Arrow")


@dataclass
class StageClock:
    """Accumulated self time and call counts per label, from any number of threads."""

    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    calls: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    # (thread, label, start, end) of every timed call but the per-page ones, for the timeline of a stage.
    events: list[tuple[str, str, float, float]] = field(default_factory=list)
    origin: float = field(default_factory=time.perf_counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _local: threading.local = field(default_factory=threading.local)

    @contextmanager
    def timed(self, label: str) -> Iterator[None]:
        stack: list[list[Any]] = self._stack()
        now = time.perf_counter()
        if stack:
            parent = stack[-1]
            self._add(parent[0], now - parent[1], 0)
        # Nested steps are named by their caller, so the same call (a Delta write) in two places stays apart.
        full = label if not stack or stack[-1][0].startswith("other") else f"{stack[-1][0]} > {label}"
        frame: list[Any] = [full, now]
        stack.append(frame)
        try:
            yield
        finally:
            end = time.perf_counter()
            stack.pop()
            self._add(full, end - frame[1], 1)
            if not label.startswith(PER_PAGE_STEPS):
                with self._lock:
                    self.events.append((threading.current_thread().name, full, now, end))
            if stack:
                stack[-1][1] = end

    def report(self) -> dict[str, dict[str, float]]:
        with self._lock:
            return {
                label: {"seconds": round(self.seconds[label], 3), "calls": self.calls[label]}
                for label in sorted(self.seconds, key=lambda name: -self.seconds[name])
            }

    def timeline(self, min_seconds: float = 0.05) -> list[dict[str, Any]]:
        """Timed calls of at least ``min_seconds`` in start order: thread, step, start and length in seconds."""
        with self._lock:
            events = sorted(self.events, key=lambda event: event[2])
        return [
            {
                "thread": thread,
                "step": label,
                "start_s": round(start - self.origin, 3),
                "seconds": round(end - start, 3),
            }
            for thread, label, start, end in events
            if end - start >= min_seconds
        ]

    def _stack(self) -> list[list[Any]]:
        stack = getattr(self._local, "stack", None)
        if stack is None:
            stack = self._local.stack = []
        return stack

    def _add(self, label: str, seconds: float, calls: int) -> None:
        with self._lock:
            self.seconds[label] += seconds
            self.calls[label] += calls


def _timed_function(clock: StageClock, label: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with clock.timed(label):
            return function(*args, **kwargs)

    return wrapper


def _timed_generator(clock: StageClock, label: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        generator = function(*args, **kwargs)

        def timed() -> Iterator[Any]:
            try:
                while True:
                    with clock.timed(label):
                        try:
                            item = next(generator)
                        except StopIteration:
                            return
                    yield item
            finally:
                generator.close()

        return timed()

    return wrapper


# (module, attribute, label): the steps of replicate_table, in the order they happen.
def _targets() -> list[tuple[Any, str, str]]:
    from delta.tables import DeltaMergeBuilder
    from pyspark.sql.readwriter import DataFrameWriter

    from cdf_replicator import delta_sink, pipeline, replicate, state

    return [
        (pipeline, "replicate_table", "other (incl. waiting for the previous commit)"),
        (replicate, "iter_sync_pages", "fetch page: HTTP + JSON (prefetch thread)"),
        (replicate, "prefetch", "wait for a page (writer thread)"),
        (replicate, "_to_arrow", "page -> Arrow"),
        (replicate, "newest_per_key", "newest per key (Arrow)"),
        (replicate, "arrow_to_dataframe", "Arrow -> Spark DataFrame"),
        (delta_sink, "merge_batch", "merge_batch"),
        (delta_sink, "first_row", "first_row (a Spark job)"),
        (delta_sink, "_is_empty", "table empty?"),
        (delta_sink, "_result_from_history", "commit metrics"),
        (DeltaMergeBuilder, "execute", "MERGE execute"),
        (DataFrameWriter, "save", "write.save"),
        (delta_sink, "ensure_table", "ensure table"),
        (replicate, "_has_rows", "table has rows?"),
        (state.DeltaStateStore, "_read_all", "state table read (once a run)"),
        (state.DeltaStateStore, "get", "cursor read"),
        (state.DeltaStateStore, "set", "cursor save"),
        (state.DeltaStateStore, "compact", "state table compact"),
    ]


@contextmanager
def instrumented(clock: StageClock) -> Iterator[StageClock]:
    """Time the replicate steps while the block runs; names the product no longer has are skipped."""
    originals: list[tuple[Any, str, Any]] = []
    for owner, name, label in _targets():
        original = owner.__dict__.get(name)
        if original is None:
            logger.warning("bench: %s.%s not found; its step is not timed", getattr(owner, "__name__", owner), name)
            continue
        make = _timed_generator if inspect.isgeneratorfunction(original) else _timed_function
        setattr(owner, name, make(clock, label, original))
        originals.append((owner, name, original))
    try:
        yield clock
    finally:
        for owner, name, original in reversed(originals):
            setattr(owner, name, original)
