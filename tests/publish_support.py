"""Shared helpers of the publish tests: a view with every property type, its tables, and ways to read files back.

Expected published rows are written out by hand (``expected_node``), not derived from ``cdf_replicator.flatten``,
so a flattening bug cannot hide by being repeated in the expectation.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from pyspark.sql import DataFrame, SparkSession

from cdf_replicator.delta_sink import ensure_table, merge_batch
from cdf_replicator.schema_mapping import build_batch_struct_type, build_struct_type
from cdf_replicator.sync_query import ViewRef
from cdf_replicator.views import EdgeConnectionSpec, PropertySpec, ViewSpec

UTC = timezone.utc
REPLICATED_AT = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)

PROPERTIES = (
    PropertySpec("name", "text"),
    PropertySpec("count", "int32"),
    PropertySpec("big", "int64"),
    PropertySpec("ratio", "float32"),
    PropertySpec("value", "float64"),
    PropertySpec("active", "boolean"),
    PropertySpec("when", "timestamp"),
    PropertySpec("day", "date"),
    PropertySpec("meta", "json"),
    PropertySpec("parent", "direct"),
    PropertySpec("type", "text"),  # named like a system column: stored as `type_`
    PropertySpec("tags", "text", is_list=True),
    PropertySpec("stamps", "timestamp", is_list=True),
    PropertySpec("refs", "direct", is_list=True),
    PropertySpec("metas", "json", is_list=True),
)
LINK = EdgeConnectionSpec("links", ("sp", "LinksTo"), "outwards", ViewRef("sp", "Asset", "1"), None)
VIEW = ViewSpec("sp", "Asset", "1", "node", PROPERTIES, (LINK,))
EDGE_PROPERTIES = (PropertySpec("weight", "float64"), PropertySpec("since", "timestamp"))
JSON_COLUMNS = ("metas",)

NODE_COLUMNS = [
    ("space", pa.string()),
    ("externalId", pa.string()),
    ("instanceType", pa.string()),
    ("version", pa.int64()),
    ("createdTime", pa.int64()),
    ("lastUpdatedTime", pa.int64()),
    ("type.space", pa.string()),
    ("type.externalId", pa.string()),
    ("name", pa.string()),
    ("count", pa.int32()),
    ("big", pa.int64()),
    ("ratio", pa.float32()),
    ("value", pa.float64()),
    ("active", pa.bool_()),
    ("when", pa.timestamp("us", tz="UTC")),
    ("day", pa.date32()),
    ("meta", pa.string()),
    ("parent.space", pa.string()),
    ("parent.externalId", pa.string()),
    ("type_", pa.string()),
    ("tags", pa.string()),
    ("stamps", pa.string()),
    ("refs", pa.string()),
    ("metas", pa.string()),
    ("_replicatedAt", pa.timestamp("us", tz="UTC")),
]
EDGE_COLUMNS = [
    *NODE_COLUMNS[:8],
    ("startNode.space", pa.string()),
    ("startNode.externalId", pa.string()),
    ("endNode.space", pa.string()),
    ("endNode.externalId", pa.string()),
    ("weight", pa.float64()),
    ("since", pa.timestamp("us", tz="UTC")),
    ("_replicatedAt", pa.timestamp("us", tz="UTC")),
]


def node_schema() -> Any:
    return build_struct_type(VIEW, "nodes")


def edge_schema() -> Any:
    return build_struct_type(VIEW, "edges", EDGE_PROPERTIES)


def node(xid: str, version: int = 1, updated: int = 1000, deleted: bool = False, **props: Any) -> dict[str, Any]:
    """A batch row of the nodes table; properties not given are null."""
    return {
        "space": "sp",
        "externalId": xid,
        "instanceType": "node",
        "version": version,
        "createdTime": 500,
        "lastUpdatedTime": updated,
        "type": ("sp", "Pump"),
        **props,
        "_replicatedAt": REPLICATED_AT,
        "_deleted": deleted,
    }


def edge(xid: str, start: str, end: str, version: int = 1, updated: int = 1000, **props: Any) -> dict[str, Any]:
    """A batch row of the edges table."""
    return {
        "space": "sp",
        "externalId": xid,
        "instanceType": "edge",
        "version": version,
        "createdTime": 500,
        "lastUpdatedTime": updated,
        "type": ("sp", "LinksTo"),
        "startNode": ("sp", start),
        "endNode": ("sp", end),
        **props,
        "_replicatedAt": REPLICATED_AT,
        "_deleted": False,
    }


FULL_NODE_PROPS: dict[str, Any] = {
    "name": "Pump A",
    "count": 3,
    "big": 2**40,
    "ratio": 0.5,
    "value": 1.25,
    "active": True,
    "when": datetime(2024, 1, 2, 3, 4, 5, 123000, tzinfo=UTC),
    "day": date(2024, 1, 2),
    "meta": '{"a":[1,2],"b":"x"}',
    "parent": ("sp", "site"),
    "type_": "centrifugal",
    "tags": ["x", 'quote"d', None],
    "stamps": [datetime(2024, 1, 2, 3, 4, 5, 123000, tzinfo=UTC)],
    "refs": [("sp", "b"), ("other", "c")],
    "metas": ['{"k":1}', None, "[true]"],
}


def expected_node(xid: str, version: int = 1, updated: int = 1000, **props: Any) -> dict[str, Any]:
    """A published node row, spelled out: references split, lists as JSON text."""
    row: dict[str, Any] = {name: None for name, _ in NODE_COLUMNS}
    row.update(
        {
            "space": "sp",
            "externalId": xid,
            "instanceType": "node",
            "version": version,
            "createdTime": 500,
            "lastUpdatedTime": updated,
            "type.space": "sp",
            "type.externalId": "Pump",
            "_replicatedAt": REPLICATED_AT,
        }
    )
    row.update(props)
    return row


EXPECTED_FULL_NODE_PROPS: dict[str, Any] = {
    **{k: v for k, v in FULL_NODE_PROPS.items() if k not in ("parent", "tags", "stamps", "refs", "metas")},
    "parent.space": "sp",
    "parent.externalId": "site",
    "tags": '["x","quote\\"d",null]',
    "stamps": '["2024-01-02T03:04:05.123Z"]',
    "refs": '[{"space":"sp","externalId":"b"},{"space":"other","externalId":"c"}]',
    "metas": '[{"k":1},null,[true]]',
}


def batch(spark: SparkSession, kind: str, rows: Sequence[dict[str, Any]], view: ViewSpec = VIEW) -> DataFrame:
    """A page batch of ``view``'s nodes or edges table (the table schema plus ``_deleted``)."""
    schema = build_batch_struct_type(view, kind, EDGE_PROPERTIES if kind == "edges" else ())  # type: ignore[arg-type]
    return spark.createDataFrame([tuple(row.get(name) for name in schema.fieldNames()) for row in rows], schema)


