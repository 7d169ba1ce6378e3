"""The Delta adapter on tiny tables: MERGE rules, first-load append, schema evolution, CDF and resync deletes."""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa
import pytest
from chispa import assert_df_equality
from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F  # noqa: N812
from pyspark.sql.types import (
    ArrayType,
    BooleanType,
    DoubleType,
    FloatType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
)

from cdf_replicator.delta_sink import (
    PRUNE_MAX_SPACES,
    MergeResult,
    TableChange,
    append_batch,
    delete_unseen,
    ensure_table,
    latest_per_key,
    merge_batch,
    reset_seen_keys,
    stage_seen_keys,
    table_version,
)
from cdf_replicator.errors import SchemaChangeError
from cdf_replicator.frames import KeyBounds, key_bounds

pytestmark = pytest.mark.spark

TABLE = StructType(
    [
        StructField("space", StringType(), False),
        StructField("externalId", StringType(), False),
        StructField("version", LongType(), False),
        StructField("lastUpdatedTime", LongType(), False),
        StructField("name", StringType(), True),
    ]
)
BATCH = StructType([*TABLE.fields, StructField("_deleted", BooleanType(), False)])

Row = tuple[str, str, int, int, str | None]


def live(xid: str, version: int, updated: int, name: str | None = None, space: str = "sp") -> tuple[Any, ...]:
    return (space, xid, version, updated, name, False)


def tomb(xid: str, version: int, updated: int, space: str = "sp") -> tuple[Any, ...]:
    return (space, xid, version, updated, None, True)


def batch(spark: SparkSession, *rows: tuple[Any, ...]) -> DataFrame:
    return spark.createDataFrame(list(rows), BATCH)


def expected(spark: SparkSession, *rows: Row) -> DataFrame:
    return spark.createDataFrame(list(rows), TABLE)


def content(spark: SparkSession, path: str) -> DataFrame:
    return spark.read.format("delta").load(path)


def assert_table(spark: SparkSession, path: str, *rows: Row) -> None:
    assert_df_equality(content(spark, path), expected(spark, *rows), ignore_row_order=True, ignore_nullable=True)


@pytest.fixture()
def path(spark: SparkSession, tmp_path: Any) -> str:
    """A table holding a (v2), b (v2), c (v2), loaded through the first-load path."""
    table = str(tmp_path / "nodes")
    ensure_table(spark, table, TABLE)
    merge_batch(spark, table, batch(spark, live("a", 2, 200, "a2"), live("b", 2, 200, "b2"), live("c", 2, 200, "c2")))
    return table


def test_latest_per_key_orders_by_update_time_then_version_and_a_tombstone_wins_a_tie(spark: SparkSession) -> None:
    rows = batch(
        spark,
        live("a", 1, 100, "old"),
        live("a", 2, 200, "new"),
        tomb("b", 5, 300),
        live("b", 1, 400, "recreated"),  # re-created after a delete: version restarts, time decides
        live("c", 3, 300, "tie"),
        tomb("c", 3, 300),  # same (time, version): the tombstone is that row, deleted
        live("a", 2, 200, "new", space="other"),  # same externalId in another space is another key
    )
    want = batch(
        spark,
        live("a", 2, 200, "new"),
        live("b", 1, 400, "recreated"),
        tomb("c", 3, 300),
        live("a", 2, 200, "new", space="other"),
    )
    assert_df_equality(latest_per_key(rows), want, ignore_row_order=True)


def test_first_load_appends_the_newest_live_rows(spark: SparkSession, tmp_path: Any) -> None:
    table = str(tmp_path / "nodes")
    assert ensure_table(spark, table, BATCH) == TableChange(created=True)
    assert "_deleted" not in content(spark, table).columns

    result = merge_batch(
        spark, table, batch(spark, live("a", 1, 100, "a1"), live("a", 2, 200, "a2"), tomb("b", 3, 300), live("c", 1, 1))
    )

    assert result == MergeResult(upserted=2, deleted=0, table_version=1)
    assert DeltaTable.forPath(spark, table).history(1).first()["operation"] == "WRITE"
    assert_table(spark, table, ("sp", "a", 2, 200, "a2"), ("sp", "c", 1, 1, None))


