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
