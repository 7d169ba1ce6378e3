"""Replicate one table: page the sync API, MERGE batches into Delta, save the cursor after each commit."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

import pyarrow as pa
from delta.tables import DeltaTable
from pyspark.sql import SparkSession

from cdf_replicator import delta_sink, failpoints
from cdf_replicator.append_guard import AppendGuard
from cdf_replicator.errors import CursorExpiredError
from cdf_replicator.frames import arrow_to_dataframe, key_bounds, newest_per_key
from cdf_replicator.pager import Page, iter_sync_pages, prefetch
from cdf_replicator.rows import page_to_arrow
from cdf_replicator.state import CursorState, StateStore
from cdf_replicator.targets import Target

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SyncSettings:
    """How a run pages and commits: page size, rows per Delta commit, pages fetched ahead, new tables' features."""

    page_limit: int = 1000
    batch_rows: int = 200_000
    prefetch_pages: int = 2
    deletion_vectors: bool = True


@dataclass
class TableResult:
    """What one table's run did; ``error`` is set when it failed."""

    target: Target
    rows_read: int = 0
    upserted: int = 0
    deleted: int = 0
    reconciled: int = 0
    commits: int = 0
    resynced: bool = False
    table_version: int | None = None
    duration_s: float = 0.0
    error: str | None = None
    schema_changes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return self.error is not None


@dataclass(frozen=True)
class TableContext:
    """The adapters one table's run uses."""

    spark: SparkSession
    client: Any
    store: StateStore
    settings: SyncSettings
    stop_at_ms: int


def replicate_table(ctx: TableContext, target: Target) -> TableResult:
    """Bring one Delta table up to date with CDF.

    The first run backfills. A backfill into a table that already has rows (after ``reset-view``, or an
    expired or invalid cursor) is a full resync: it records every key it sees and, once caught up, deletes
    the rows it did not see, so deletes made while no valid cursor existed are not missed. A view that gained
    properties is resynced too: instances that do not change would otherwise never get the new columns' values.
    """
    started = time.monotonic()
    result = TableResult(target)
    state = ctx.store.get(target.state_key) or CursorState()
    gained = _gained_columns(ctx.spark, target) if state.cursor is not None else []
    if gained:
        # Instances that do not change would keep a new column null: only a resync brings their values in.
        # It starts before the columns are added, so a kill in between cannot skip it.
        logger.warning("%s: new columns %s; a full resync fills them", target.label, ", ".join(gained))
        state = _begin_resync(ctx, target, state)
    if state.cursor is None and not gained:
        # A backfill (first load, reset-view, a resync resumed): the table is created or checked, and the
        # backfill-or-resync decision made, on the commit thread while the first batch is fetched, since the
        # sync starts from no cursor either way. A first load into an empty table appends the batches whose
        # keys it has not written yet (the guard is armed by the decision).
        guard = AppendGuard(target.label, armed=False)
        initial = state

        def prepare() -> CursorState:
            change = _ensure_table(ctx, target, result)
            prepared, empty = _begin_backfill(ctx, target, initial, table_is_new=change.created)
            guard.armed = empty
            return prepared

        state = _sync(ctx, target, state, result, guard, prepare)
    else:
        _ensure_table(ctx, target, result)
        try:
            state = _sync(ctx, target, state, result)
        except CursorExpiredError as error:
            logger.warning("%s: %s; starting a full resync of the table", target.label, error)
            state = _begin_resync(ctx, target, state)
            state = _sync(ctx, target, state, result)
    if state.resyncing:
        _finish_resync(ctx, target, state, result)
    result.duration_s = time.monotonic() - started
    return result


def _ensure_table(ctx: TableContext, target: Target, result: TableResult) -> delta_sink.TableChange:
    """Create the table or evolve it to the view's schema; the changes go into ``result``."""
    change = delta_sink.ensure_table(
        ctx.spark,
        target.table_path,
        target.schema,
        view_id=target.view_id,
        deletion_vectors=ctx.settings.deletion_vectors,
    )
    result.schema_changes = [f"added {name}" for name in change.added] + [f"widened {name}" for name in change.widened]
    return change


def _begin_backfill(
    ctx: TableContext, target: Target, state: CursorState, table_is_new: bool
) -> tuple[CursorState, bool]:
    """The state to backfill from, and whether the table is empty (a plain first load, not a resync)."""
    # A table created by this run has no rows: skip the scan (a Spark job) that would tell.
    if state.resyncing or (not table_is_new and _has_rows(ctx.spark, target.table_path)):
        return _begin_resync(ctx, target, state), False
    return state, True


def _gained_columns(spark: SparkSession, target: Target) -> list[str]:
    """Columns the view has that the table lacks, when the table holds rows that need their values."""
    if not DeltaTable.isDeltaTable(spark, target.table_path):
        return []
    existing = {name.lower() for name in DeltaTable.forPath(spark, target.table_path).toDF().columns}
    gained = [name for name in target.schema.fieldNames() if name.lower() not in existing]
    return gained if gained and _has_rows(spark, target.table_path) else []