def test_only_strictly_newer_rows_update(spark: SparkSession, path: str) -> None:
    result = merge_batch(
        spark,
        path,
        batch(
            spark,
            live("a", 3, 300, "a3"),  # newer: wins
            live("b", 1, 100, "b1"),  # older: ignored
            live("c", 2, 200, "changed?"),  # equal (time, version): ignored
            live("d", 1, 100, "d1"),  # new key: inserted
        ),
    )

    assert (result.upserted, result.deleted) == (2, 0)
    assert DeltaTable.forPath(spark, path).history(1).first()["operation"] == "MERGE"
    assert_table(
        spark,
        path,
        ("sp", "a", 3, 300, "a3"),
        ("sp", "b", 2, 200, "b2"),
        ("sp", "c", 2, 200, "c2"),
        ("sp", "d", 1, 100, "d1"),
    )


def test_tombstones_delete_newer_or_equal_rows_and_unknown_keys_are_a_no_op(spark: SparkSession, path: str) -> None:
    result = merge_batch(
        spark,
        path,
        batch(spark, tomb("a", 3, 300), tomb("b", 2, 200), tomb("c", 1, 100), tomb("zz", 1, 100)),
    )

    assert (result.upserted, result.deleted) == (0, 2)
    assert_table(spark, path, ("sp", "c", 2, 200, "c2"))


def test_delete_and_recreate_in_one_batch_keeps_the_recreated_row(spark: SparkSession, path: str) -> None:
    result = merge_batch(spark, path, batch(spark, tomb("a", 3, 300), live("a", 1, 400, "reborn")))

    assert (result.upserted, result.deleted) == (1, 0)
    assert_table(spark, path, ("sp", "a", 1, 400, "reborn"), ("sp", "b", 2, 200, "b2"), ("sp", "c", 2, 200, "c2"))


def test_rerunning_a_batch_changes_nothing(spark: SparkSession, path: str) -> None:
    rows = batch(spark, live("a", 3, 300, "a3"), tomb("b", 3, 300), live("d", 1, 100, "d1"), live("c", 1, 50, "c1"))
    first = merge_batch(spark, path, rows)
    second = merge_batch(spark, path, rows)

    assert (first.upserted, first.deleted) == (2, 1)
    assert (second.upserted, second.deleted) == (0, 0)
    assert second.table_version >= first.table_version
    assert_table(spark, path, ("sp", "a", 3, 300, "a3"), ("sp", "c", 2, 200, "c2"), ("sp", "d", 1, 100, "d1"))


def test_an_empty_batch_commits_nothing(spark: SparkSession, path: str) -> None:
    before = table_version(spark, path)
    assert merge_batch(spark, path, batch(spark)) == MergeResult(0, 0, before)
    assert table_version(spark, path) == before


def test_keys_with_quotes_and_unicode_across_spaces(spark: SparkSession, path: str) -> None:
    odd = 'it\'s "quoted" ` ünïcødé 名前'
    merge_batch(spark, path, batch(spark, live(odd, 1, 100, "x"), live("a", 5, 500, "other-space", space="sp2")))
    merge_batch(spark, path, batch(spark, live(odd, 2, 200, "y")))

    assert_table(
        spark,
        path,
        ("sp", "a", 2, 200, "a2"),
        ("sp", "b", 2, 200, "b2"),
        ("sp", "c", 2, 200, "c2"),
        ("sp", odd, 2, 200, "y"),
        ("sp2", "a", 5, 500, "other-space"),
    )


def test_a_new_property_becomes_a_column(spark: SparkSession, path: str) -> None:
    wider = StructType([*TABLE.fields, StructField("rating", ArrayType(LongType()), True)])
    assert ensure_table(spark, path, wider) == TableChange(added=("rating",))
    assert ensure_table(spark, path, wider) == TableChange()

    rows = spark.createDataFrame([("sp", "a", 3, 300, "a3", [1, 2], False)], [*wider.fieldNames(), "_deleted"])
    merge_batch(spark, path, rows)

    want = spark.createDataFrame(
        [("sp", "a", 3, 300, "a3", [1, 2]), ("sp", "b", 2, 200, "b2", None), ("sp", "c", 2, 200, "c2", None)], wider
    )
    assert_df_equality(content(spark, path), want, ignore_row_order=True, ignore_nullable=True)


def test_a_column_the_batch_lacks_is_nulled_and_names_match_in_any_case(spark: SparkSession, path: str) -> None:
    narrower = batch(spark, live("a", 3, 300)).drop("name")
    other_case = batch(spark, live("b", 3, 300, "B3")).withColumnRenamed("name", "NAME")
    merge_batch(spark, path, narrower)
    merge_batch(spark, path, other_case)
    assert_table(spark, path, ("sp", "a", 3, 300, None), ("sp", "b", 3, 300, "B3"), ("sp", "c", 2, 200, "c2"))


