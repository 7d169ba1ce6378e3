"""The Delta adapter: create and evolve tables, MERGE batches of instances, reconcile after a full resync.

Every table is addressed by path (``delta.`<path>```), holds the *current* state of one view's nodes or edges,
one row per key (``space``, ``externalId``), and has Change Data Feed on so history stays readable.

Which row is newer
------------------
CDF gives every instance a ``version`` and a ``lastUpdatedTime``; both grow with every change. A hard delete
followed by a re-create starts a new instance whose ``version`` starts again at 1, so versions alone cannot order
a tombstone and the re-created row. Rows are therefore ordered by ``(lastUpdatedTime, version)``, and at an exact
tie a tombstone wins over a live row. The tie rule is the safe one if CDF leaves ``lastUpdatedTime`` and
``version`` unchanged on delete: a tombstone equal to the live row then is that row, deleted. The one case it gets
wrong, a delete and a re-create within the same millisecond with equal versions, cannot be told apart from it.
The cognite-sdk's own rule ("apply deletes first" within a page) agrees whenever the re-create is later.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from delta.tables import DeltaTable
from pyspark.sql import Column, DataFrame, Row, SparkSession, Window
from pyspark.sql import functions as F  # noqa: N812 (the usual PySpark alias)
from pyspark.sql.types import StringType, StructField, StructType

from cdf_replicator.columns import (
    DELETED,
    EXTERNAL_ID,
    KEY_COLUMNS,
    LAST_UPDATED_TIME,
    REPLICATED_AT,
    SPACE,
    VERSION,
)
from cdf_replicator.frames import KeyBounds
from cdf_replicator.table_schema import diff_schemas, sql_type

logger = logging.getLogger(__name__)

# Below this many rows the MERGE source is broadcast, so the target is never shuffled for a small change batch.
BROADCAST_MAX_ROWS = 200_000
# Above this many distinct spaces in a batch the MERGE condition names no spaces (the IN list would be huge).
PRUNE_MAX_SPACES = 100
SEEN_KEYS_SCHEMA = StructType([StructField(SPACE, StringType(), False), StructField(EXTERNAL_ID, StringType(), False)])


@dataclass(frozen=True)
class TableChange:
    """What ``ensure_table`` did: created the table, added columns, widened column types."""

    created: bool = False
    added: tuple[str, ...] = ()
    widened: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return self.created or bool(self.added) or bool(self.widened)


@dataclass(frozen=True)
class MergeResult:
    """Rows a batch inserted or updated, rows it deleted, and the table version of its commit."""

    upserted: int
    deleted: int
    table_version: int


def first_row(df: DataFrame) -> Row:
    """The first row of a query that always returns one (an aggregate, a table's history or detail)."""
    row = df.first()
    if row is None:
        raise ValueError("expected a row, the query returned none")
    return row


def quote_path(path: str) -> str:
    """``delta.`<path>``` with backticks in the path escaped, for SQL statements on path-based tables."""
    return "delta.`" + path.replace("`", "``") + "`"


def quote_name(name: str) -> str:
    """A column name as a backtick-quoted SQL identifier."""
    return "`" + name.replace("`", "``") + "`"


def table_version(spark: SparkSession, path: str) -> int:
    """The current version of the Delta table at ``path``."""
    return int(first_row(DeltaTable.forPath(spark, path).history(1).select("version"))[0])


def ensure_table(
    spark: SparkSession, path: str, schema: StructType, view_id: str | None = None, deletion_vectors: bool = True
) -> TableChange:
    """Create the table at ``path`` with ``schema`` and Change Data Feed on, or evolve it to ``schema``.

    A new table also gets deletion vectors when ``deletion_vectors`` is true: a MERGE that changes a few rows of
    a large file then marks them replaced instead of rewriting the file (an incremental cycle of 1% updates on a
    1M-row table no longer rewrites the table). Readers must support deletion vectors (delta-spark 2.3+,
    Databricks Runtime 12.2+); the published Parquet files are unaffected. An existing table keeps its setting.

    The batch-only ``_deleted`` column is never stored. An existing table keeps columns the schema no longer has.
    New columns are added (metadata only). ``int -> long`` and ``float -> double`` (also as array elements) widen
    by rewriting the table once with the wider schema: delta-spark 3.3's type-widening table feature covers only
    byte/short -> int on Spark 3.5 (int -> long and float -> double need Delta 4 on Spark 4), and the rewrite keeps
    history, time travel and the table's properties. Any other type change raises ``SchemaChangeError`` naming
    the column and both types; ``view_id`` (``space/model/version/view``) fills the ``reset-view`` advice.
    """
    schema = StructType([field for field in schema.fields if field.name != DELETED])
    if not DeltaTable.isDeltaTable(spark, path):
        builder = DeltaTable.createIfNotExists(spark).location(path).addColumns(schema)
        builder = builder.property("delta.enableChangeDataFeed", "true")
        if deletion_vectors:
            builder = builder.property("delta.enableDeletionVectors", "true")
        builder.execute()
        logger.info("created Delta table %s with %d columns", path, len(schema.fields))
        return TableChange(created=True)
    table = DeltaTable.forPath(spark, path)
    diff = diff_schemas(table.toDF().schema, schema, table=path, view_id=view_id)
    if diff.added:
        columns = ", ".join(f"{quote_name(field.name)} {sql_type(field.dataType)}" for field in diff.added)
        spark.sql(f"ALTER TABLE {quote_path(path)} ADD COLUMNS ({columns})")
        logger.info("added columns %s to %s", [field.name for field in diff.added], path)
    if diff.widened:
        _rewrite_with_types(spark, path, {field.name: field for field in diff.widened})
        logger.info("widened columns %s of %s", [field.name for field in diff.widened], path)
    _ensure_change_data_feed(spark, path, table)
    return TableChange(added=tuple(f.name for f in diff.added), widened=tuple(f.name for f in diff.widened))


def _rewrite_with_types(spark: SparkSession, path: str, widened: dict[str, StructField]) -> None:
    current = spark.read.format("delta").load(path)
    columns = [
        F.col(quote_name(name)).cast(widened[name].dataType).alias(name) if name in widened else F.col(quote_name(name))
        for name in current.columns
    ]
    # Delta reads the current snapshot and replaces its files in one commit, so overwriting the source is safe.
    current.select(columns).write.format("delta").mode("overwrite").option("overwriteSchema", "true").save(path)


def _ensure_change_data_feed(spark: SparkSession, path: str, table: DeltaTable) -> None:
    properties = first_row(table.detail().select("properties"))[0] or {}
    if properties.get("delta.enableChangeDataFeed", "false").lower() != "true":
        spark.sql(f"ALTER TABLE {quote_path(path)} SET TBLPROPERTIES ('delta.enableChangeDataFeed' = 'true')")
        logger.info("enabled Change Data Feed on %s", path)


def latest_per_key(df: DataFrame) -> DataFrame:
    """Keep one row per (space, externalId): the newest by ``(lastUpdatedTime, version)``, a tombstone at a tie.

    ``df`` needs ``space``, ``externalId``, ``version``, ``lastUpdatedTime`` and the batch-only ``_deleted`` flag
    (null counts as live). The result has the same columns. See the module docstring for why this order.
    """
    missing = [name for name in (*KEY_COLUMNS, VERSION, LAST_UPDATED_TIME, DELETED) if name not in df.columns]
    if missing:
        raise ValueError(f"batch lacks the columns {missing}")
    newest_first = Window.partitionBy(*KEY_COLUMNS).orderBy(
        F.col(LAST_UPDATED_TIME).desc_nulls_last(),
        F.col(VERSION).desc_nulls_last(),
        F.coalesce(F.col(DELETED), F.lit(False)).desc(),
    )
    rank = "__rank"
    return df.withColumn(rank, F.row_number().over(newest_first)).where(F.col(rank) == 1).drop(rank)


def _is_newer(source: str, target: str, or_equal: bool) -> Column:
    """``(lastUpdatedTime, version)`` of ``source`` compared with ``target``, lexicographically."""
    s_time, t_time = F.col(f"{source}.{LAST_UPDATED_TIME}"), F.col(f"{target}.{LAST_UPDATED_TIME}")
    s_version, t_version = F.col(f"{source}.{VERSION}"), F.col(f"{target}.{VERSION}")
    later_version = s_version >= t_version if or_equal else s_version > t_version
    return (s_time > t_time) | ((s_time == t_time) & later_version)


def merge_batch(
    spark: SparkSession, path: str, batch: DataFrame, bounds: KeyBounds | None = None, refresh: bool = False
) -> MergeResult:
    """Apply a batch of instances (live rows and ``_deleted`` tombstones) to the table at ``path`` in one commit.

    The batch is first reduced to the newest row per key (``latest_per_key``); then, keyed on (space, externalId)
    and ordered by ``(lastUpdatedTime, version)``:

    - a live row **updates** the target only when it is strictly newer, so replays and stale pages change nothing;
    - a live row with an unknown key is **inserted**;
    - a tombstone **deletes** the target when it is newer or equal (see the module docstring for the tie);
    - a tombstone with an unknown key, or older than the target, does nothing.

    Re-running the same batch therefore leaves the content unchanged (Delta may still record an empty commit).
    Table columns the batch lacks are set to null on insert and update: the view no longer has that property.
    The MERGE condition also names the batch's spaces and externalId range, so Delta skips files whose column
    statistics rule them out. When the table has no files yet (first load) the rows are appended instead, which
    skips the join entirely. Counts come from the commit's ``operationMetrics``, not from extra scans.

    ``bounds`` (from ``frames.key_bounds``) says the caller already reduced the batch to one row per key
    (``frames.newest_per_key``): the Spark window, its cache and the job that measures the batch are skipped.

    ``refresh`` (a full resync) also updates a row of the *same* ``(lastUpdatedTime, version)`` whose values
    differ: the instance did not change, but the view did (a new property mapped onto a container that already
    holds data), and only a resync can bring those values in. Rows with equal values are still left alone.
    """
    if bounds is not None:
        return _apply(spark, path, batch, bounds, refresh)
    source = latest_per_key(batch).cache()
    try:
        return _apply(spark, path, source, _measure(source), refresh)
    finally:
        source.unpersist()


def _measure(source: DataFrame) -> KeyBounds:
    """The ``KeyBounds`` of a DataFrame batch (one Spark job)."""
    row = first_row(
        source.agg(
            F.count(F.lit(1)).alias("rows"),
            F.min(EXTERNAL_ID).alias("min_xid"),
            F.max(EXTERNAL_ID).alias("max_xid"),
            F.slice(F.sort_array(F.collect_set(SPACE)), 1, PRUNE_MAX_SPACES + 1).alias("spaces"),
            F.count(F.when(F.col(DELETED), F.lit(1))).alias("tombstones"),
        )
    )
    spaces = tuple(row["spaces"] or ())
    return KeyBounds(int(row["rows"]), row["min_xid"], row["max_xid"], spaces, tombstones=int(row["tombstones"]))


def _apply(spark: SparkSession, path: str, source: DataFrame, bounds: KeyBounds, refresh: bool = False) -> MergeResult:
    table = DeltaTable.forPath(spark, path)
    target = _checked_schema(path, table, source)
    if bounds.rows == 0:
        return MergeResult(0, 0, table_version(spark, path))
    live = F.coalesce(F.col(f"s.{DELETED}"), F.lit(False)) == F.lit(False)
    if _is_empty(table):
        return _append(path, table, target, source)
    if bounds.rows <= BROADCAST_MAX_ROWS:
        source = F.broadcast(source)
    values: dict[str, str | Column] = {
        quote_name(name): value for name, value in _target_values(target, source.columns).items()
    }
    update = _is_newer("s", "t", or_equal=False)
    if refresh:
        update = update | (_same_version("s", "t") & _values_differ(target, source.columns))
    before = table_version(spark, path)
    merge = table.alias("t").merge(source.alias("s"), _merge_condition(bounds))
    # Only the clauses the batch can fire: a batch of tombstones alone is then a matched-only MERGE, which Delta
    # runs as an inner join that writes deletion vectors (or rewrites files) without an outer join for inserts.
    if bounds.has_tombstones:
        merge = merge.whenMatchedDelete(condition=~live & _is_newer("s", "t", or_equal=True))
    if bounds.has_live_rows:
        merge = merge.whenMatchedUpdate(condition=live & update, set=values)
        merge = merge.whenNotMatchedInsert(condition=live, values=values)
    merge.execute()
    return _result_from_history(table, "MERGE", before)


def append_batch(spark: SparkSession, path: str, batch: DataFrame) -> MergeResult:
    """Append the live rows of a batch (one row per key already) to the table at ``path``; drop its tombstones.

    Only for a batch none of whose keys the table holds (see ``append_guard``): nothing is compared, so a key
    the table had would end up twice. Columns are matched and cast as ``merge_batch`` does.
    """
    table = DeltaTable.forPath(spark, path)
    return _append(path, table, _checked_schema(path, table, batch), batch)


def _checked_schema(path: str, table: DeltaTable, source: DataFrame) -> StructType:
    """The table's schema, once every column of the batch is known to be in it."""
    target = table.toDF().schema
    known = {name.lower() for name in target.fieldNames()} | {DELETED.lower()}
    extra = [name for name in source.columns if name.lower() not in known]
    if extra:
        raise ValueError(f"batch columns {extra} are not in the table {path}; call ensure_table first")
    return target


def _append(path: str, table: DeltaTable, target: StructType, source: DataFrame) -> MergeResult:
    live = F.coalesce(F.col(f"s.{DELETED}"), F.lit(False)) == F.lit(False)
    rows = source.alias("s").where(live).select(*_target_values(target, source.columns).values())
    rows.write.format("delta").mode("append").save(path)
    return _result_from_history(table, "WRITE")


def _same_version(source: str, target: str) -> Column:
    s_time, t_time = F.col(f"{source}.{LAST_UPDATED_TIME}"), F.col(f"{target}.{LAST_UPDATED_TIME}")
    return (s_time == t_time) & (F.col(f"{source}.{VERSION}") == F.col(f"{target}.{VERSION}"))


def _values_differ(target: StructType, source_columns: list[str]) -> Column:
    """True when a table column the batch has holds another value (null-safe) than the batch row."""
    by_lower = {name.lower(): name for name in source_columns}
    differ = F.lit(False)
    for field in target.fields:
        name = by_lower.get(field.name.lower())
        if name is None or field.name == REPLICATED_AT:
            continue
        differ = differ | ~F.col(f"t.{quote_name(field.name)}").eqNullSafe(F.col(f"s.{quote_name(name)}"))
    return differ


def _target_values(target: StructType, source_columns: list[str]) -> dict[str, Column]:
    """Each table column from the source ``s``, cast to the table's type; null when the batch lacks it.

    Names match case-insensitively, as Spark and Delta resolve them.
    """
    by_lower = {name.lower(): name for name in source_columns}
    values = {}
    for field in target.fields:
        name = by_lower.get(field.name.lower())
        value = F.lit(None) if name is None else F.col(f"s.{quote_name(name)}")
        values[field.name] = value.cast(field.dataType).alias(field.name)
    return values


def _merge_condition(bounds: KeyBounds) -> Column:
    condition = (F.col(f"t.{SPACE}") == F.col(f"s.{SPACE}")) & (F.col(f"t.{EXTERNAL_ID}") == F.col(f"s.{EXTERNAL_ID}"))
    # Target-only predicates with literals: Delta prunes files by their min/max statistics before joining.
    condition = condition & F.col(f"t.{EXTERNAL_ID}").between(
        F.lit(bounds.min_external_id), F.lit(bounds.max_external_id)
    )
    if len(bounds.spaces) <= PRUNE_MAX_SPACES:
        condition = condition & F.col(f"t.{SPACE}").isin(*bounds.spaces)
    return condition


def _is_empty(table: DeltaTable) -> bool:
    return int(first_row(table.detail().select("numFiles"))[0]) == 0


def _result_from_history(table: DeltaTable, operation: str, before: int | None = None) -> MergeResult:
    """Counts of the latest commit, which is ours: each table has one writer, the job that owns its view.

    ``before`` is the table's version before the operation: a MERGE that changes nothing may commit nothing (it
    does not on a table with deletion vectors), and the latest commit is then an older one, not this operation.
    """
    last = first_row(table.history(1).select("version", "operation", "operationMetrics"))
    if before is not None and int(last["version"]) == before:
        return MergeResult(0, 0, before)
    if last["operation"] != operation:
        logger.warning(
            "latest commit is a %s, expected %s: another writer on this table?", last["operation"], operation
        )
    metrics = last["operationMetrics"] or {}
    if operation == "WRITE":
        return MergeResult(int(metrics.get("numOutputRows", 0)), 0, int(last["version"]))
    upserted = int(metrics.get("numTargetRowsInserted", 0)) + int(metrics.get("numTargetRowsUpdated", 0))
    return MergeResult(upserted, int(metrics.get("numTargetRowsDeleted", 0)), int(last["version"]))


def reset_seen_keys(spark: SparkSession, seen_keys_path: str) -> None:
    """Start a full resync: create the seen-keys table at ``seen_keys_path``, or empty it if it exists."""
    empty = spark.createDataFrame([], SEEN_KEYS_SCHEMA)
    empty.write.format("delta").mode("overwrite").option("overwriteSchema", "true").save(seen_keys_path)


def stage_seen_keys(spark: SparkSession, seen_keys_path: str, batch: DataFrame) -> None:
    """Record the keys a resync batch saw alive (blind append: replays after a kill only add duplicates).

    Call it after ``merge_batch`` of the same batch and before saving the cursor. The table must come from
    ``reset_seen_keys``, so a resync killed half-way continues with what it had already seen.
    """
    if not DeltaTable.isDeltaTable(spark, seen_keys_path):
        raise ValueError(f"no seen-keys table at {seen_keys_path}; call reset_seen_keys when the resync starts")
    alive = latest_per_key(batch).where(F.coalesce(F.col(DELETED), F.lit(False)) == F.lit(False))
    alive.select(*KEY_COLUMNS).write.format("delta").mode("append").save(seen_keys_path)


def delete_unseen(spark: SparkSession, path: str, seen_keys_path: str) -> int:
    """Finish a full resync: delete every row of ``path`` whose key the resync did not see. Returns the count.

    This catches the deletes that happened while the old cursor was dead (CDF purges tombstones after 3 days). It
    is one MERGE with ``WHEN NOT MATCHED BY SOURCE THEN DELETE`` (Delta 3.x), so it is atomic and idempotent:
    re-running it after a kill deletes nothing more. A missing seen-keys table raises instead of emptying the table.
    """
    if not DeltaTable.isDeltaTable(spark, seen_keys_path):
        raise ValueError(f"no seen-keys table at {seen_keys_path}; refusing to delete every row of {path}")
    seen = spark.read.format("delta").load(seen_keys_path).dropDuplicates(list(KEY_COLUMNS))
    table = DeltaTable.forPath(spark, path)
    condition = (F.col(f"t.{SPACE}") == F.col(f"s.{SPACE}")) & (F.col(f"t.{EXTERNAL_ID}") == F.col(f"s.{EXTERNAL_ID}"))
    before = table_version(spark, path)
    table.alias("t").merge(seen.alias("s"), condition).whenNotMatchedBySourceDelete().execute()
    deleted = _result_from_history(table, "MERGE", before).deleted
    logger.info("resync of %s removed %d rows that CDF no longer has", path, deleted)
    return deleted