def _begin_resync(ctx: TableContext, target: Target, state: CursorState) -> CursorState:
    """Forget the cursor and the keys of any earlier resync; recorded so a killed resync resumes as one."""
    delta_sink.reset_seen_keys(ctx.spark, target.seen_keys_path)
    state = state.resync_started(_now_ms())
    ctx.store.set(target.state_key, state)
    return state


def _finish_resync(ctx: TableContext, target: Target, state: CursorState, result: TableResult) -> None:
    removed = delta_sink.delete_unseen(ctx.spark, target.table_path, target.seen_keys_path)
    result.reconciled = removed
    result.resynced = True
    result.table_version = delta_sink.table_version(ctx.spark, target.table_path)
    logger.warning("%s: full resync finished; removed %d rows that no longer exist in CDF", target.label, removed)
    ctx.store.set(target.state_key, replace(state.resync_finished(), table_version=result.table_version))


def _sync(
    ctx: TableContext,
    target: Target,
    state: CursorState,
    result: TableResult,
    guard: AppendGuard | None = None,
    prepare: Callable[[], CursorState] | None = None,
) -> CursorState:
    """Page from the saved cursor; commit every ``batch_rows`` rows and save the cursor after each commit.

    A full batch is committed on a second thread while the pages of the next batch are fetched and converted,
    so the JVM writes while Python reads (at most two batches are held). Commits still run one at a time, in
    order, and each saves its cursor before the next one starts, so a cursor never gets ahead of the table.
    ``prepare`` runs first on that thread, while the first batch is fetched; its state is the one committed on.
    """
    pages = iter_sync_pages(ctx.client, target.scope, state.cursor, ctx.settings.page_limit, ctx.stop_at_ms)
    buffered: list[pa.Table] = []
    rows = 0
    cursor = state.cursor
    replicated_at = datetime.now(timezone.utc)
    stream = prefetch(pages, ctx.settings.prefetch_pages)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="delta-commit") as committer:
        pending: Future[CursorState] | None = None if prepare is None else committer.submit(prepare)
        try:
            for page in stream:
                if pending is not None and pending.done() and pending.exception() is not None:
                    pending.result()  # the preparation or a commit failed: stop paging for nothing
                failpoints.hit("after_page")
                result.rows_read += len(page.items)
                cursor = page.cursor
                if page.items:
                    buffered.append(_to_arrow(target, page, replicated_at))
                    rows += len(page.items)
                if rows >= ctx.settings.batch_rows:
                    state = state if pending is None else pending.result()
                    pending = committer.submit(_commit, ctx, target, state, buffered, cursor, result, guard)
                    buffered, rows = [], 0
        finally:
            stream.close()
            # Also when paging failed: the batch in flight is valid work, and must not race a resync that follows.
            if pending is not None:
                state = pending.result()
    if cursor is not None:
        state = _commit(ctx, target, state, buffered, cursor, result, guard)
    return state


def _to_arrow(target: Target, page: Page, replicated_at: datetime) -> pa.Table:
    return page_to_arrow(
        page.items, target.view, target.kind, replicated_at, target.edge_properties, target.edge_source_refs
    )


def _commit(
    ctx: TableContext,
    target: Target,
    state: CursorState,
    buffered: list[pa.Table],
    cursor: str,
    result: TableResult,
    guard: AppendGuard | None = None,
) -> CursorState:
    """MERGE (or, in a first load, append) the buffered pages if any, then save the cursor: never the other way."""
    version = None
    if buffered:
        failpoints.hit("before_merge")
        # One row per key, found by Arrow here rather than by a Spark window in the sink: see newest_per_key.
        table = newest_per_key(pa.concat_tables(buffered))
        batch = arrow_to_dataframe(ctx.spark, table, target.batch_schema)
        bounds = key_bounds(table, delta_sink.PRUNE_MAX_SPACES)
        admitted, hashes = guard.admits(table) if guard is not None else (False, None)
        if admitted:
            merged = delta_sink.append_batch(ctx.spark, target.table_path, batch)
        else:
            # A resync also refreshes rows whose instance did not change but whose view did (new columns).
            merged = delta_sink.merge_batch(ctx.spark, target.table_path, batch, bounds, refresh=state.resyncing)
        if guard is not None and hashes is not None:
            guard.record(hashes)
        if state.resyncing:
            delta_sink.stage_seen_keys(ctx.spark, target.seen_keys_path, batch)
        result.upserted += merged.upserted
        result.deleted += merged.deleted
        result.commits += 1
        version = result.table_version = merged.table_version
        failpoints.hit("after_merge_before_cursor")
    state = state.advanced(cursor, version)
    ctx.store.set(target.state_key, state)
    return state


def _has_rows(spark: SparkSession, path: str) -> bool:
    if not DeltaTable.isDeltaTable(spark, path):
        return False
    return bool(spark.read.format("delta").load(path).limit(1).count())


def _now_ms() -> int:
    return int(time.time() * 1000)
