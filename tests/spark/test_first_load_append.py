"""A first load appends its batches, and MERGEs any batch that repeats a key it already wrote."""

from __future__ import annotations

import time
from typing import Any

import pytest
from delta.tables import DeltaTable
from pyspark.sql import SparkSession

from cdf_emulator import Emulator
from cdf_replicator.replicate import SyncSettings, TableContext, TableResult, replicate_table
from cdf_replicator.resolve import resolve_model
from cdf_replicator.state import CursorState, MemoryStateStore
from cdf_replicator.targets import Target, plan_targets
from tests.bench import dataset

pytestmark = pytest.mark.spark

NODES = 47
SETTINGS = SyncSettings(page_limit=5, batch_rows=10, prefetch_pages=2)


class ChangingStore(MemoryStateStore):
    """After the first cursor save, changes CDF: the change phase then repeats keys the first batch wrote."""

    def __init__(self, state: Any, spark: SparkSession, path: str) -> None:
        super().__init__()
        self.state, self.spark, self.path = state, spark, path
        self.first_batch: list[str] = []
        self.changed: tuple[str, str] = ("", "")

    def set(self, key: str, state: CursorState) -> None:
        super().set(key, state)
        if self.first_batch:
            return
        rows = self.spark.read.format("delta").load(self.path).select("externalId").collect()
        self.first_batch = sorted(row[0] for row in rows)
        updated, deleted = self.first_batch[:2]
        self.state.instances.apply([dataset.node_item(int(updated.rsplit("-", 1)[1]), generation=1)])
        self.state.instances.delete([{"instanceType": "node", "space": dataset.SPACE, "externalId": deleted}])
        self.changed = (updated, deleted)


def _run(spark: SparkSession, emulator: Emulator, store: MemoryStateStore, target: Target) -> TableResult:
    ctx = TableContext(spark, emulator.client(), store, SETTINGS, int(time.time() * 1000) + 60_000)
    return replicate_table(ctx, target)


def _node_target(emulator: Emulator, tmp_path: Any) -> Target:
    model = resolve_model(emulator.client(), dataset.SPACE, dataset.MODEL, dataset.VERSION, [dataset.NODE_VIEW])
    root = f"file:{tmp_path}"
    return next(t for t in plan_targets(model, root, f"{root}/_state", None) if t.kind == "nodes")


def _operations(spark: SparkSession, path: str) -> list[str]:
    history = DeltaTable.forPath(spark, path).history().orderBy("version").collect()
    return [row["operation"] for row in history]


def test_a_first_load_appends_every_batch(spark: SparkSession, tmp_path: Any) -> None:
    with Emulator(project="bench") as emulator:
        dataset.seed(emulator.state, dataset.Sizes(nodes=NODES, edges=0))
        target = _node_target(emulator, tmp_path)
        result = _run(spark, emulator, MemoryStateStore(), target)
    assert result.error is None and result.upserted == NODES and result.commits == 5
    # Version 0 creates the table; each batch is a blind append (no MERGE joins against the table).
    assert _operations(spark, target.table_path) == ["CREATE TABLE"] + ["WRITE"] * 5
    table = spark.read.format("delta").load(target.table_path)
    assert table.count() == NODES == table.select("externalId").distinct().count()


def test_keys_repeated_in_the_change_phase_are_merged_not_appended_twice(spark: SparkSession, tmp_path: Any) -> None:
    with Emulator(project="bench") as emulator:
        dataset.seed(emulator.state, dataset.Sizes(nodes=NODES, edges=0))
        target = _node_target(emulator, tmp_path)
        store = ChangingStore(emulator.state, spark, target.table_path)
        result = _run(spark, emulator, store, target)
        live = {item["externalId"] for item in emulator.client().data_modeling.instances.list(limit=None).dump()}
    assert result.error is None
    updated, deleted = store.changed
    table = spark.read.format("delta").load(target.table_path)
    rows = {row["externalId"]: row for row in table.collect()}
    assert table.count() == len(rows) == NODES - 1  # one row per key: nothing appended twice
    assert set(rows) == live and deleted not in rows
    assert rows[updated]["name"] == f"item {int(updated.rsplit('-', 1)[1])} g1"
    assert result.deleted == 1
    operations = _operations(spark, target.table_path)
    assert operations[1] == "WRITE" and "MERGE" in operations, operations
