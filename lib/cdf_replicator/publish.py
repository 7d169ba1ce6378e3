"""Publish one table: its Delta table's current state as one flat Parquet file under a stable name.

Steps (:func:`publish_table`):

1. Remove leftovers of an interrupted publish of this file (``<view dir>/_tmp_<stem>_*``).
2. Pin the table's current version, then read the table *as of* that version, so the rows and the version
   recorded for them agree even while a replication commits. A missing table publishes an empty file with the
   view's typed schema; columns of the view the table does not have yet are added as typed nulls.
3. Flatten for BI (:mod:`cdf_replicator.flatten`) and check that keys are unique by counting rows and distinct
   keys (a scan of the two key columns). MERGE keeps them unique; a table that is not is repaired (newest row per
   key wins) with a WARNING.
4. ``coalesce(1)`` and let Spark write one Parquet file into ``<view dir>/_tmp_<stem>_<uuid>/``. Rows stream through
   one task: nothing is collected to the driver, and memory stays bounded by one Parquet row group.
5. Count the file's rows from its footers, compare with the key count, move it to the stable name
   (:mod:`cdf_replicator.movers`), delete the temporary folder.

The files use Parquet's standard UTC timestamp type (``TIMESTAMP_MICROS``, ``isAdjustedToUTC``) rather than
Spark's legacy INT96, and proleptic Gregorian dates, which is what Hyper, Power BI, Athena and DuckDB read.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from delta.tables import DeltaTable
from py4j.protocol import Py4JError
from pyspark.errors import PySparkException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.types import StructType

from cdf_replicator import failpoints
from cdf_replicator.columns import Kind
from cdf_replicator.delta_sink import first_row, table_version
from cdf_replicator.errors import PublishError, ReplicatorError
from cdf_replicator.flatten import flatten_for_bi, key_counts, newest_per_key, with_schema_columns
from cdf_replicator.movers import TMP_PREFIX, FileMover, mover_for, split_uri
from cdf_replicator.storage import path_exists

logger = logging.getLogger(__name__)

# Session settings for the Parquet files BI tools read (see the module docstring).
PARQUET_SETTINGS = {
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.sql.parquet.datetimeRebaseModeInWrite": "CORRECTED",
}

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class PublishTarget:
    """One file to publish: the Delta table it comes from, its stable URI, and the view's typed table schema.

    ``schema`` (from :func:`cdf_replicator.schema_mapping.build_struct_type`) gives an empty file its columns when
    the table does not exist yet, and adds the view's new columns before the table has them. ``json_columns``
    names the list-of-``json`` property columns (see :func:`cdf_replicator.flatten.flatten_for_bi`).
    """

    table_path: str
    publish_uri: str
    kind: Kind
    schema: StructType | None
    label: str = ""
    json_columns: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """How logs name this file: the label, or the publish URI."""
        return self.label or self.publish_uri


@dataclass(frozen=True)
class Snapshot:
    """A table's flattened rows as of one version (``None``: no table yet), not yet read, and their columns."""

    table_version: int | None
    frame: DataFrame
    columns: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class PublishedFile:
    """A file now under its stable name: its URI, row count, the table version it holds, and when it appeared."""

    path: str
    rows: int
    table_version: int | None
    published_at: datetime
    columns: tuple[tuple[str, str], ...] = ()


def read_snapshot(
    spark: SparkSession, table_path: str, schema: StructType | None, json_columns: tuple[str, ...] = ()
) -> Snapshot:
    """The flattened state of the table at ``table_path`` at its current version (reads metadata only).

    With nothing at ``table_path`` (the view was never replicated) the snapshot is empty with ``schema``'s columns;
    without a schema, or when something other than a Delta table is there, it is a :class:`PublishError`.
    """
    try:
        if DeltaTable.isDeltaTable(spark, table_path):
            version: int | None = table_version(spark, table_path)
            frame = spark.read.format("delta").option("versionAsOf", version).load(table_path)
        elif path_exists(spark, table_path):
            raise PublishError(f"{table_path} exists but is not a Delta table; not publishing it as empty")
        elif schema is not None:
            version, frame = None, spark.createDataFrame([], schema)
        else:
            raise PublishError(f"no Delta table at {table_path}, and no schema to publish an empty file with")
        flat = flatten_for_bi(with_schema_columns(frame, schema), json_columns)
    except (PySparkException, Py4JError) as error:
        raise PublishError(f"cannot read {table_path}: {_first_line(error)}") from error
    columns = tuple((field.name, field.dataType.simpleString()) for field in flat.schema.fields)
    return Snapshot(version, flat, columns)