def test_int_and_float_widen_to_long_and_double(spark: SparkSession, tmp_path: Any) -> None:
    table = str(tmp_path / "nodes")
    narrow = StructType(
        [
            StructField("space", StringType(), False),
            StructField("externalId", StringType(), False),
            StructField("count", IntegerType(), True),
            StructField("score", FloatType(), True),
            StructField("sizes", ArrayType(IntegerType()), True),
        ]
    )
    wide = StructType(
        [
            *narrow.fields[:2],
            StructField("count", LongType(), True),
            StructField("score", DoubleType(), True),
            StructField("sizes", ArrayType(LongType()), True),
        ]
    )
    ensure_table(spark, table, narrow)
    spark.createDataFrame([("sp", "a", 7, 1.5, [1, 2])], narrow).write.format("delta").mode("append").save(table)

    assert ensure_table(spark, table, wide) == TableChange(widened=("count", "score", "sizes"))
    assert ensure_table(spark, table, narrow) == TableChange()  # narrower values still fit: nothing to do

    want = spark.createDataFrame([("sp", "a", 7, 1.5, [1, 2])], wide)
    assert_df_equality(content(spark, table), want, ignore_nullable=True)
    properties = DeltaTable.forPath(spark, table).detail().first()["properties"]
    assert properties["delta.enableChangeDataFeed"] == "true"


def test_an_incompatible_type_change_raises_with_the_way_out(spark: SparkSession, path: str) -> None:
    changed = StructType([*TABLE.fields[:4], StructField("name", LongType(), True)])
    before = table_version(spark, path)

    with pytest.raises(SchemaChangeError) as raised:
        ensure_table(spark, path, changed, view_id="sp/Movies/v1/Movie")

    assert str(raised.value) == (
        f"{path}: column 'name' changed type from string to bigint, which cannot be converted without loss; "
        "reprocess the view with `cdf-replicator reset-view --view sp/Movies/v1/Movie --drop-tables`"
    )
    assert table_version(spark, path) == before


def test_change_data_feed_records_every_change(spark: SparkSession, path: str) -> None:
    merge_batch(spark, path, batch(spark, live("a", 3, 300, "a3"), tomb("b", 3, 300)))

    changes = (
        spark.read.format("delta")
        .option("readChangeFeed", "true")
        .option("startingVersion", 1)
        .load(path)
        .select("externalId", "version", "_change_type", "_commit_version")
    )
    schema = "externalId string, version long, _change_type string, _commit_version long"
    want = spark.createDataFrame(
        [
            ("a", 2, "insert", 1),
            ("b", 2, "insert", 1),
            ("c", 2, "insert", 1),
            ("a", 2, "update_preimage", 2),
            ("a", 3, "update_postimage", 2),
            ("b", 2, "delete", 2),
        ],
        schema,
    )
    assert_df_equality(changes, want, ignore_row_order=True, ignore_nullable=True)


def test_delete_unseen_removes_what_the_resync_did_not_see(spark: SparkSession, path: str, tmp_path: Any) -> None:
    seen = str(tmp_path / "seen")
    with pytest.raises(ValueError, match="refusing to delete"):
        delete_unseen(spark, path, seen)

    reset_seen_keys(spark, seen)
    resync = batch(spark, live("a", 3, 300, "a3"), live("d", 1, 100, "d1"), tomb("c", 3, 300))
    merge_batch(spark, path, resync)
    stage_seen_keys(spark, seen, resync)
    stage_seen_keys(spark, seen, resync)  # a replay after a kill only adds duplicates

    assert delete_unseen(spark, path, seen) == 1  # b: deleted in CDF while the cursor was dead
    assert delete_unseen(spark, path, seen) == 0
    assert_table(spark, path, ("sp", "a", 3, 300, "a3"), ("sp", "d", 1, 100, "d1"))

    reset_seen_keys(spark, seen)
    assert content(spark, seen).count() == 0


def _last_metrics(spark: SparkSession, path: str) -> dict[str, str]:
    return DeltaTable.forPath(spark, path).history(1).first()["operationMetrics"]