def load_table(
    spark: SparkSession, path: str, kind: str, rows: Sequence[dict[str, Any]], view: ViewSpec = VIEW
) -> None:
    """Create (or evolve) the table at ``path`` and MERGE ``rows`` into it, as replication does."""
    ensure_table(spark, path, build_struct_type(view, kind, EDGE_PROPERTIES if kind == "edges" else ()))  # type: ignore[arg-type]
    if rows:
        merge_batch(spark, path, batch(spark, kind, rows, view))


def read_rows(source: str | Path | bytes) -> tuple[pa.Schema, list[dict[str, Any]]]:
    """A published file's schema and rows (sorted by key), read with pyarrow."""
    table = pq.read_table(io.BytesIO(source) if isinstance(source, bytes) else str(source))
    rows = sorted(table.to_pylist(), key=lambda row: (row["space"], row["externalId"]))
    return table.schema, rows


def arrow_columns(schema: pa.Schema) -> list[tuple[str, pa.DataType]]:
    return [(field.name, field.type) for field in schema]


def hyper_describe(paths: Iterable[str | Path], log_dir: Path) -> dict[str, tuple[int, dict[str, str]]]:
    """Tableau's Hyper engine reads each file through ``external()``: its row count and column types."""
    from tableauhyperapi import Connection, HyperProcess, Telemetry, escape_string_literal

    described: dict[str, tuple[int, dict[str, str]]] = {}
    parameters = {"log_dir": str(log_dir)}
    with (
        HyperProcess(Telemetry.DO_NOT_SEND_USAGE_DATA_TO_TABLEAU, parameters=parameters) as hyper,
        Connection(hyper.endpoint) as connection,
    ):
        for path in paths:
            source = f"external({escape_string_literal(str(path))})"
            count = connection.execute_scalar_query(f"SELECT COUNT(*) FROM {source}")
            with connection.execute_query(f"SELECT * FROM {source} LIMIT 0") as result:
                types = {column.name.unescaped: str(column.type) for column in result.schema.columns}
            described[str(path)] = (int(count), types)
    return described


# What Hyper must see: ids as text, numbers as numbers, timestamps as timestamps (with time zone: UTC instants).
HYPER_NODE_TYPES = {
    "space": "TEXT",
    "externalId": "TEXT",
    "instanceType": "TEXT",
    "version": "BIG_INT",
    "createdTime": "BIG_INT",
    "lastUpdatedTime": "BIG_INT",
    "type.space": "TEXT",
    "type.externalId": "TEXT",
    "name": "TEXT",
    "count": "INT",
    "big": "BIG_INT",
    "ratio": "FLOAT",
    "value": "DOUBLE",
    "active": "BOOL",
    "when": "TIMESTAMP_TZ",
    "day": "DATE",
    "meta": "TEXT",
    "parent.space": "TEXT",
    "parent.externalId": "TEXT",
    "type_": "TEXT",
    "tags": "TEXT",
    "stamps": "TEXT",
    "refs": "TEXT",
    "metas": "TEXT",
    "_replicatedAt": "TIMESTAMP_TZ",
}
HYPER_EDGE_TYPES = {
    **{name: HYPER_NODE_TYPES[name] for name, _ in NODE_COLUMNS[:8]},
    "startNode.space": "TEXT",
    "startNode.externalId": "TEXT",
    "endNode.space": "TEXT",
    "endNode.externalId": "TEXT",
    "weight": "DOUBLE",
    "since": "TIMESTAMP_TZ",
    "_replicatedAt": "TIMESTAMP_TZ",
}
