"""Benchmark: page one view of N instances through /models/instances/sync over real HTTP.

The emulator runs in a child process (so the client does not share its GIL), seeded through the
instance store directly. The parent pages with httpx at ``limit`` per page and prints instances/s
and the server's RSS before and after each full pass. Run:

    python -m tests.bench.emulator_sync --n 1000000
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import time
from multiprocessing.connection import Connection
from typing import Any

SPACE = "bench"
VIEW = {"type": "view", "space": SPACE, "externalId": "Item", "version": "v1"}
CONTAINER = {"type": "container", "space": SPACE, "externalId": "Item"}
PROPERTIES = {
    "name": {"type": "text"},
    "serial": {"type": "int64"},
    "weight": {"type": "float64"},
    "active": {"type": "boolean"},
    "installed": {"type": "timestamp"},
    "tags": {"type": "text", "list": True},
}


def rss_mb(pid: int | str = "self") -> float:
    """Resident set size of a process in MiB (Linux)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used (Linux ``/proc/<pid>/stat``)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def seed(emulator: Any, n: int, batch: int = 5000) -> None:
    """Create the schema and ``n`` nodes with data in one view, straight into the stores."""
    schema = emulator.state.schema
    schema.apply_spaces([{"space": SPACE}])
    schema.apply_containers(
        [{"space": SPACE, "externalId": "Item", "properties": {k: {"type": v} for k, v in PROPERTIES.items()}}]
    )
    mapped = {name: {"container": CONTAINER, "containerPropertyIdentifier": name} for name in PROPERTIES}
    schema.apply_views([{"space": SPACE, "externalId": "Item", "version": "v1", "properties": mapped}])
    store = emulator.state.instances
    for start in range(0, n, batch):
        store.apply([_item(i) for i in range(start, min(n, start + batch))])


def _item(i: int) -> dict[str, Any]:
    values = {
        "name": f"item {i}",
        "serial": 10_000_000 + i,
        "weight": i * 0.5,
        "active": i % 2 == 0,
        "installed": "2024-01-01T00:00:00.000+00:00",
        "tags": ["a", f"t{i % 7}"],
    }
    return {
        "instanceType": "node",
        "space": SPACE,
        "externalId": f"item-{i:07d}",
        "sources": [{"source": VIEW, "properties": values}],
    }


def serve(n: int, conn: Connection) -> None:
    """Child process: seed, start the emulator, report its URL, and serve until told to stop."""
    from cdf_emulator import Emulator

    emulator = Emulator(project="bench")
    started = time.perf_counter()
    seed(emulator, n)
    seeded_s = time.perf_counter() - started
    emulator.start()
    conn.send({"base_url": emulator.base_url, "seed_s": seeded_s})
    conn.recv()
    emulator.stop()


def page_all(base_url: str, limit: int, mode: str, client_kind: str) -> tuple[int, float, int]:
    """One full sync pass from a fresh cursor; returns (instances, seconds, pages)."""
    body: dict[str, Any] = {
        "with": {"items": {"nodes": {"filter": {"hasData": [VIEW]}}, "limit": limit, "mode": mode}},
        "select": {"items": {"sources": [{"source": VIEW, "properties": ["*"]}]}},
    }
    post = _sdk_poster(base_url) if client_kind == "sdk" else _httpx_poster(base_url)
    total = pages = 0
    started = time.perf_counter()
    while True:
        payload = post(body)
        items = payload["items"]["items"]
        total += len(items)
        pages += 1
        body["cursors"] = {"items": payload["nextCursor"]["items"]}
        if len(items) < limit:
            break
    return total, time.perf_counter() - started, pages


def _httpx_poster(base_url: str) -> Any:
    """POST with httpx2 (the SDK's HTTP client library) on one keep-alive connection."""
    import httpx2

    url = f"{base_url}/api/v1/projects/bench/models/instances/sync"
    client = httpx2.Client(headers={"Authorization": "Bearer bench", "content-type": "application/json"}, timeout=120)

    def post(body: dict[str, Any]) -> dict[str, Any]:
        response = client.post(url, content=json.dumps(body))
        response.raise_for_status()
        answer: dict[str, Any] = response.json()
        return answer

    return post


def _sdk_poster(base_url: str) -> Any:
    """POST through a real CogniteClient (gzip request bodies, retries, its JSON parsing)."""
    from cognite.client import ClientConfig, CogniteClient, global_config
    from cognite.client.credentials import Token

    global_config.disable_pypi_version_check = True
    client = CogniteClient(
        ClientConfig(client_name="bench", project="bench", credentials=Token("bench"), base_url=base_url)
    )

    def post(body: dict[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = client.post("/api/v1/projects/bench/models/instances/sync", json=body).json()
        return answer

    return post


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--limit", type=int, default=2000)
    parser.add_argument("--mode", default="twoPhase", choices=["onePhase", "twoPhase"])
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--client", default="httpx", choices=["httpx", "sdk"], help="httpx2 or CogniteClient.post")
    args = parser.parse_args()

    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=serve, args=(args.n, child), daemon=True)
    process.start()
    info = parent.recv()
    print(f"seeded {args.n} instances in {info['seed_s']:.1f} s; server RSS {rss_mb(process.pid):.0f} MiB")
    try:
        for number in range(1, args.passes + 1):
            before, server_cpu, client_cpu = rss_mb(process.pid), cpu_s(process.pid), cpu_s(os.getpid())
            count, seconds, pages = page_all(info["base_url"], args.limit, args.mode, args.client)
            after = rss_mb(process.pid)
            server_us = (cpu_s(process.pid) - server_cpu) / count * 1e6
            client_us = (cpu_s(os.getpid()) - client_cpu) / count * 1e6
            print(
                f"pass {number}: {count} instances in {pages} pages, {seconds:.2f} s, "
                f"{count / seconds:,.0f} instances/s; CPU per instance: server {server_us:.1f} us, "
                f"client {client_us:.1f} us; server RSS {before:.0f} -> {after:.0f} MiB; "
                f"load average {os.getloadavg()[0]:.1f}"
            )
    finally:
        parent.send("stop")
        process.join(timeout=30)


if __name__ == "__main__":
    main()
