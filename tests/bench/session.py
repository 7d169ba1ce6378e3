"""The benchmark's one replicator session: config, CDF client, Spark session, targets and state store, built once
with the product's own functions (as ``cdf-replicator run`` builds them), and the stages measured against it.
"""

from __future__ import annotations

import argparse
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cdf_replicator.cdf import create_client, verify_access
from cdf_replicator.commands import open_session
from cdf_replicator.config import Config, parse_config
from cdf_replicator.pipeline import (
    open_state_store,
    replicate,
    resolve_targets,
    state_root,
    sync_settings,
)
from cdf_replicator.targets import Target
from tests.bench import dataset
from tests.bench.dataset import Sizes
from tests.bench.emulator_host import EmulatorHost, start_host
from tests.bench.measure import Meter, StageResult, timed
from tests.bench.raw_fetch import fetch_all

logger = logging.getLogger("tests.bench")

CONFIG = """
cognite:
  host: {host}
  project: {project}
  client-name: cdf-replicator-bench
  token: ${{BENCH_TOKEN}}
extractor:
  state-store:
    delta: {{}}
  subscription-batch-size: {page_size}
  ingest-batch-size: {batch_rows}
  workers: {workers}
  max-page-buffer: {prefetch}
data_modeling:
  - space: {space}
    data_models:
      - external_id: {model}
        version: {version}
        views: [{view}]
destination:
  path: {root}
  deletion-vectors: {deletion_vectors}
spark:
  master: local[*]
  shuffle-partitions: 2
  conf:
    spark.driver.memory: {driver_memory}
{extra_conf}"""


def bench_config(args: argparse.Namespace, host_url: str, root: str) -> Config:
    """The replicator config of the benchmark (a Delta state store under the root, as by default)."""
    text = CONFIG.format(
        host=host_url,
        project="bench",
        page_size=args.page_size,
        batch_rows=args.batch_rows,
        workers=args.workers,
        prefetch=args.prefetch,
        space=dataset.SPACE,
        model=dataset.MODEL,
        version=dataset.VERSION,
        view=dataset.NODE_VIEW,
        root=root,
        driver_memory=args.driver_memory,
        deletion_vectors="true" if args.deletion_vectors == "on" else "false",
        extra_conf="".join(f"    {key}: '{value}'\n" for key, _, value in (s.partition("=") for s in args.spark_conf)),
    )
    return parse_config(text, "bench config", {"BENCH_TOKEN": "bench-token"}, base_dir=Path.cwd())


@dataclass
class BenchSession:
    """Everything a stage needs; ``setup`` collects the one-off timings (seeding, session start)."""

    host: EmulatorHost
    config: Config
    client: Any
    spark: Any
    targets: list[Target]
    store: Any
    setup: dict[str, Any] = field(default_factory=dict)

    def table_paths(self) -> dict[str, str]:
        return {target.kind: target.table_path for target in self.targets}

    def measure_raw_fetch(self, meter: Meter) -> StageResult:
        settings = sync_settings(self.config)
        logger.info("(a) raw fetch: paging every table over HTTP, no processing")
        with meter.stage("raw_fetch", timed_steps=False) as stage:
            results = fetch_all(self.client, self.targets, settings.page_limit, self.config.extractor.workers)
        stage.instances = sum(result.instances for result in results)
        stage.tables = [
            {"table": r.label, "instances": r.instances, "pages": r.pages, "seconds": round(r.seconds, 3)}
            for r in results
        ]
        return stage

    def measure_replicate(self, meter: Meter, name: str) -> StageResult:
        """One replicate run over every table (the pipeline's ``replicate``, as the CLI calls it)."""
        logger.info("(%s) replicate", name)
        settings = sync_settings(self.config)
        with meter.stage(name) as stage:
            summary = replicate(
                self.spark, self.client, self.store, self.targets, settings, self.config.extractor.workers
            )
        stage.instances = sum(result.rows_read for result in summary.results)
        stage.tables = [
            {
                "table": r.target.label,
                "rows_read": r.rows_read,
                "upserted": r.upserted,
                "deleted": r.deleted,
                "commits": r.commits,
                "seconds": round(r.duration_s, 3),
                "table_version": r.table_version,
                **({"error": r.error} if r.error else {}),
            }
            for r in summary.results
        ]
        if summary.failed:
            stage.error = "; ".join(f"{r.target.label}: {r.error}" for r in summary.failed)
        return stage

    def measure_publish(self, meter: Meter) -> StageResult:
        try:
            from cdf_replicator.publish_run import publish_targets
        except ImportError:
            logger.warning("(e) publish: cdf_replicator.publish_run is not available; not measured")
            return StageResult("publish", error="not measured: publish not available")
        logger.info("(e) publish")
        with meter.stage("publish", timed_steps=False) as stage:
            code = publish_targets(self.config, self.spark, self.targets, state_root(self.config))
        live = self.host.call("live_counts")
        stage.instances = live["nodes"] + live["edges"]
        if code != 0:
            stage.error = f"publish returned exit code {code}"
        return stage

    def close(self) -> None:
        self.host.stop()


def open_bench_session(args: argparse.Namespace, root: str, sizes: Sizes) -> BenchSession:
    """Start and seed the emulator, then build the replicator's client, Spark session, targets and store."""
    host = start_host(args.emulator)
    try:
        logger.info(
            "seeding %s nodes and %s edges into the emulator (%s)",
            f"{sizes.nodes:,}",
            f"{sizes.edges:,}",
            args.emulator,
        )
        config = bench_config(args, host.base_url, root)
        client = create_client(config.cognite)
        verify_access(client, config.cognite)
        # The JVM starts while the emulator is seeded: neither waits for the other.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="bench-seed") as pool:
            seeding = pool.submit(host.call, "seed", sizes)
            spark, session_s = timed(lambda: open_session(config))
            seed_s = seeding.result()
        targets, resolve_s = timed(lambda: resolve_targets(config, client))
        store = open_state_store(config, spark, client)
    except BaseException:
        host.stop()
        raise
    setup = {"seed_s": round(seed_s, 2), "spark_session_s": round(session_s, 2), "resolve_s": round(resolve_s, 2)}
    setup["tables"] = [target.label for target in targets]
    logger.info("setup: %s", setup)
    return BenchSession(host, config, client, spark, targets, store, setup)
