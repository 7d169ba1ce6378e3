"""Where the benchmark's emulator runs: in this process (a server thread) or in a child process.

In a child process (the default) the emulator behaves like a remote CDF: its JSON rendering does not take the
driver's GIL, and its million records do not count in the driver's RSS. In-process (``--emulator thread``) it
shares both with the driver, which is what a single-process run looks like. Either way the data goes straight
into the instance store (see :mod:`tests.bench.dataset`); the replicator only ever talks HTTP to it.

Both hosts answer the same few operations, each a plain function of the emulator (``OPERATIONS``).
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, Protocol

from tests.bench import dataset
from tests.bench.dataset import Changes, Sizes

PROJECT = "bench"


def seed(emulator: Any, sizes: Sizes) -> float:
    """Seed the store; returns the seconds it took."""
    started = time.perf_counter()
    dataset.seed(emulator.state, sizes)
    return time.perf_counter() - started


def apply_changes(emulator: Any, changes: Changes) -> float:
    """Apply an incremental cycle's updates and deletes; returns the seconds it took."""
    started = time.perf_counter()
    dataset.apply_changes(emulator.state, changes)
    return time.perf_counter() - started


def live_counts(emulator: Any) -> dict[str, int]:
    """Live nodes and edges (every live node has data in ``Item``, every live edge has the connection's type)."""
    store = emulator.state.instances
    return {"nodes": len(store.live_records("node")), "edges": len(store.live_records("edge"))}


def records(emulator: Any, kind: str, external_ids: list[str]) -> dict[str, dict[str, int] | None]:
    """System fields of the given instances (``None`` for a missing or deleted one), keyed by externalId."""
    store = emulator.state.instances
    found: dict[str, dict[str, int] | None] = {}
    for xid in external_ids:
        record = store.get((dataset.SPACE, xid))
        found[xid] = (
            None
            if record is None or record.kind != kind
            else {"version": record.version, "createdTime": record.created, "lastUpdatedTime": record.updated}
        )
    return found


def server_rss_mb(emulator: Any) -> float:
    """The emulator process's current RSS in MiB."""
    return read_status_kb("self", "VmRSS") / 1024


OPERATIONS: dict[str, Callable[..., Any]] = {
    "seed": seed,
    "apply_changes": apply_changes,
    "live_counts": live_counts,
    "records": records,
    "server_rss_mb": server_rss_mb,
}


def read_status_kb(pid: int | str, field: str) -> int:
    """A ``kB`` field of ``/proc/<pid>/status`` (Linux), 0 when absent."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


class EmulatorHost(Protocol):
    """A started emulator the benchmark can call operations on."""

    base_url: str
    pid: int | None  # the emulator's own process, None when it runs in this one

    def call(self, operation: str, *args: Any) -> Any: ...

    def stop(self) -> None: ...


class ThreadHost:
    """The emulator in this process, serving on a thread."""

    def __init__(self) -> None:
        from cdf_emulator import Emulator

        self.emulator = Emulator(project=PROJECT).start()
        self.base_url = self.emulator.base_url
        self.pid: int | None = None

    def call(self, operation: str, *args: Any) -> Any:
        return OPERATIONS[operation](self.emulator, *args)

    def stop(self) -> None:
        self.emulator.stop()


class ChildHost:
    """The emulator in a spawned child process; operations travel over a pipe."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child,), name="bench-emulator", daemon=True)
        self._process.start()
        self.base_url = str(self._conn.recv())
        self.pid = self._process.pid

    def call(self, operation: str, *args: Any) -> Any:
        self._conn.send((operation, args))
        ok, value = self._conn.recv()
        if not ok:
            raise RuntimeError(f"emulator operation {operation} failed: {value}")
        return value

    def stop(self) -> None:
        if self._process.is_alive():
            self._conn.send(None)
            self._process.join(timeout=30)


def _serve(conn: Connection) -> None:
    """Child process: start the emulator, then run operations until told to stop."""
    from cdf_emulator import Emulator

    emulator = Emulator(project=PROJECT).start()
    conn.send(emulator.base_url)
    try:
        while (message := conn.recv()) is not None:
            operation, args = message
            try:
                conn.send((True, OPERATIONS[operation](emulator, *args)))
            except Exception as error:  # reported to the parent, which raises
                conn.send((False, f"{type(error).__name__}: {error}"))
    finally:
        emulator.stop()


def start_host(where: str) -> EmulatorHost:
    """``process`` (a child process) or ``thread`` (this process)."""
    if where == "thread":
        return ThreadHost()
    if where == "process":
        return ChildHost()
    raise ValueError(f"unknown emulator host {where!r}")
