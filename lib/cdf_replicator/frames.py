"""Arrow tables -> Spark DataFrames with an explicit schema, without a detour through Python rows.

pyspark 3.5 has no public ``createDataFrame(pyarrow.Table)`` (Spark 4 adds one). Its pandas path converts the
Arrow table to pandas and back to Arrow, which costs more than building the table did. On a classic
(py4j) session this module streams the Arrow record batches to the JVM exactly as pyspark's own
``createDataFrame(pandas_df)`` does after its pandas step, one batch per partition. On a Spark Connect session
(Databricks serverless, shared clusters) it uses the public pandas path, which Connect turns into Arrow itself.

Timestamps stay instants: Arrow ``timestamp[us, UTC]`` values are UTC microseconds, which is exactly what
Spark's ``TimestampType`` stores, so the session time zone plays no part.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.pandas.types import to_arrow_schema
from pyspark.sql.types import StructType

from cdf_replicator.columns import DELETED, EXTERNAL_ID, LAST_UPDATED_TIME, SPACE, VERSION

logger = logging.getLogger(__name__)

ARROW_LOCAL_RELATION_THRESHOLD = "spark.sql.execution.arrow.localRelationThreshold"
# Fewer rows than this are not worth a partition (and a Parquet file) of their own.
MIN_BATCH_ROWS = 10_000


def arrow_to_dataframe(spark: SparkSession, table: pa.Table, schema: StructType) -> DataFrame:
    """A DataFrame with ``schema`` holding the rows of ``table`` (same column names, in any order).

    Columns whose Arrow type differs from the schema's are cast with Arrow's safe cast: a value that would
    change (truncation, overflow) raises ``pyarrow.ArrowInvalid`` instead.
    """
    table = conform_table(table, schema)
    if table.num_rows == 0:
        return spark.createDataFrame([], schema)
    if _has_py4j(spark):
        return _via_arrow_stream(spark, table, schema)
    return _via_pandas(spark, table, schema)


def conform_table(table: pa.Table, schema: StructType) -> pa.Table:
    """``table`` with the schema's column order and exactly the Arrow types Spark reads for it."""
    target = to_arrow_schema(schema)
    table = table.select(schema.fieldNames())
    if table.schema.equals(target):
        return table
    return table.cast(target, safe=True)


def _has_py4j(spark: Any) -> bool:
    """True for a classic session; Spark Connect sessions have no JVM gateway."""
    return getattr(spark, "_jvm", None) is not None and getattr(spark, "_sc", None) is not None


