"""Benchmark of the replicator against the bundled emulator: ``make bench`` / ``python -m tests.bench.run``.

Seeds N nodes (one view, 12 properties of mixed types) and M edges (an edge connection with an edge-source view)
straight into the emulator's store, then measures in one run, with the product's own code paths and one Spark
session: (a) raw fetch of every instance over HTTP, (b) the initial load into Delta, (c) an incremental cycle
after 1% updates and 0.1% deletes, (d) an idle cycle, (e) publish. It prints a table, the targets of issue 7, the
time per replicate step, and writes everything as JSON. It ends by checking the tables against the emulator
(counts and a sample of rows); a wrong result fails the run (exit code 1).

    python -m tests.bench.run --quick
    python -m tests.bench.run --nodes 1000000 --edges 200000 --root /tmp/bench-root --profile initial
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import shutil
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tests.bench import dataset
from tests.bench.dataset import Sizes
from tests.bench.measure import Meter, StageResult
from tests.bench.probes import MemoryProbe
from tests.bench.report import (
    evaluate_targets,
    format_steps,
    format_table,
    format_targets,
    format_timeline,
    ratio,
    write_json,
)
from tests.bench.session import BenchSession, open_bench_session
from tests.bench.verify import verify

logger = logging.getLogger("tests.bench")

QUICK = Sizes(nodes=50_000, edges=10_000)
FULL = Sizes(nodes=1_000_000, edges=200_000)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, help=f"nodes to seed (default {FULL.nodes:,}; --quick {QUICK.nodes:,})")
    parser.add_argument("--edges", type=int, help=f"edges to seed (default {FULL.edges:,}; --quick {QUICK.edges:,})")
    parser.add_argument("--quick", action="store_true", help="a small run (50,000 nodes, 10,000 edges)")
    parser.add_argument("--page-size", type=int, default=1000, help="sync page size (subscription-batch-size)")
    parser.add_argument("--batch-rows", type=int, default=200_000, help="rows per Delta commit (ingest-batch-size)")
    parser.add_argument("--workers", type=int, default=2, help="tables replicated at a time (extractor.workers)")
    parser.add_argument("--prefetch", type=int, default=2, help="pages fetched ahead (max-page-buffer)")
    parser.add_argument("--root", help="replication root (a local folder or Hadoop URI); default: a temporary folder")
    parser.add_argument("--keep", action="store_true", help="keep the temporary root after the run")
    parser.add_argument("--out", help="JSON results file (default bench-results/<timestamp>.json)")
    parser.add_argument(
        "--emulator",
        choices=("process", "thread"),
        default="process",
        help="run the emulator in a child process (like a remote CDF; default) or in this process",
    )
    parser.add_argument(
        "--profile",
        choices=("raw_fetch", "initial", "incremental", "idle", "publish"),
        help="cProfile this stage over all driver threads (stats next to the JSON file)",
    )
    parser.add_argument(
        "--raw-passes",
        type=int,
        default=2,
        help="raw fetch passes; the fastest is the floor (the emulator renders and caches pages on the first)",
    )
    parser.add_argument(
        "--idle-cycles", type=int, default=3, help="idle cycles to run; the median is reported (noise on a busy box)"
    )
    parser.add_argument(
        "--spark-conf",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra Spark setting, as the config's spark.conf takes it (repeatable), e.g. "
        "spark.databricks.delta.properties.defaults.enableDeletionVectors=true",
    )
    parser.add_argument(
        "--deletion-vectors",
        choices=("on", "off"),
        default="on",
        help="destination.deletion-vectors of the replicated tables (default on, as in the product)",
    )
    parser.add_argument("--driver-memory", default="4g", help="spark.driver.memory of the local session")
    parser.add_argument("-v", "--verbose", action="store_true", help="INFO logs of the replicator")
    args = parser.parse_args(argv)
    default = QUICK if args.quick else FULL
    args.sizes = Sizes(
        nodes=default.nodes if args.nodes is None else args.nodes,
        edges=default.edges if args.edges is None else args.edges,
    )
    if args.sizes.nodes < 1:
        parser.error("--nodes must be at least 1")
    if any("=" not in setting for setting in args.spark_conf):
        parser.error("--spark-conf takes KEY=VALUE")
    if args.raw_passes < 1 or args.idle_cycles < 1:
        parser.error("--raw-passes and --idle-cycles must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # a TextIOWrapper when run as a command
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("tests.bench").setLevel(logging.INFO)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out = Path(args.out or f"bench-results/{stamp}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = None if args.root else tempfile.mkdtemp(prefix="cdf-bench-")
    root = args.root or temporary
    assert root is not None
    try:
        document = run_benchmark(args, root, out)
    finally:
        if temporary and not args.keep:
            shutil.rmtree(temporary, ignore_errors=True)
    write_json(out, document)
    print(f"\nresults written to {out}")
    return 0 if document["ok"] else 1


def run_benchmark(args: argparse.Namespace, root: str, out: Path) -> dict[str, Any]:
    """Seed, measure every stage, verify; returns the JSON document."""
    sizes: Sizes = args.sizes
    probe = MemoryProbe().start()
    bench = open_bench_session(args, root, sizes)
    stages: dict[str, StageResult] = {}
    try:
        meter = Meter(
            probe,
            emulator_pid=bench.host.pid,
            profile_stage=args.profile,
            profile_prefix=str(out.with_suffix("")),
        )
        probe.attach_spark(bench.spark)
        meter.jvm_pid = probe.jvm_pid
        stages["raw_fetch"] = _fastest([bench.measure_raw_fetch(meter) for _ in range(args.raw_passes)])
        stages["initial"] = bench.measure_replicate(meter, "initial")
        changes = dataset.plan_changes(sizes.nodes)
        bench.setup["changes_s"] = round(bench.host.call("apply_changes", changes), 2)
        bench.setup["changes"] = {"updated": len(changes.updated), "deleted_nodes": len(changes.deleted)}
        stages["incremental"] = bench.measure_replicate(meter, "incremental")
        stages["idle"] = _median_idle([bench.measure_replicate(meter, "idle") for _ in range(args.idle_cycles)])
        stages["publish"] = bench.measure_publish(meter)
        logger.info("verifying the tables against the emulator")
        verification = verify(bench.spark, bench.host, bench.table_paths(), sizes, changes)
        server_rss = bench.host.call("server_rss_mb") if bench.host.pid else None
    finally:
        bench.close()
        probe.stop()
    return _document(args, root, bench, stages, verification, probe, server_rss)


def _fastest(passes: list[StageResult]) -> StageResult:
    """The fastest raw fetch pass, with every pass's seconds in its detail."""
    best = min(passes, key=lambda stage: stage.seconds)
    best.detail["all_passes_s"] = [round(stage.seconds, 3) for stage in passes]
    return best


