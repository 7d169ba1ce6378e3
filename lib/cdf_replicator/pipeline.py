"""Orchestration of a replicate run: resolve the config's views, run every table, summarise."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from pyspark.sql import SparkSession

from cdf_replicator.config import (
    Config,
    DeltaStateStoreConfig,
    MemoryStateStoreConfig,
    RawStateStoreConfig,
)
from cdf_replicator.errors import ConfigError
from cdf_replicator.replicate import SyncSettings, TableContext, TableResult, replicate_table
from cdf_replicator.resolve import resolve_model
from cdf_replicator.state import DeltaStateStore, MemoryStateStore, RawStateStore, StateStore
from cdf_replicator.targets import Target, plan_targets

logger = logging.getLogger(__name__)

# Compact the Delta state table once about this many runs' worth of cursor rows (one file each) piled up.
STATE_COMPACTION_RUNS = 16


@dataclass
class RunSummary:
    """The tables of one replicate run and how each went."""

    results: list[TableResult]
    duration_s: float

    @property
    def failed(self) -> list[TableResult]:
        return [result for result in self.results if result.failed]


def resolve_targets(config: Config, client: Any, views: tuple[str, ...] = ()) -> list[Target]:
    """Every table the config asks for, resolved against CDF; ``views`` (``space/model/version/view``) filters."""
    targets: list[Target] = []
    for space in config.data_modeling:
        for model in space.data_models:
            resolved = resolve_model(client, space.space, model.external_id, model.version, model.views)
            targets.extend(plan_targets(resolved, config.root_uri, state_root(config), space.instance_spaces))
    if views:
        return select_targets(targets, views)
    return targets


def select_targets(targets: list[Target], views: tuple[str, ...]) -> list[Target]:
    """The targets of the given view ids; an id that matches nothing is a config error naming it."""
    known = {target.view_id for target in targets}
    unknown = [view for view in views if view not in known]
    if unknown:
        raise ConfigError(
            f"no configured view {', '.join(unknown)}; known views: {', '.join(sorted(known)) or 'none'}",
            path="--view",
        )
    return [target for target in targets if target.view_id in views]


def state_root(config: Config) -> str:
    """Where the Delta state table and resync bookkeeping live (``<root>/_state`` unless configured)."""
    return config.state_root or f"{config.root_uri}/_state"


def open_state_store(config: Config, spark: SparkSession, client: Any) -> StateStore:
    """The configured cursor store."""
    store_config = config.extractor.state_store
    if isinstance(store_config, RawStateStoreConfig):
        return RawStateStore(client, store_config.database, store_config.table)
    if isinstance(store_config, MemoryStateStoreConfig):
        return MemoryStateStore()
    assert isinstance(store_config, DeltaStateStoreConfig)
    return DeltaStateStore(spark, f"{state_root(config)}/cursors")


def sync_settings(config: Config) -> SyncSettings:
    extractor = config.extractor
    return SyncSettings(
        page_limit=extractor.subscription_batch_size,
        batch_rows=extractor.ingest_batch_size,
        prefetch_pages=extractor.max_page_buffer,
        deletion_vectors=config.destination.deletion_vectors,
    )


Progress = Callable[[TableResult, int, int], None]


def replicate(
    spark: SparkSession,
    client: Any,
    store: StateStore,
    targets: list[Target],
    settings: SyncSettings,
    workers: int,
    progress: Progress | None = None,
) -> RunSummary:
    """Run every table, ``workers`` at a time; a failing table is recorded and does not stop the others.

    Paging stops at the run's start time, so a view that changes all the time cannot keep the run alive.
    ``progress(result, done, total)`` is called as each table finishes.
    """
    started = time.monotonic()
    stop_at_ms = int(time.time() * 1000)
    ctx = TableContext(spark, client, store, settings, stop_at_ms)
    done = [0]
    lock = threading.Lock()

    def run(target: Target) -> TableResult:
        result = _run_isolated(ctx, target)
        if progress is not None:
            with lock:
                done[0] += 1
                progress(result, done[0], len(targets))
        return result

    # The Delta store reads its table once for the whole run instead of once per table, and counts its files
    # from that read; the run owns the keys of its tables, so nothing it needs can change behind it.
    with store.run_cache() if isinstance(store, DeltaStateStore) else nullcontext():
        with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="view") as pool:
            results = list(pool.map(run, targets))
        summary = RunSummary(results, time.monotonic() - started)
        if isinstance(store, DeltaStateStore):
            # Every run adds at least one state row (one file) per table, a backfill one per commit. The run
            # reads the table once, so a few dozen small files cost little; the compaction (a MERGE and an
            # OPTIMIZE, seconds on a small driver) is paid once every STATE_COMPACTION_RUNS runs, not after
            # every first load.
            store.compact(min_files=STATE_COMPACTION_RUNS * len(targets))
    return summary


def _run_isolated(ctx: TableContext, target: Target) -> TableResult:
    """The per-table isolation point: any error fails this table only, and its cursor stays where it was."""
    started = time.monotonic()
    try:
        result = replicate_table(ctx, target)
    except Exception as error:  # recorded, logged and turned into a failed run by the caller
        logger.error("%s failed: %s", target.label, _one_line(error), exc_info=logger.isEnabledFor(logging.DEBUG))
        result = TableResult(target, error=_one_line(error))
    result.duration_s = time.monotonic() - started
    _log_result(result)
    return result


def _log_result(result: TableResult) -> None:
    if result.failed:
        return
    logger.info(
        "%s: read %d, upserted %d, deleted %d%s in %.1fs (table version %s)",
        result.target.label,
        result.rows_read,
        result.upserted,
        result.deleted,
        f", resync removed {result.reconciled}" if result.resynced else "",
        result.duration_s,
        result.table_version,
    )


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    first = text[0] if text else ""
    return f"{type(error).__name__}: {first}" if not first or type(error).__module__ == "builtins" else first
