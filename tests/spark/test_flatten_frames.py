"""flatten_for_bi and friends on tiny DataFrames, compared whole with expected frames (chispa)."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from chispa import assert_df_equality
from pyspark.sql import SparkSession
from pyspark.sql.types import (
    ArrayType,
    BooleanType,
    DateType,
    DoubleType,
    LongType,
    MapType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from cdf_replicator.flatten import flatten_for_bi, key_counts, newest_per_key, with_schema_columns
from cdf_replicator.schema_mapping import SPARK_REF

pytestmark = pytest.mark.spark

UTC = timezone.utc
WHEN = datetime(2024, 1, 2, 3, 4, 5, 123000, tzinfo=UTC)

SOURCE = StructType(
    [
        StructField("space", StringType(), False),
        StructField("externalId", StringType(), False),
        StructField("type", SPARK_REF, True),
        StructField("when", TimestampType(), True),
        StructField("day", DateType(), True),
        StructField("value", DoubleType(), True),
        StructField("parent", SPARK_REF, True),
        StructField("stamps", ArrayType(TimestampType()), True),
        StructField("days", ArrayType(DateType()), True),
        StructField("refs", ArrayType(SPARK_REF), True),
        StructField("values", ArrayType(DoubleType()), True),
        StructField("metas", ArrayType(StringType()), True),
        StructField("attrs", MapType(StringType(), LongType()), True),
        StructField("_replicatedAt", TimestampType(), False),
    ]
)
FLAT = StructType(
    [
        StructField("space", StringType(), False),
        StructField("externalId", StringType(), False),
        StructField("type.space", StringType(), True),
        StructField("type.externalId", StringType(), True),
        StructField("when", TimestampType(), True),
        StructField("day", DateType(), True),
        StructField("value", DoubleType(), True),
        StructField("parent.space", StringType(), True),
        StructField("parent.externalId", StringType(), True),
        StructField("stamps", StringType(), True),
        StructField("days", StringType(), True),
        StructField("refs", StringType(), True),
        StructField("values", StringType(), True),
        StructField("metas", StringType(), True),
        StructField("attrs", StringType(), True),
        StructField("_replicatedAt", TimestampType(), False),
    ]
)


def test_flatten_splits_references_and_writes_stable_json(spark: SparkSession) -> None:
    source = spark.createDataFrame(
        [
            ("sp", "a", ("sp", "Pump"), WHEN, date(2024, 1, 2), 1.5, ("sp", "site"), [WHEN, None],
             [date(2024, 1, 2)], [("sp", "b"), ("o", None)], [0.1, 2.0], ['{"k":[1,2]}', None, '"s"'],
             {"n": 1}, WHEN),
            ("sp", "b", None, None, None, None, None, None, [], [], [], [], None, WHEN),
        ],
        SOURCE,
    )  # fmt: skip
    expected = spark.createDataFrame(
        [
            ("sp", "a", "sp", "Pump", WHEN, date(2024, 1, 2), 1.5, "sp", "site",
             '["2024-01-02T03:04:05.123Z",null]', '["2024-01-02"]',
             '[{"space":"sp","externalId":"b"},{"space":"o","externalId":null}]', "[0.1,2.0]",
             '[{"k":[1,2]},null,"s"]', '{"n":1}', WHEN),
            ("sp", "b", None, None, None, None, None, None, None, None, "[]", "[]", "[]", "[]", None, WHEN),
        ],
        FLAT,
    )  # fmt: skip
    assert_df_equality(flatten_for_bi(source, ["metas"]), expected, ignore_nullable=True)


def test_the_json_of_a_timestamp_does_not_depend_on_the_session_time_zone(spark: SparkSession) -> None:
    schema = StructType([StructField("stamps", ArrayType(TimestampType()))])
    previous = spark.conf.get("spark.sql.session.timeZone")
    spark.conf.set("spark.sql.session.timeZone", "America/New_York")
    try:
        flat = flatten_for_bi(spark.createDataFrame([([WHEN],)], schema))
        assert [row[0] for row in flat.collect()] == ['["2024-01-02T03:04:05.123Z"]']
    finally:
        spark.conf.set("spark.sql.session.timeZone", previous)


BATCH = StructType(
    [
        StructField("space", StringType(), False),
        StructField("externalId", StringType(), False),
        StructField("version", LongType(), False),
        StructField("lastUpdatedTime", LongType(), False),
        StructField("name", StringType(), True),
        StructField("_deleted", BooleanType(), True),
    ]
)


def test_rows_flagged_deleted_are_dropped_with_the_flag(spark: SparkSession) -> None:
    batch = spark.createDataFrame(
        [("sp", "a", 1, 10, "A", False), ("sp", "b", 1, 10, "B", True), ("sp", "c", 1, 10, "C", None)], BATCH
    )
    expected = spark.createDataFrame([("sp", "a", 1, 10, "A"), ("sp", "c", 1, 10, "C")], StructType(BATCH.fields[:5]))
    assert_df_equality(flatten_for_bi(batch), expected, ignore_row_order=True)


def test_newest_per_key_keeps_the_latest_row_of_each_key_and_space(spark: SparkSession) -> None:
    schema = StructType(BATCH.fields[:5])
    rows = [("sp", "a", 1, 10, "old"), ("sp", "a", 2, 10, "newer version"), ("sp", "a", 1, 5, "older time"),
            ("other", "a", 1, 1, "other space"), ("sp", "b", 1, 1, "only")]  # fmt: skip
    expected = [("sp", "a", 2, 10, "newer version"), ("other", "a", 1, 1, "other space"), ("sp", "b", 1, 1, "only")]
    assert_df_equality(
        newest_per_key(spark.createDataFrame(rows, schema)),
        spark.createDataFrame(expected, schema),
        ignore_row_order=True,
    )


def test_key_counts_tell_rows_from_distinct_keys(spark: SparkSession) -> None:
    schema = StructType(BATCH.fields[:5])
    frame = spark.createDataFrame([("sp", "a", 1, 1, None), ("sp", "a", 2, 2, None), ("o", "a", 1, 1, None)], schema)
    assert [tuple(row) for row in key_counts(frame).collect()] == [(3, 2)]
    assert [tuple(row) for row in key_counts(frame.limit(0)).collect()] == [(0, 0)]


def test_schema_columns_are_added_as_typed_nulls_and_extra_columns_kept(spark: SparkSession) -> None:
    table = spark.createDataFrame([("sp", "a", "gone")], "space string, externalId string, dropped string")
    view = StructType(
        [StructField("space", StringType()), StructField("EXTERNALID", StringType()), StructField("x", LongType())]
    )
    expected = spark.createDataFrame(
        [("sp", "a", None, "gone")], "space string, externalId string, x bigint, dropped string"
    )
    assert_df_equality(with_schema_columns(table, view), expected)
    assert with_schema_columns(table, None) is table
