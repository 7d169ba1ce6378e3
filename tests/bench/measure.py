"""One measured stage: wall time, CPU of each process, memory peaks, step timings and an optional profile."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.bench.probes import MemoryProbe, cpu_seconds, thread_cpu_seconds
from tests.bench.profiling import profiled
from tests.bench.stages import StageClock, instrumented


@dataclass
class StageResult:
    """What one stage did and cost."""

    name: str
    seconds: float = 0.0
    instances: int = 0
    memory: dict[str, float] = field(default_factory=dict)
    cpu_s: dict[str, float] = field(default_factory=dict)
    steps: dict[str, dict[str, float]] = field(default_factory=dict)
    tables: list[dict[str, Any]] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    profile: str | None = None

    @property
    def rate(self) -> float | None:
        return self.instances / self.seconds if self.seconds > 0 and self.instances else None

    def as_dict(self) -> dict[str, Any]:
        rate = self.rate
        return {
            "seconds": round(self.seconds, 3),
            "instances": self.instances,
            "instances_per_s": round(rate) if rate else None,
            "memory": self.memory,
            "cpu_seconds": self.cpu_s,
            "steps": self.steps,
            "tables": self.tables,
            **self.detail,
            **({"error": self.error} if self.error else {}),
        }


@dataclass
class Meter:
    """Measures stages against the processes of one run: this driver, its JVM, the emulator (if separate)."""

    probe: MemoryProbe
    jvm_pid: int | None = None
    emulator_pid: int | None = None
    profile_stage: str | None = None
    profile_prefix: str = "bench"

    @contextmanager
    def stage(self, name: str, timed_steps: bool = True) -> Iterator[StageResult]:
        """Measure the ``with`` block as stage ``name``; the block fills ``instances``, ``tables`` and ``detail``."""
        result = StageResult(name)
        clock = StageClock()
        summary: list[str] = []
        with ExitStack() as stack:
            peaks = stack.enter_context(self.probe.window())
            if timed_steps:
                stack.enter_context(instrumented(clock))
            if self.profile_stage == name:
                summary = stack.enter_context(profiled(f"{self.profile_prefix}-{name}.prof"))
            cpu_before = self._cpu()
            threads_before = thread_cpu_seconds(self.jvm_pid) if self.jvm_pid else {}
            load_before = os.getloadavg()[0]
            started = time.perf_counter()
            try:
                yield result
            finally:
                result.seconds = time.perf_counter() - started
                cpu_after = self._cpu()
                result.cpu_s = {key: round(cpu_after[key] - cpu_before[key], 2) for key in cpu_before}
                if self.jvm_pid:
                    result.detail["jvm_threads_cpu_s"] = _grown(threads_before, thread_cpu_seconds(self.jvm_pid))
                # Other processes on the machine skew wall times: the 1-minute load average says how much.
                result.detail["load_average"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
        result.memory = peaks.as_dict()
        result.steps = clock.report()
        if timed_steps:
            result.detail["timeline"] = clock.timeline()
        if summary:
            result.profile = summary[0]

    def _cpu(self) -> dict[str, float]:
        values = {"driver": cpu_seconds("self")}
        if self.jvm_pid is not None:
            values["jvm"] = cpu_seconds(self.jvm_pid)
        if self.emulator_pid is not None:
            values["emulator"] = cpu_seconds(self.emulator_pid)
        return values


def _grown(before: dict[str, float], after: dict[str, float], top: int = 12) -> dict[str, float]:
    """CPU seconds each thread group used in between (threads that ended since are not counted), largest first."""
    grown = {name: round(seconds - before.get(name, 0.0), 2) for name, seconds in after.items()}
    ranked = sorted(((name, value) for name, value in grown.items() if value > 0.05), key=lambda item: -item[1])
    return dict(ranked[:top])


def timed(action: Callable[[], Any]) -> tuple[Any, float]:
    """``action()`` and the seconds it took."""
    started = time.perf_counter()
    value = action()
    return value, time.perf_counter() - started
