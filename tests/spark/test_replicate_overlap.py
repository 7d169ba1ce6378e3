"""Commits run beside the paging of the next batch, yet in order: each cursor is saved right after its own commit."""

from __future__ import annotations

import time
from typing import Any

import pytest
from pyspark.sql import SparkSession

from cdf_emulator import Emulator
from cdf_replicator.delta_sink import table_version
from cdf_replicator.errors import SchemaChangeError
from cdf_replicator.replicate import SyncSettings, TableContext, replicate_table
from cdf_replicator.resolve import resolve_model
from cdf_replicator.state import CursorState, MemoryStateStore
from cdf_replicator.targets import Target, plan_targets
from tests.bench import dataset

pytestmark = pytest.mark.spark

NODES = 47


class RecordingStore(MemoryStateStore):
    """Records, at every save, the table's version and row count as they are at that moment."""

    def __init__(self, spark: SparkSession, path: str) -> None:
        super().__init__()
        self.spark = spark
        self.path = path
        self.saved: list[tuple[int | None, int, int]] = []

    def set(self, key: str, state: CursorState) -> None:
        rows = self.spark.read.format("delta").load(self.path).count()
        self.saved.append((state.table_version, table_version(self.spark, self.path), rows))
        super().set(key, state)


def _seeded_nodes_target(emulator: Emulator, tmp_path: Any) -> tuple[Any, Target]:
    """The benchmark's node view with ``NODES`` nodes in the emulator: its client and its nodes table."""
    dataset.seed(emulator.state, dataset.Sizes(nodes=NODES, edges=0))
    client = emulator.client()
    model = resolve_model(client, dataset.SPACE, dataset.MODEL, dataset.VERSION, [dataset.NODE_VIEW])
    root = f"file:{tmp_path}"
    return client, next(t for t in plan_targets(model, root, f"{root}/_state", None) if t.kind == "nodes")


def test_each_cursor_is_saved_after_its_commit_and_before_the_next(spark: SparkSession, tmp_path: Any) -> None:
    with Emulator(project="bench") as emulator:
        client, target = _seeded_nodes_target(emulator, tmp_path)
        store = RecordingStore(spark, target.table_path)
        settings = SyncSettings(page_limit=5, batch_rows=10, prefetch_pages=2)
        result = replicate_table(TableContext(spark, client, store, settings, int(time.time() * 1000)), target)
    assert result.error is None and result.rows_read == NODES
    # 10 rows per commit (two pages of 5), the last 7 in a final commit: 5 commits, each followed by its save.
    assert [rows for _, _, rows in store.saved] == [10, 20, 30, 40, 47]
    assert all(saved == current for saved, current, _ in store.saved)
    assert [saved for saved, _, _ in store.saved] == sorted({saved for saved, _, _ in store.saved})


def test_a_table_that_no_longer_fits_its_view_fails_the_incremental_run_and_keeps_the_cursor(
    spark: SparkSession, tmp_path: Any
) -> None:
    """The table check runs before any change is committed: its error stops the run with the table untouched."""
    with Emulator(project="bench") as emulator:
        client, target = _seeded_nodes_target(emulator, tmp_path)
        store = MemoryStateStore()
        settings = SyncSettings(page_limit=20, batch_rows=100)
        replicate_table(TableContext(spark, client, store, settings, int(time.time() * 1000)), target)
        # Someone rewrote the table with `count` as text: no widening turns int into string.
        table = spark.read.format("delta").load(target.table_path)
        table = table.withColumn("count", table["count"].cast("string"))
        table.write.format("delta").mode("overwrite").option("overwriteSchema", "true").save(target.table_path)
        before, cursor = table_version(spark, target.table_path), store.get(target.state_key)
        dataset.apply_changes(emulator.state, dataset.plan_changes(NODES, update_share=0.2))

        with pytest.raises(SchemaChangeError, match="count"):
            replicate_table(TableContext(spark, client, store, settings, int(time.time() * 1000)), target)
    assert table_version(spark, target.table_path) == before
    assert store.get(target.state_key) == cursor and cursor is not None and cursor.cursor is not None
