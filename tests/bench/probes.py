"""Memory probes sampled on a background thread: driver RSS (``/proc/self``), JVM heap and JVM RSS.

Each stage of the benchmark opens a window (``MemoryProbe.window``) and gets the peaks seen while it ran, so a
stage's peak is not hidden by an earlier one (``VmHWM`` only ever grows).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.bench.emulator_host import read_status_kb

MIB = 1024 * 1024


@dataclass
class Peaks:
    """The highest values seen in one window, in MiB (``start_*``: at the window's start)."""

    start_rss_mb: float = 0.0
    rss_mb: float = 0.0
    jvm_heap_mb: float = 0.0
    jvm_rss_mb: float = 0.0
    samples: int = 0

    def as_dict(self) -> dict[str, float]:
        return {
            "driver_rss_start_mb": round(self.start_rss_mb, 1),
            "driver_rss_peak_mb": round(self.rss_mb, 1),
            "driver_rss_growth_mb": round(self.rss_mb - self.start_rss_mb, 1),
            "jvm_heap_peak_mb": round(self.jvm_heap_mb, 1),
            "jvm_rss_peak_mb": round(self.jvm_rss_mb, 1),
        }


@dataclass
class MemoryProbe:
    """Samples every ``interval_s`` seconds until ``stop``; ``spark`` may be attached once it exists."""

    interval_s: float = 0.2
    spark: Any = None
    overall: Peaks = field(default_factory=Peaks)
    _windows: list[Peaks] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    jvm_pid: int | None = None

    def start(self) -> MemoryProbe:
        self._thread = threading.Thread(target=self._run, name="bench-memory-probe", daemon=True)
        self._thread.start()
        return self

    def attach_spark(self, spark: Any) -> None:
        """Sample the JVM too: its heap through the MemoryMXBean, its RSS through ``/proc/<pid>``."""
        self.jvm_pid = int(spark._jvm.java.lang.ProcessHandle.current().pid())
        self.spark = spark

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    @contextmanager
    def window(self) -> Iterator[Peaks]:
        """Peaks while the ``with`` block runs (one sample is taken at its start and at its end)."""
        peaks = Peaks(start_rss_mb=_driver_rss_mb())
        self._sample_into([peaks])
        with self._lock:
            self._windows.append(peaks)
        try:
            yield peaks
        finally:
            self._sample_into([peaks])
            with self._lock:
                self._windows.remove(peaks)

    def high_water_mb(self) -> float:
        """``VmHWM``: the driver's peak RSS over the whole process life."""
        return read_status_kb("self", "VmHWM") / 1024

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            with self._lock:
                targets = [self.overall, *self._windows]
            self._sample_into(targets)

    def _sample_into(self, targets: list[Peaks]) -> None:
        rss = _driver_rss_mb()
        heap = self._jvm_heap_mb()
        jvm_rss = read_status_kb(self.jvm_pid, "VmRSS") / 1024 if self.jvm_pid else 0.0
        for peaks in targets:
            peaks.rss_mb = max(peaks.rss_mb, rss)
            peaks.jvm_heap_mb = max(peaks.jvm_heap_mb, heap)
            peaks.jvm_rss_mb = max(peaks.jvm_rss_mb, jvm_rss)
            peaks.samples += 1

    def _jvm_heap_mb(self) -> float:
        if self.spark is None:
            return 0.0
        try:
            bean = self.spark._jvm.java.lang.management.ManagementFactory.getMemoryMXBean()
            return float(bean.getHeapMemoryUsage().getUsed()) / MIB
        except Exception:  # the gateway is closing at shutdown: no sample, not a failure
            return 0.0


def _driver_rss_mb() -> float:
    return read_status_kb("self", "VmRSS") / 1024


def cpu_seconds(pid: int | str = "self") -> float:
    """User + system CPU seconds of a process so far (``/proc/<pid>/stat``; 0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # after the ")" that closes the command name: field 3 (state) is index 0, utime (14) index 11, stime (15) 12
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def thread_cpu_seconds(pid: int) -> dict[str, float]:
    """CPU seconds per thread group of a process (``/proc/<pid>/task``), threads grouped by name without digits.

    For the JVM this splits the work between task threads (``Executor task launch worker``), garbage collection
    (``GC Thread``, ``G1 ...``), the JIT compilers (``C1/C2 CompilerThread``) and the rest, which no JVM API
    reports for the VM's own threads.
    """
    groups: dict[str, float] = {}
    ticks = os.sysconf("SC_CLK_TCK")
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return groups
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/stat") as stat:
                text = stat.read()
        except OSError:
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        fields = text.rsplit(")", 1)[1].split()
        group = "".join(ch for ch in name if not ch.isdigit()).rstrip("#- ").strip() or name
        groups[group] = groups.get(group, 0.0) + (int(fields[11]) + int(fields[12])) / ticks
    return groups
