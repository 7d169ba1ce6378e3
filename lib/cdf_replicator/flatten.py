"""Flatten a replicated table for BI tools (DESIGN section 5): pure ``DataFrame -> DataFrame`` functions.

The published Parquet files hold only types every BI engine reads natively (Tableau's Hyper, Power BI, Athena,
DuckDB): text, numbers, booleans, UTC timestamps and dates.

- A reference to an instance (``struct<space, externalId>``: a node's or edge's ``type``, an edge's ``startNode``
  and ``endNode``, a direct relation) becomes two text columns ``<col>.space`` and ``<col>.externalId``, with a
  literal dot in the name: the names the existing S3 replicator's Tableau users join on. Property identifiers
  cannot contain a dot, so these names never collide with a property column.
- Arrays (lists of any type, references included), maps and other structs become JSON text. Timestamps in that
  JSON are ISO 8601 in UTC with milliseconds (CDF's precision), dates are ``yyyy-MM-dd``, null fields are kept, so
  equal values always give equal text. Elements of a list of ``json`` properties are already JSON text; naming
  such columns in ``json_columns`` splices them in as JSON values instead of quoting them as strings.
- Everything else (text, numbers, booleans, timestamps, dates, ``_replicatedAt``) is kept as it is.

The schema of the result is known without data (:func:`flat_schema`), so an empty table publishes the full typed
schema and the publisher can compare schemas before deciding to rewrite a file.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F  # noqa: N812 (the usual PySpark alias)
from pyspark.sql.types import ArrayType, DataType, MapType, StringType, StructField, StructType

from cdf_replicator.columns import DELETED, KEY_COLUMNS, LAST_UPDATED_TIME, REF_EXTERNAL_ID, REF_SPACE, VERSION

# Spark's to_json options: UTC, millisecond ISO timestamps, ISO dates, null fields written as null.
JSON_OPTIONS = {
    "timestampFormat": "yyyy-MM-dd'T'HH:mm:ss.SSSXXX",
    "dateFormat": "yyyy-MM-dd",
    "timeZone": "UTC",
    "ignoreNullFields": "false",
}
REF_FIELDS = (REF_SPACE, REF_EXTERNAL_ID)

Operation = Literal["keep", "ref_field", "json", "json_list"]


@dataclass(frozen=True)
class FlatColumn:
    """One output column: its name and type, the source column and how it is derived from it."""

    name: str
    source: str
    operation: Operation
    data_type: DataType
    nullable: bool
    ref_field: str = ""


def is_reference(data_type: DataType) -> bool:
    """Whether a type is a reference to an instance: a struct of exactly ``space`` and ``externalId``."""
    return isinstance(data_type, StructType) and sorted(data_type.fieldNames()) == sorted(REF_FIELDS)


def plan_flat_columns(schema: StructType, json_columns: Collection[str] = ()) -> list[FlatColumn]:
    """The output columns of :func:`flatten_for_bi` for a table schema, in order (a reference expands in place).

    Raises ``ValueError`` when two output names collide ignoring case (Spark and most BI tools ignore case), which
    only a schema not built by :mod:`cdf_replicator.schema_mapping` can cause.
    """
    json_lower = {name.lower() for name in json_columns}
    planned: list[FlatColumn] = []
    for field in schema.fields:
        if field.name == DELETED:
            continue
        planned.extend(_plan_field(field, field.name.lower() in json_lower))
    lowered = [column.name.lower() for column in planned]
    colliding = sorted({column.name for column in planned if lowered.count(column.name.lower()) > 1})
    if colliding:
        raise ValueError(f"flattened column names collide (ignoring case): {colliding}")
    return planned


def _plan_field(field: StructField, holds_json_text: bool) -> list[FlatColumn]:
    data_type = field.dataType
    if is_reference(data_type):
        assert isinstance(data_type, StructType)
        return [
            FlatColumn(
                f"{field.name}.{name}",
                field.name,
                "ref_field",
                StringType(),
                field.nullable or data_type[name].nullable,
                ref_field=name,
            )
            for name in REF_FIELDS
        ]
    if isinstance(data_type, ArrayType) and holds_json_text and isinstance(data_type.elementType, StringType):
        return [FlatColumn(field.name, field.name, "json_list", StringType(), field.nullable)]
    if isinstance(data_type, ArrayType | MapType | StructType):
        return [FlatColumn(field.name, field.name, "json", StringType(), field.nullable)]
    return [FlatColumn(field.name, field.name, "keep", data_type, field.nullable)]


def flat_schema(schema: StructType, json_columns: Collection[str] = ()) -> StructType:
    """The schema :func:`flatten_for_bi` gives a DataFrame of ``schema``, computed without data or a session."""
    return StructType([StructField(c.name, c.data_type, c.nullable) for c in plan_flat_columns(schema, json_columns)])


def flatten_for_bi(df: DataFrame, json_columns: Collection[str] = ()) -> DataFrame:
    """Flatten a table's rows for BI tools: references to two columns, arrays and maps to JSON text.

    ``json_columns`` names list-of-``json`` property columns (arrays of JSON text). Rows flagged by a batch's
    ``_deleted`` column (which tables never store) are dropped with it. One row in, one row out otherwise: key
    uniqueness is the business of :func:`newest_per_key`.
    """
    if DELETED in df.columns:
        df = df.where(~F.coalesce(F.col(DELETED), F.lit(False)))
    return df.select(*[_flat_expression(column) for column in plan_flat_columns(df.schema, json_columns)])


def _flat_expression(column: FlatColumn) -> Column:
    source = F.col(quote_column(column.source))
    if column.operation == "ref_field":
        value = source.getField(column.ref_field)
    elif column.operation == "json":
        value = F.to_json(source, JSON_OPTIONS)
    elif column.operation == "json_list":
        # Elements are JSON text already: join them as JSON values; a null element is JSON null.
        elements = F.transform(source, lambda element: F.coalesce(element, F.lit("null")))
        value = F.when(source.isNull(), F.lit(None)).otherwise(
            F.concat(F.lit("["), F.array_join(elements, ","), F.lit("]"))
        )
    else:
        value = source
    return value.alias(column.name)


def quote_column(name: str) -> str:
    """A column name as Spark resolves it literally (backticks), so dots in names are not struct access."""
    return "`" + name.replace("`", "``") + "`"


def newest_per_key(df: DataFrame) -> DataFrame:
    """Keep one row per (space, externalId): the newest by ``(lastUpdatedTime, version)``.

    Tables written by MERGE already hold one row per key; this repairs a table that does not (written by another
    tool, or by hand). Without ``lastUpdatedTime``/``version`` columns an arbitrary row per key is kept.
    """
    order = [F.col(name).desc_nulls_last() for name in (LAST_UPDATED_TIME, VERSION) if name in df.columns]
    if not order:
        return df.dropDuplicates(list(KEY_COLUMNS))
    rank = "__publish_rank"
    newest_first = Window.partitionBy(*KEY_COLUMNS).orderBy(*order)
    return df.withColumn(rank, F.row_number().over(newest_first)).where(F.col(rank) == 1).drop(rank)


def key_counts(df: DataFrame) -> DataFrame:
    """One row: ``rows`` (all rows) and ``keys`` (distinct (space, externalId)); equal when keys are unique.

    Reads only the two key columns, so on a Parquet or Delta source it scans a small part of the data.
    """
    per_key = df.groupBy(*KEY_COLUMNS).agg(F.count(F.lit(1)).alias("n"))
    return per_key.agg(
        F.coalesce(F.sum("n"), F.lit(0)).cast("long").alias("rows"), F.count(F.lit(1)).cast("long").alias("keys")
    )


def with_schema_columns(df: DataFrame, schema: StructType | None) -> DataFrame:
    """Add the columns of ``schema`` that ``df`` lacks, as typed nulls; order: ``schema``'s, then ``df``'s extras.

    A view property added after the table's last write is published as an empty column of its declared type; a
    column the view no longer has stays (its old values are still data). Existing columns keep the table's type
    (which may have been widened). Names match ignoring case, as Spark resolves them.
    """
    if schema is None:
        return df
    existing = {name.lower(): name for name in df.columns}
    columns: list[Column] = []
    used: set[str] = set()
    for field in schema.fields:
        if field.name == DELETED:
            continue
        name = existing.get(field.name.lower())
        if name is None:
            columns.append(F.lit(None).cast(field.dataType).alias(field.name))
        else:
            columns.append(F.col(quote_column(name)))
            used.add(name.lower())
    columns.extend(F.col(quote_column(name)) for name in df.columns if name.lower() not in used)
    return df.select(*columns)