def publish_table(
    spark: SparkSession,
    table_path: str,
    target_uri: str,
    schema_for_empty: StructType | None,
    *,
    mover: FileMover | None = None,
    json_columns: tuple[str, ...] = (),
    verify_keys: bool = True,
    clock: Clock = utc_now,
) -> PublishedFile:
    """Publish the current state of the Delta table at ``table_path`` as one flat Parquet file at ``target_uri``.

    See the module docstring for the steps and :mod:`cdf_replicator.movers` for what readers of ``target_uri``
    see meanwhile. ``mover`` defaults to the one for ``target_uri``'s scheme (S3 settings from the environment).
    Raises :class:`PublishError` (or :class:`StorageError`); the previous file then stays as it was.
    """
    snapshot = read_snapshot(spark, table_path, schema_for_empty, json_columns)
    return write_snapshot(spark, snapshot, target_uri, mover or mover_for(spark, target_uri), verify_keys, clock)


def write_snapshot(
    spark: SparkSession,
    snapshot: Snapshot,
    target_uri: str,
    mover: FileMover,
    verify_keys: bool = True,
    clock: Clock = utc_now,
) -> PublishedFile:
    """Write a snapshot to a temporary folder beside ``target_uri`` and move its one file to ``target_uri``."""
    started = time.monotonic()
    folder, name = split_uri(target_uri)
    prefix = f"{TMP_PREFIX}{name.removesuffix('.parquet')}_"
    removed = mover.remove_leftovers(folder, prefix)
    if removed:
        logger.info("removed leftovers of an interrupted publish in %s: %s", folder, ", ".join(removed))
    temporary = f"{folder}/{prefix}{uuid.uuid4().hex}"
    try:
        frame, expected = _unique_keys(snapshot.frame, target_uri) if verify_keys else (snapshot.frame, None)
        for key, value in PARQUET_SETTINGS.items():
            if spark.conf.get(key, None) != value:
                spark.conf.set(key, value)
        frame.coalesce(1).write.mode("errorifexists").parquet(temporary)
        part = mover.single_part_file(temporary)
        # A count over a Parquet file needs no column: Spark answers it from the row-group footers.
        rows = int(spark.read.parquet(part).count())
        if expected is not None and rows != expected:
            raise PublishError(f"{target_uri}: wrote {rows} rows, expected {expected} (one per key)")
        failpoints.hit("publish_before_move")
        mover.replace(part, target_uri)
    except (PySparkException, Py4JError) as error:
        _delete_quietly(mover, temporary)
        raise PublishError(f"writing {target_uri} failed: {_first_line(error)}") from error
    except ReplicatorError:
        _delete_quietly(mover, temporary)
        raise
    published_at = clock()
    _delete_quietly(mover, temporary)
    logger.debug("wrote %s (%d rows) in %.1fs", target_uri, rows, time.monotonic() - started)
    return PublishedFile(target_uri, rows, snapshot.table_version, published_at, snapshot.columns)


def _unique_keys(frame: DataFrame, target_uri: str) -> tuple[DataFrame, int]:
    """``frame`` with one row per key (repaired when it is not), and the number of keys."""
    counts = first_row(key_counts(frame))
    rows, keys = int(counts["rows"]), int(counts["keys"])
    if rows != keys:
        logger.warning(
            "%s: the table has %d rows for %d keys; publishing the newest row of each key", target_uri, rows, keys
        )
        return newest_per_key(frame), keys
    return frame, keys


def _delete_quietly(mover: FileMover, folder: str) -> None:
    """Delete a temporary folder; if that fails the next publish removes it, so a WARNING is enough."""
    try:
        mover.delete_tree(folder)
    except ReplicatorError as error:
        logger.warning("could not delete %s (the next publish removes it): %s", folder, error)


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
