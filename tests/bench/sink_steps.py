"""Micro-benchmark of the Delta side of a commit, step by step, with the JVM's CPU time per step.

The full benchmark shows that the JVM, not the Python driver, carries most of an initial load. This tool says
which step: it builds batches of the benchmark's node rows (the real ``page_to_arrow`` on sync-shaped items),
then times, on a warm session, each thing a commit does: the Arrow hand-over to the JVM, the newest-per-key
window, an append into an empty table, a MERGE of a batch of new keys, and a MERGE of spread updates and
deletes into the full table, with the table options of the product (Change Data Feed on) and variants
(``--variants``: Change Data Feed off, deletion vectors on). Run:

    python -m tests.bench.sink_steps --rows 1000000 --batch-rows 200000
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

import pyarrow as pa

from tests.bench import dataset
from tests.bench.probes import cpu_seconds

PAGE = 1000


def sync_item(i: int, generation: int = 0, updated_ms: int = 1_700_000_000_000) -> dict[str, Any]:
    """Node ``i`` as the sync API returns it (the benchmark generator's values, read shape)."""
    values = dataset.node_item(i, generation)["sources"][0]["properties"]
    return {
        "instanceType": "node",
        "space": dataset.SPACE,
        "externalId": dataset.node_xid(i),
        "version": 1 + generation,
        "createdTime": updated_ms,
        "lastUpdatedTime": updated_ms + generation,
        "properties": {dataset.SPACE: {f"{dataset.NODE_VIEW}/{dataset.VERSION}": values}},
    }


def node_target(root: str) -> Any:
    """The ``Item`` nodes target, resolved from a tiny in-process emulator (the real view definition)."""
    from cdf_emulator import Emulator
    from cdf_replicator.resolve import resolve_model
    from cdf_replicator.targets import plan_targets

    with Emulator(project="bench") as emulator:
        dataset.seed(emulator.state, dataset.Sizes(nodes=2, edges=1))
        model = resolve_model(emulator.client(), dataset.SPACE, dataset.MODEL, dataset.VERSION, [dataset.NODE_VIEW])
    return next(t for t in plan_targets(model, root, f"{root}/_state", None) if t.kind == "nodes")


def arrow_batch(
    target: Any, indexes: range | list[int], generation: int = 0, deleted: frozenset[int] = frozenset()
) -> pa.Table:
    from cdf_replicator.rows import page_to_arrow

    now = datetime.now(timezone.utc)
    pages = []
    items = [sync_item(i, generation) for i in indexes]
    for item, i in zip(items, indexes, strict=True):
        if i in deleted:
            item["deletedTime"] = item["lastUpdatedTime"]
    for start in range(0, len(items), PAGE):
        pages.append(page_to_arrow(items[start : start + PAGE], target.view, "nodes", now))
    return pa.concat_tables(pages)


@contextmanager
def step(name: str, jvm_pid: int, results: list[dict[str, Any]]) -> Iterator[None]:
    wall, driver, jvm = time.perf_counter(), cpu_seconds("self"), cpu_seconds(jvm_pid)
    yield
    row = {
        "step": name,
        "wall_s": round(time.perf_counter() - wall, 2),
        "driver_cpu_s": round(cpu_seconds("self") - driver, 2),
        "jvm_cpu_s": round(cpu_seconds(jvm_pid) - jvm, 2),
    }
    results.append(row)
    print(f"  {name:<58}{row['wall_s']:>8.2f} s wall {row['driver_cpu_s']:>7.2f} driver {row['jvm_cpu_s']:>7.2f} jvm")


def run_variant(
    spark: Any, target: Any, args: argparse.Namespace, properties: dict[str, str], root: str
) -> list[dict[str, Any]]:
    from cdf_replicator import delta_sink
    from cdf_replicator.frames import arrow_to_dataframe

    jvm_pid = int(spark._jvm.java.lang.ProcessHandle.current().pid())
    path = f"{root}/table-{int(time.time() * 1000)}"
    delta_sink.ensure_table(spark, path, target.schema)
    for key, value in properties.items():
        spark.sql(f"ALTER TABLE delta.`{path}` SET TBLPROPERTIES ('{key}' = '{value}')")
    results: list[dict[str, Any]] = []
    batches = [range(start, min(args.rows, start + args.batch_rows)) for start in range(0, args.rows, args.batch_rows)]
    for number, indexes in enumerate(batches):
        table = arrow_batch(target, indexes)
        with step(f"batch {number}: Arrow -> DataFrame + count", jvm_pid, results):
            arrow_to_dataframe(spark, table, target.batch_schema).count()
        with step(f"batch {number}: merge_batch ({'append' if number == 0 else 'MERGE'})", jvm_pid, results):
            commit(spark, path, target, table, args.dedup)
    changes = dataset.plan_changes(args.rows)
    touched = sorted(set(changes.updated) | set(changes.deleted))
    table = arrow_batch(target, touched, generation=1, deleted=frozenset(changes.deleted))
    with step(f"incremental: merge_batch of {len(touched):,} spread changes", jvm_pid, results):
        commit(spark, path, target, table, args.dedup)
    with step("full scan count", jvm_pid, results):
        spark.read.format("delta").load(path).count()
    return results


def commit(spark: Any, path: str, target: Any, table: pa.Table, dedup: str) -> None:
    """One commit as the product makes it (``arrow``: newest per key in Arrow) or with the Spark window."""
    from cdf_replicator import delta_sink
    from cdf_replicator.frames import arrow_to_dataframe, key_bounds, newest_per_key

    if dedup == "spark":
        delta_sink.merge_batch(spark, path, arrow_to_dataframe(spark, table, target.batch_schema))
        return
    reduced = newest_per_key(table)
    bounds = key_bounds(reduced, delta_sink.PRUNE_MAX_SPACES)
    delta_sink.merge_batch(spark, path, arrow_to_dataframe(spark, reduced, target.batch_schema), bounds)


VARIANTS = {
    "product": {},
    "no-cdf": {"delta.enableChangeDataFeed": "false"},
    "deletion-vectors": {"delta.enableDeletionVectors": "true"},
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch-rows", type=int, default=200_000)
    parser.add_argument("--dedup", choices=("arrow", "spark"), default="arrow", help="newest row per key by")
    parser.add_argument("--variants", nargs="*", default=["product"], choices=sorted(VARIANTS))
    args = parser.parse_args(argv)
    from cdf_replicator.spark import create_local_session

    root = tempfile.mkdtemp(prefix="cdf-sink-steps-")
    try:
        spark = create_local_session(app_name="sink-steps")
        target = node_target(f"file:{root}")
        print("warm-up (a small batch through every step)")
        warm = argparse.Namespace(rows=4000, batch_rows=2000, dedup=args.dedup)
        run_variant(spark, target, warm, {}, f"file:{root}/warm")
        for name in args.variants:
            print(f"variant {name}: {args.rows:,} rows in batches of {args.batch_rows:,}")
            run_variant(spark, target, args, VARIANTS[name], f"file:{root}/{name}")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
