"""Table schemas from view definitions: the one type table (DESIGN section 5), for Spark and for Arrow.

Pure. Every column type comes from the view definition, never from data. A table's columns are: the system
columns of its kind in a fixed order, then the properties in definition order, then ``_replicatedAt``. A page
batch (see :mod:`cdf_replicator.rows`) adds the batch-only ``_deleted`` column at the end.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pyarrow as pa
from pyspark.sql.types import (
    ArrayType,
    BooleanType,
    DataType,
    DateType,
    DoubleType,
    FloatType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from cdf_replicator import columns as col
from cdf_replicator.columns import Kind
from cdf_replicator.errors import SchemaMappingError
from cdf_replicator.sync_query import ViewRef
from cdf_replicator.views import PropertySpec, ViewSpec

# A reference to an instance (types, edge endpoints, direct relations).
SPARK_REF = StructType(
    [StructField(col.REF_SPACE, StringType(), True), StructField(col.REF_EXTERNAL_ID, StringType(), True)]
)
ARROW_REF = pa.struct([pa.field(col.REF_SPACE, pa.string()), pa.field(col.REF_EXTERNAL_ID, pa.string())])
# Spark stores timestamps as UTC microseconds; its Arrow bridge expects exactly this type.
ARROW_TIMESTAMP = pa.timestamp("us", tz="UTC")

# CDF property type -> (Spark type, Arrow type) of one element. Exhaustive: anything else is an error.
TYPE_TABLE: dict[str, tuple[DataType, pa.DataType]] = {
    "text": (StringType(), pa.string()),
    "enum": (StringType(), pa.string()),
    "int32": (IntegerType(), pa.int32()),
    "int64": (LongType(), pa.int64()),
    "float32": (FloatType(), pa.float32()),
    "float64": (DoubleType(), pa.float64()),
    "boolean": (BooleanType(), pa.bool_()),
    "timestamp": (TimestampType(), ARROW_TIMESTAMP),
    "date": (DateType(), pa.date32()),
    "json": (StringType(), pa.string()),
    "direct": (SPARK_REF, ARROW_REF),
    "timeseries": (StringType(), pa.string()),
    "file": (StringType(), pa.string()),
    "sequence": (StringType(), pa.string()),
}

# name -> (Spark type, Arrow type, nullable). Node type is optional; edge type and endpoints are required.
_SYSTEM_COLUMN_TYPES: dict[str, tuple[DataType, pa.DataType, bool]] = {
    col.SPACE: (StringType(), pa.string(), False),
    col.EXTERNAL_ID: (StringType(), pa.string(), False),
    col.INSTANCE_TYPE: (StringType(), pa.string(), False),
    col.VERSION: (LongType(), pa.int64(), False),
    col.CREATED_TIME: (LongType(), pa.int64(), False),
    col.LAST_UPDATED_TIME: (LongType(), pa.int64(), False),
    col.START_NODE: (SPARK_REF, ARROW_REF, False),
    col.END_NODE: (SPARK_REF, ARROW_REF, False),
}


def property_types(spec: ViewSpec, prop: PropertySpec) -> tuple[DataType, pa.DataType]:
    """The (Spark, Arrow) column type of a property; lists become arrays of the element type."""
    try:
        spark_type, arrow_type = TYPE_TABLE[prop.type]
    except KeyError:
        raise SchemaMappingError(
            f"view {spec.label}, property {prop.name!r}: unknown property type {prop.type!r}"
            f" (known: {', '.join(sorted(TYPE_TABLE))})"
        ) from None
    if prop.is_list:
        return ArrayType(spark_type, containsNull=True), pa.list_(arrow_type)
    return spark_type, arrow_type


def table_properties(
    spec: ViewSpec, kind: Kind, edge_properties: tuple[PropertySpec, ...] = ()
) -> tuple[PropertySpec, ...]:
    """The properties stored in a view's nodes or edges table, in column order.

    Nodes carry the view's own properties. Edges carry the properties of the edge connections' edge sources
    and, for views used for edges, the view's own properties first.
    """
    if kind not in ("nodes", "edges"):
        raise ValueError(f"kind must be 'nodes' or 'edges', not {kind!r}")
    if kind == "nodes":
        chosen: tuple[PropertySpec, ...] = spec.properties
    else:
        own = spec.properties if spec.used_for in ("edge", "all") else ()
        chosen = _merge_properties(spec, [(spec.label, own), ("its edge sources", edge_properties)])
    seen: dict[str, str] = {}
    for prop in chosen:
        clash = seen.setdefault(prop.column.lower(), prop.name)
        if clash != prop.name:
            raise SchemaMappingError(
                f"view {spec.label}: properties {clash!r} and {prop.name!r} differ only in case;"
                " Spark and Delta column names ignore case"
            )
    return chosen


def edge_properties_for(spec: ViewSpec, edge_source_specs: Mapping[ViewRef, ViewSpec]) -> tuple[PropertySpec, ...]:
    """The merged properties of the edge-source views of a view's edge connections, in definition order.

    A property present in several edge sources with the same type appears once; with different types it is a
    :class:`SchemaMappingError`, since one column cannot hold both.
    """
    groups: list[tuple[str, tuple[PropertySpec, ...]]] = []
    done: set[ViewRef] = set()
    for connection in spec.edge_connections:
        ref = connection.edge_source
        if ref is None or ref in done:
            continue
        done.add(ref)
        source = edge_source_specs.get(ref)
        if source is None:
            raise SchemaMappingError(
                f"view {spec.label}, edge connection {connection.name!r}: the definition of its edge source"
                f" {ref.space}:{ref.external_id}/{ref.version} is missing"
            )
        groups.append((source.label, source.properties))
    return _merge_properties(spec, groups)


def build_struct_type(spec: ViewSpec, kind: Kind, edge_properties: tuple[PropertySpec, ...] = ()) -> StructType:
    """The Spark schema of a view's nodes or edges table."""
    fields = [
        StructField(name, spark_type, nullable)
        for name, spark_type, _, nullable in _columns(spec, kind, edge_properties)
    ]
    return StructType(fields)