def test_new_tables_get_deletion_vectors_so_a_merge_rewrites_no_unchanged_row(spark: SparkSession, path: str) -> None:
    properties = DeltaTable.forPath(spark, path).detail().first()["properties"]
    assert properties["delta.enableDeletionVectors"] == "true"

    merge_batch(spark, path, batch(spark, live("a", 3, 300, "a3"), tomb("b", 3, 300)))

    metrics = _last_metrics(spark, path)
    # a and b are marked in a deletion vector; c stays where it is instead of being copied into a new file.
    assert metrics["numTargetRowsCopied"] == "0" and int(metrics["numTargetDeletionVectorsAdded"]) >= 1
    assert_table(spark, path, ("sp", "a", 3, 300, "a3"), ("sp", "c", 2, 200, "c2"))


def test_without_deletion_vectors_a_merge_copies_the_unchanged_rows(spark: SparkSession, tmp_path: Any) -> None:
    table = str(tmp_path / "nodes")
    ensure_table(spark, table, TABLE, deletion_vectors=False)
    merge_batch(spark, table, batch(spark, live("a", 2, 200, "a2"), live("b", 2, 200, "b2")).coalesce(1))  # one file
    assert "delta.enableDeletionVectors" not in DeltaTable.forPath(spark, table).detail().first()["properties"]

    merge_batch(spark, table, batch(spark, live("a", 3, 300, "a3")))

    assert _last_metrics(spark, table)["numTargetRowsCopied"] == "1"
    assert_table(spark, table, ("sp", "a", 3, 300, "a3"), ("sp", "b", 2, 200, "b2"))


def _last_clauses(spark: SparkSession, path: str) -> tuple[list[str], list[str]]:
    """The action types of the latest MERGE's matched and not-matched clauses, as its commit records them."""
    parameters = DeltaTable.forPath(spark, path).history(1).first()["operationParameters"]
    matched, not_matched = (
        [clause["actionType"] for clause in json.loads(parameters[name])]
        for name in ("matchedPredicates", "notMatchedPredicates")
    )
    return matched, not_matched


@pytest.mark.parametrize("reduced", [False, True], ids=["spark-window", "arrow-bounds"])
def test_a_batch_of_tombstones_alone_is_a_matched_only_delete(spark: SparkSession, path: str, reduced: bool) -> None:
    rows = batch(spark, tomb("a", 3, 300), tomb("b", 1, 100), tomb("zz", 1, 100))
    result = merge_batch(spark, path, rows, _bounds(rows) if reduced else None)

    assert (result.upserted, result.deleted) == (0, 1)
    matched, not_matched = _last_clauses(spark, path)
    assert (matched, not_matched) == (["delete"], [])
    assert_table(spark, path, ("sp", "b", 2, 200, "b2"), ("sp", "c", 2, 200, "c2"))


@pytest.mark.parametrize("reduced", [False, True], ids=["spark-window", "arrow-bounds"])
def test_a_batch_without_tombstones_has_no_delete_clause(spark: SparkSession, path: str, reduced: bool) -> None:
    rows = batch(spark, live("a", 3, 300, "a3"), live("d", 1, 100, "d1"))
    result = merge_batch(spark, path, rows, _bounds(rows) if reduced else None)

    assert (result.upserted, result.deleted) == (2, 0)
    matched, not_matched = _last_clauses(spark, path)
    assert (matched, not_matched) == (["update"], ["insert"])
    assert_table(
        spark,
        path,
        ("sp", "a", 3, 300, "a3"),
        ("sp", "b", 2, 200, "b2"),
        ("sp", "c", 2, 200, "c2"),
        ("sp", "d", 1, 100, "d1"),
    )


def _bounds(rows: DataFrame) -> KeyBounds:
    return key_bounds(pa.Table.from_pylist([row.asDict() for row in rows.collect()]), PRUNE_MAX_SPACES)


def test_append_batch_writes_the_live_rows_and_drops_tombstones(spark: SparkSession, path: str) -> None:
    result = append_batch(spark, path, batch(spark, live("d", 1, 100, "d1"), tomb("e", 1, 100)))

    assert result.upserted == 1 and result.deleted == 0
    assert DeltaTable.forPath(spark, path).history(1).first()["operation"] == "WRITE"
    rows = [("sp", xid, 2, 200, f"{xid}2") for xid in "abc"] + [("sp", "d", 1, 100, "d1")]
    assert_table(spark, path, *rows)


def test_append_batch_refuses_columns_the_table_lacks(spark: SparkSession, path: str) -> None:
    extra = batch(spark, live("d", 1, 100, "d1")).withColumn("rating", F.lit(1))
    with pytest.raises(ValueError, match="rating"):
        append_batch(spark, path, extra)