def _via_arrow_stream(spark: Any, table: pa.Table, schema: StructType) -> DataFrame:
    """Hand the record batches to the JVM the way pyspark's ``_create_from_pandas_with_arrow`` does.

    Spark 3.5 turns Arrow data below ``spark.sql.execution.arrow.localRelationThreshold`` (48 MB) into a local
    relation: the driver thread converts every row, then copies them again to plan the query, one core doing
    what the executors could share. The threshold is set to 0 so Spark always parallelizes the batches, one
    partition per batch; the table is cut into at most one batch per core (each at least ``MIN_BATCH_ROWS``),
    so a commit's rows are converted and written by every core, in as few files.
    """
    from pyspark.sql.pandas.serializers import ArrowStreamSerializer

    jvm = spark._jvm
    spark.conf.set(ARROW_LOCAL_RELATION_THRESHOLD, "0")
    slices = max(1, min(spark.sparkContext.defaultParallelism, -(-table.num_rows // MIN_BATCH_ROWS)))
    batches = table.combine_chunks().to_batches(max_chunksize=-(-table.num_rows // slices))

    def read_file(path: str) -> Any:
        return jvm.PythonSQLUtils.readArrowStreamFromFile(path)

    def create_server() -> Any:
        return jvm.ArrowIteratorServer()

    batches_in_jvm = spark._sc._serialize_to_jvm(batches, ArrowStreamSerializer(), read_file, create_server)
    jdf = jvm.PythonSQLUtils.toDataFrame(batches_in_jvm, schema.json(), spark._jsparkSession)
    return DataFrame(jdf, spark)


def _via_pandas(spark: SparkSession, table: pa.Table, schema: StructType) -> DataFrame:
    """The public pandas route, with the two pandas conversions that would change values turned off.

    By default a nullable int64 column becomes float64 (2**63 - 1 would not survive) and timestamps inside
    arrays become naive values that Spark reads in the session time zone; Python ints and UTC-aware datetimes
    avoid both.
    """
    frame = table.to_pandas(integer_object_nulls=True, timestamp_as_object=True, date_as_object=True)
    return spark.createDataFrame(frame, schema)


@dataclass(frozen=True)
class KeyBounds:
    """What a MERGE needs of a batch: its rows, its externalId range, its distinct spaces, its tombstones.

    ``spaces`` holds at most ``max_spaces + 1`` of them (sorted), so a caller can tell "too many to list".
    ``tombstones`` is how many rows are deletes; ``None`` (unknown) makes the MERGE keep every clause.
    """

    rows: int
    min_external_id: str | None
    max_external_id: str | None
    spaces: tuple[str, ...]
    tombstones: int | None = None

    @property
    def has_tombstones(self) -> bool:
        return self.tombstones is None or self.tombstones > 0

    @property
    def has_live_rows(self) -> bool:
        return self.tombstones is None or self.tombstones < self.rows


def newest_per_key(table: pa.Table) -> pa.Table:
    """One row per (``space``, ``externalId``), the newest, with the rows sorted by key.

    The same rule as ``delta_sink.latest_per_key``, computed by Arrow on the driver instead of a Spark window
    (a shuffle, a sort and a cache in the JVM, which cost more than writing the batch): newest by
    ``(lastUpdatedTime, version)`` with nulls oldest, and at an exact tie a tombstone (``_deleted`` true) wins.
    Sorting by key also gives each written file a narrow externalId range, which MERGE file pruning uses.
    """
    if table.num_rows <= 1:
        return table
    oldest = pa.scalar(-(2**63), pa.int64())  # a null time or version sorts as the oldest (nulls last)
    keys = pa.table(
        {
            "s": table[SPACE],
            "x": table[EXTERNAL_ID],
            "t": pc.fill_null(table[LAST_UPDATED_TIME].cast(pa.int64()), oldest),
            "v": pc.fill_null(table[VERSION].cast(pa.int64()), oldest),
            "d": pc.fill_null(table[DELETED], False),
        }
    )
    order = pc.sort_indices(
        keys,
        sort_keys=[
            ("s", "ascending"),
            ("x", "ascending"),
            ("t", "descending"),
            ("v", "descending"),
            ("d", "descending"),
        ],
    )
    ordered = table.take(order)
    space, external_id = ordered[SPACE].combine_chunks(), ordered[EXTERNAL_ID].combine_chunks()
    rest, previous = slice(1, None), slice(None, -1)
    new_key = pc.or_(pc.not_equal(space[rest], space[previous]), pc.not_equal(external_id[rest], external_id[previous]))
    first_of_key = pa.concat_arrays([pa.array([True]), pc.fill_null(new_key, True)])
    return ordered.filter(first_of_key)


def key_bounds(table: pa.Table, max_spaces: int) -> KeyBounds:
    """The ``KeyBounds`` of a batch table (``max_spaces``: how many spaces the caller can use, see ``KeyBounds``)."""
    if table.num_rows == 0:
        return KeyBounds(0, None, None, (), tombstones=_count_tombstones(table))
    low_high = pc.min_max(table[EXTERNAL_ID])
    spaces = pc.unique(table[SPACE]).to_pylist()
    return KeyBounds(
        table.num_rows,
        low_high["min"].as_py(),
        low_high["max"].as_py(),
        tuple(sorted(spaces)[: max_spaces + 1]),
        tombstones=_count_tombstones(table),
    )


def _count_tombstones(table: pa.Table) -> int | None:
    if DELETED not in table.column_names:
        return None
    return int(pc.sum(pc.fill_null(table[DELETED], False).cast(pa.int64())).as_py() or 0)
