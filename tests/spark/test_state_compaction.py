"""The Delta state store compacts only once enough files piled up (``compact(min_files=...)``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from cdf_replicator.state import CursorState, DeltaStateStore, state_key

pytestmark = pytest.mark.spark

A = state_key("sp", "Movies", "v1", "Movie", "nodes")


def _rows(spark: SparkSession, path: str) -> int:
    return spark.read.format("delta").load(path).count()


def test_compaction_waits_for_min_files_then_keeps_only_the_latest_state(spark: SparkSession, tmp_path: Path) -> None:
    path = str(tmp_path / "_state")
    store = DeltaStateStore(spark, path)
    for n in range(3):
        store.set(A, CursorState(cursor=f"a{n}"))

    assert store.compact(min_files=4) is False
    assert _rows(spark, path) == 3

    store.set(A, CursorState(cursor="a3"))
    assert store.compact(min_files=4) is True
    assert _rows(spark, path) == 1
    assert store.get(A) == CursorState(cursor="a3")


B = state_key("sp", "Movies", "v1", "Movie", "edges")


def test_a_run_cache_reads_the_table_once_and_keeps_its_own_writes(spark: SparkSession, tmp_path: Path) -> None:
    path = str(tmp_path / "_state")
    store, other = DeltaStateStore(spark, path), DeltaStateStore(spark, path)
    with store.run_cache():  # no table yet: nothing to read, the first write creates it
        assert store.get(A) is None
        store.set(A, CursorState(cursor="a1"))
        assert store.get(A) == CursorState(cursor="a1")
    store.set(B, CursorState(cursor="b1"))

    with store.run_cache():
        assert (store.get(A), store.get(B)) == (CursorState(cursor="a1"), CursorState(cursor="b1"))
        store.set(A, CursorState(cursor="a2", table_version=3))
        store.delete(B)
        other.set(B, CursorState(cursor="written-by-another-run"))
        assert store.get(A) == CursorState(cursor="a2", table_version=3)
        assert store.get(B) is None  # its own delete; another writer's row is not seen inside the run
    # Every write reached the table: outside the cache the newest row of each key wins, whoever wrote it.
    assert store.get(A) == CursorState(cursor="a2", table_version=3)
    assert store.get(B) == CursorState(cursor="written-by-another-run")


def test_compaction_in_a_run_cache_counts_the_files_it_read_and_wrote(spark: SparkSession, tmp_path: Path) -> None:
    path = str(tmp_path / "_state")
    store = DeltaStateStore(spark, path)
    for n in range(2):
        store.set(A, CursorState(cursor=f"a{n}"))

    with store.run_cache():
        store.set(B, CursorState(cursor="b0"))
        assert store.compact(min_files=4) is False  # 3 files
        store.set(A, CursorState(cursor="a2"))
        assert store.compact(min_files=4) is True
        assert store.compact(min_files=2) is False  # one file after compaction
    assert _rows(spark, path) == 2
    assert (store.get(A), store.get(B)) == (CursorState(cursor="a2"), CursorState(cursor="b0"))
