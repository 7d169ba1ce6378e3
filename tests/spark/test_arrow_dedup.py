"""The Arrow reduction to one row per key agrees with the Spark window, and a pre-reduced batch MERGEs the same."""

from __future__ import annotations

import random
from typing import Any

import pyarrow as pa
import pytest
from chispa import assert_df_equality
from pyspark.sql import SparkSession
from pyspark.sql.types import BooleanType, LongType, StringType, StructField, StructType

from cdf_replicator.delta_sink import PRUNE_MAX_SPACES, ensure_table, latest_per_key, merge_batch
from cdf_replicator.frames import arrow_to_dataframe, key_bounds, newest_per_key

pytestmark = pytest.mark.spark

BATCH = StructType(
    [
        StructField("space", StringType(), False),
        StructField("externalId", StringType(), False),
        StructField("version", LongType(), False),
        StructField("lastUpdatedTime", LongType(), False),
        StructField("name", StringType(), True),
        StructField("_deleted", BooleanType(), False),
    ]
)


def random_rows(count: int, seed: int) -> list[tuple[Any, ...]]:
    """Few keys, many versions each, frequent ties in time and version, tombstones and re-creates."""
    rng = random.Random(seed)
    rows = []
    for _ in range(count):
        space, xid = rng.choice(["s1", "s2"]), f"x{rng.randrange(40)}"
        version, updated, deleted = rng.randrange(1, 4), rng.randrange(100, 104), rng.random() < 0.3
        rows.append((space, xid, version, updated, None if deleted else f"n{rng.randrange(3)}", deleted))
    return rows


def arrow(rows: list[tuple[Any, ...]]) -> pa.Table:
    names = BATCH.fieldNames()
    return pa.Table.from_pylist([dict(zip(names, row, strict=True)) for row in rows])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_arrow_and_spark_keep_the_same_row_per_key(spark: SparkSession, seed: int) -> None:
    rows = random_rows(400, seed)
    by_spark = latest_per_key(spark.createDataFrame(rows, BATCH))
    by_arrow = arrow_to_dataframe(spark, newest_per_key(arrow(rows)), BATCH)
    assert_df_equality(by_arrow, by_spark, ignore_row_order=True, ignore_nullable=True)


def test_a_pre_reduced_batch_with_bounds_merges_like_a_raw_batch(spark: SparkSession, tmp_path: Any) -> None:
    first, second = random_rows(300, 7), random_rows(300, 8)
    paths = {"raw": str(tmp_path / "raw"), "reduced": str(tmp_path / "reduced")}
    for path in paths.values():
        ensure_table(spark, path, BATCH)
    for rows in (first, second):
        merge_batch(spark, paths["raw"], spark.createDataFrame(rows, BATCH))
        reduced = newest_per_key(arrow(rows))
        bounds = key_bounds(reduced, PRUNE_MAX_SPACES)
        merge_batch(spark, paths["reduced"], arrow_to_dataframe(spark, reduced, BATCH), bounds)
    raw, reduced = (spark.read.format("delta").load(path) for path in paths.values())
    assert raw.count() > 0
    assert_df_equality(reduced, raw, ignore_row_order=True, ignore_nullable=True)