def _median_idle(cycles: list[StageResult]) -> StageResult:
    """The idle cycle of median duration, with every cycle's seconds in its detail."""
    ordered = sorted(cycles, key=lambda stage: stage.seconds)
    median = ordered[(len(ordered) - 1) // 2]
    median.detail["all_cycles_s"] = [round(stage.seconds, 3) for stage in cycles]
    return median


def _document(
    args: argparse.Namespace,
    root: str,
    bench: BenchSession,
    stages: dict[str, StageResult],
    verification: Any,
    probe: MemoryProbe,
    server_rss: float | None,
) -> dict[str, Any]:
    views = len({target.view_id for target in bench.targets})
    checks = evaluate_targets(stages, views, args.sizes.nodes)
    print()
    print(format_table(stages))
    print()
    print(format_targets(checks))
    for name in ("initial", "incremental", "idle"):
        if name in stages:
            print()
            print(format_steps(stages[name]))
    for name in ("incremental", "idle"):
        if name in stages:
            print()
            print(format_timeline(stages[name]))
    for stage in stages.values():
        if stage.profile:
            print(f"\nprofile of {stage.name}:\n{stage.profile}")
    print(f"\nverification: {'OK' if verification.ok else 'FAILED'} {verification.as_dict()}")
    failed = [stage.name for stage in stages.values() if stage.error and stage.name != "publish"]
    return {
        "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "ok": verification.ok and not failed,
        "machine": _machine(),
        "options": {
            "nodes": args.sizes.nodes,
            "edges": args.sizes.edges,
            "page_size": args.page_size,
            "batch_rows": args.batch_rows,
            "workers": args.workers,
            "prefetch": args.prefetch,
            "emulator": args.emulator,
            "root": "temporary" if not args.root else args.root,
            "driver_memory": args.driver_memory,
            "spark_conf": args.spark_conf,
            "deletion_vectors": args.deletion_vectors,
        },
        "setup": bench.setup,
        "stages": {name: stage.as_dict() for name, stage in stages.items()},
        "ratio_initial_over_raw_fetch": ratio(stages),
        "targets": checks,
        "memory": {
            "driver_rss_high_water_mb": round(probe.high_water_mb(), 1),
            "jvm_heap_peak_mb": round(probe.overall.jvm_heap_mb, 1),
            "jvm_rss_peak_mb": round(probe.overall.jvm_rss_mb, 1),
            "emulator_rss_mb": server_rss,
        },
        "verification": verification.as_dict(),
        "failed_stages": failed,
    }


def _machine() -> dict[str, Any]:
    import pyspark

    memory_kb = 0
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                memory_kb = int(line.split()[1])
    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(memory_kb / 1024 / 1024, 1),
        "python": sys.version.split()[0],
        "pyspark": pyspark.__version__,
        "platform": platform.platform(),
    }


if __name__ == "__main__":
    sys.exit(main())