def build_arrow_schema(spec: ViewSpec, kind: Kind, edge_properties: tuple[PropertySpec, ...] = ()) -> pa.Schema:
    """The Arrow schema of a view's nodes or edges table (the same columns and types as :func:`build_struct_type`)."""
    return pa.schema(
        [
            pa.field(name, arrow_type, nullable)
            for name, _, arrow_type, nullable in _columns(spec, kind, edge_properties)
        ]
    )


def build_batch_struct_type(spec: ViewSpec, kind: Kind, edge_properties: tuple[PropertySpec, ...] = ()) -> StructType:
    """The Spark schema of a page batch: the table schema plus the batch-only ``_deleted`` flag."""
    return build_struct_type(spec, kind, edge_properties).add(col.DELETED, BooleanType(), False)


def build_batch_arrow_schema(spec: ViewSpec, kind: Kind, edge_properties: tuple[PropertySpec, ...] = ()) -> pa.Schema:
    """The Arrow schema of a page batch: the table schema plus the batch-only ``_deleted`` flag."""
    return build_arrow_schema(spec, kind, edge_properties).append(pa.field(col.DELETED, pa.bool_(), False))


def _columns(
    spec: ViewSpec, kind: Kind, edge_properties: tuple[PropertySpec, ...]
) -> list[tuple[str, DataType, pa.DataType, bool]]:
    """(name, Spark type, Arrow type, nullable) of every table column, in order."""
    result: list[tuple[str, DataType, pa.DataType, bool]] = []
    for name in col.system_columns(kind):
        if name == col.TYPE:
            result.append((name, SPARK_REF, ARROW_REF, kind == "nodes"))
        else:
            spark_type, arrow_type, nullable = _SYSTEM_COLUMN_TYPES[name]
            result.append((name, spark_type, arrow_type, nullable))
    for prop in table_properties(spec, kind, edge_properties):
        # Always nullable: tombstones carry no properties, and a NOT NULL column could not be added later.
        result.append((prop.column, *property_types(spec, prop), True))
    result.append((col.REPLICATED_AT, TimestampType(), ARROW_TIMESTAMP, False))
    return result


def _merge_properties(
    spec: ViewSpec, groups: Iterable[tuple[str, tuple[PropertySpec, ...]]]
) -> tuple[PropertySpec, ...]:
    """Union of property groups by name, first occurrence first; the same name must have the same type."""
    merged: dict[str, tuple[str, PropertySpec]] = {}
    for origin, props in groups:
        for prop in props:
            if prop.name not in merged:
                merged[prop.name] = (origin, prop)
                continue
            first_origin, first = merged[prop.name]
            if (first.type, first.is_list) != (prop.type, prop.is_list):
                raise SchemaMappingError(
                    f"view {spec.label}: edge property {prop.name!r} is {_describe(first)} in {first_origin}"
                    f" but {_describe(prop)} in {origin}; one column cannot hold both"
                )
    return tuple(prop for _, prop in merged.values())


def _describe(prop: PropertySpec) -> str:
    return f"list of {prop.type}" if prop.is_list else prop.type
