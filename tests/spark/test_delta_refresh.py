"""``merge_batch(refresh=True)``: a resync fills values of rows whose instance did not change but whose view did."""

from __future__ import annotations

from typing import Any

import pytest
from chispa import assert_df_equality
from pyspark.sql import SparkSession
from pyspark.sql.types import BooleanType, LongType, StringType, StructField, StructType

from cdf_replicator.delta_sink import ensure_table, merge_batch

pytestmark = pytest.mark.spark

OLD = StructType(
    [
        StructField("space", StringType(), False),
        StructField("externalId", StringType(), False),
        StructField("version", LongType(), False),
        StructField("lastUpdatedTime", LongType(), False),
        StructField("name", StringType(), True),
    ]
)
# The view gained ``nationality``: the table gets the column, existing rows hold null in it.
NEW = StructType([*OLD.fields, StructField("nationality", StringType(), True)])
BATCH = StructType([*NEW.fields, StructField("_deleted", BooleanType(), False)])


def _table(spark: SparkSession, tmp_path: Any) -> str:
    path = str(tmp_path / "nodes")
    ensure_table(spark, path, OLD)
    rows = [("sp", "a", 2, 200, "a", False), ("sp", "b", 2, 200, "b", False), ("sp", "c", 2, 200, "c", False)]
    merge_batch(spark, path, spark.createDataFrame(rows, StructType([*OLD.fields, BATCH["_deleted"]])))
    ensure_table(spark, path, NEW)
    return path


# The resync sees every instance again at the same version: a and b with a value in the new column, c without.
RESYNC = [
    ("sp", "a", 2, 200, "a", "NO", False),
    ("sp", "b", 2, 200, "b", "SE", False),
    ("sp", "c", 2, 200, "c", None, False),
    ("sp", "d", 1, 100, "b-old", "DK", False),
]


@pytest.mark.parametrize("refresh", [True, False])
def test_refresh_updates_same_version_rows_whose_values_differ_and_only_those(
    spark: SparkSession, tmp_path: Any, refresh: bool
) -> None:
    path = _table(spark, tmp_path)

    result = merge_batch(spark, path, spark.createDataFrame(RESYNC, BATCH), refresh=refresh)

    filled = ("NO", "SE") if refresh else (None, None)
    expected = [
        ("sp", "a", 2, 200, "a", filled[0]),
        ("sp", "b", 2, 200, "b", filled[1]),
        ("sp", "c", 2, 200, "c", None),
        ("sp", "d", 1, 100, "b-old", "DK"),
    ]
    actual = spark.read.format("delta").load(path).select(*NEW.fieldNames())
    assert_df_equality(actual, spark.createDataFrame(expected, NEW), ignore_row_order=True, ignore_nullable=True)
    assert result.upserted == (3 if refresh else 1)  # c is equal: never rewritten; d is new
