"""What the replicated tables must hold, built from the emulator's own data, independently of ``cdf_replicator``.

The rules are DESIGN sections 4 and 5, applied in the plainest way: one dict per row, one converter per CDF
property type. Nothing here imports the replicator, so a bug in its row building or schema mapping cannot hide
itself by being repeated in the expectation.

Values are compared in a canonical Python form (see :func:`canonical_actual`): JSON columns as the parsed value
(the contract is "JSON text", not one spelling of it), timestamps as UTC-aware datetimes, structs as dicts.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from cdf_emulator import Emulator

Key = tuple[str, str]

REF = "struct<space:string,externalId:string>"
# DESIGN section 5: CDF property type -> Spark type of one element.
ELEMENT_TYPES = {
    "text": "string",
    "enum": "string",
    "int32": "int",
    "int64": "bigint",
    "float32": "float",
    "float64": "double",
    "boolean": "boolean",
    "timestamp": "timestamp",
    "date": "date",
    "json": "string",
    "direct": REF,
    "timeseries": "string",
    "file": "string",
    "sequence": "string",
}
SYSTEM_COLUMNS = {
    "space": "string",
    "externalId": "string",
    "instanceType": "string",
    "version": "bigint",
    "createdTime": "bigint",
    "lastUpdatedTime": "bigint",
    "type": REF,
}
EDGE_COLUMNS = {"startNode": REF, "endNode": REF}
REPLICATED_AT = "_replicatedAt"


@dataclass(frozen=True)
class Column:
    """A table column: its Spark type (``simpleString``) and, for properties, the CDF type, list flag and id."""

    spark_type: str
    cdf_type: str | None = None
    is_list: bool = False
    identifier: str = ""


@dataclass
class ExpectedTable:
    """One Delta table: where it lives under the root, its columns, and its rows by (space, externalId)."""

    path: str
    columns: dict[str, Column]
    rows: dict[Key, dict[str, Any]]


def model_views(emulator: Emulator, space: str, model: str, version: str) -> list[dict[str, Any]]:
    """The model's view definitions, as CDF's API returns them (inherited properties included)."""
    client = emulator.client()
    body = {"items": [{"space": space, "externalId": model, "version": version}]}
    url = f"/api/v1/projects/{emulator.project}/models/datamodels/byids"
    answer = client.post(url, json=body, params={"inlineViews": "true"}).json()
    return list(answer["items"][0]["views"])


def view_definition(emulator: Emulator, ref: dict[str, str]) -> dict[str, Any]:
    client = emulator.client()
    body = {"items": [{"space": ref["space"], "externalId": ref["externalId"], "version": ref["version"]}]}
    url = f"/api/v1/projects/{emulator.project}/models/views/byids"
    return dict(client.post(url, json=body).json()["items"][0])


def expected_tables(emulator: Emulator, space: str, model: str, version: str) -> dict[str, ExpectedTable]:
    """Every table of a model version, keyed by its path under the destination root."""
    tables: dict[str, ExpectedTable] = {}
    for view in model_views(emulator, space, model, version):
        prefix = f"raw/{space}/{model}/{version}/views/{view['externalId']}"
        used_for = view.get("usedFor", "node")
        connections = [
            p for p in view["properties"].values() if "connectionType" in p and "edge" in p["connectionType"]
        ]
        if used_for in ("node", "all"):
            tables[f"{prefix}/nodes"] = _node_table(emulator, view, f"{prefix}/nodes")
        if used_for in ("edge", "all") or connections:
            tables[f"{prefix}/edges"] = _edge_table(emulator, view, connections, f"{prefix}/edges")
    return tables


def _ref(view: dict[str, Any]) -> dict[str, str]:
    return {"space": view["space"], "externalId": view["externalId"], "version": view["version"]}


def _property_columns(view: dict[str, Any]) -> dict[str, Column]:
    """The view's container properties as columns (edge connections and reverse relations are not columns)."""
    columns = {}
    for name, prop in view["properties"].items():
        if "container" not in prop:
            continue
        kind, is_list = prop["type"]["type"], bool(prop["type"].get("list", False))
        element = ELEMENT_TYPES[kind]
        columns[_column_name(name)] = Column(f"array<{element}>" if is_list else element, kind, is_list, name)
    return columns


def _column_name(identifier: str) -> str:
    # The replicator's documented rename (cdf_replicator.columns): a property named like a system column gets "_".
    reserved = {name.lower() for name in (*SYSTEM_COLUMNS, *EDGE_COLUMNS)}
    return identifier + "_" if identifier.lower() in reserved else identifier


def _instances(emulator: Emulator, kind: str, view: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    ref = None if view is None else _ref(view)
    return emulator.state.instances.current(kind, view=ref)


def _view_values(instance: dict[str, Any], view: dict[str, Any]) -> dict[str, Any]:
    by_space = instance.get("properties", {}).get(view["space"], {})
    return dict(by_space.get(f"{view['externalId']}/{view['version']}", {}))


def _node_table(emulator: Emulator, view: dict[str, Any], path: str) -> ExpectedTable:
    columns = {name: Column(t) for name, t in SYSTEM_COLUMNS.items()} | _property_columns(view)
    rows = {}
    for node in _instances(emulator, "node", view):
        rows[(node["space"], node["externalId"])] = _row(node, columns, [_view_values(node, view)])
    return ExpectedTable(path, columns | {REPLICATED_AT: Column("timestamp")}, rows)


def _edge_table(
    emulator: Emulator, view: dict[str, Any], connections: list[dict[str, Any]], path: str
) -> ExpectedTable:
    """Edges of the connections' types (each once) and, for an edge view, the edges with data in it."""
    own = view.get("usedFor", "node") in ("edge", "all")
    types = {(c["type"]["space"], c["type"]["externalId"]) for c in connections}
    sources: list[dict[str, Any]] = [view] if own else []
    for connection in connections:
        source = connection.get("edgeSource")
        if source and all(_ref(s) != _ref(source) for s in sources):
            sources.append(view_definition(emulator, source))
    columns = {name: Column(t) for name, t in (SYSTEM_COLUMNS | EDGE_COLUMNS).items()}
    for source in sources:
        for name, column in _property_columns(source).items():
            columns.setdefault(name, column)
    edges = {(e["space"], e["externalId"]): e for e in _instances(emulator, "edge", view)} if own else {}
    for edge in _instances(emulator, "edge"):
        if (edge["type"]["space"], edge["type"]["externalId"]) in types:
            edges[(edge["space"], edge["externalId"])] = edge
    values = {
        _ref(s)["externalId"]: {k: _view_values(e, s) for k, e in _with_data(emulator, s).items()} for s in sources
    }
    rows = {
        key: _row(edge, columns, [values[source["externalId"]].get(key, {}) for source in sources])
        for key, edge in edges.items()
    }
    return ExpectedTable(path, columns | {REPLICATED_AT: Column("timestamp")}, rows)


def _with_data(emulator: Emulator, view: dict[str, Any]) -> dict[Key, dict[str, Any]]:
    return {(e["space"], e["externalId"]): e for e in _instances(emulator, "edge", view)}


def _row(instance: dict[str, Any], columns: dict[str, Column], sources: list[dict[str, Any]]) -> dict[str, Any]:
    """System values as CDF returns them; each property from the first source that has a value for it."""
    row: dict[str, Any] = {}
    for name, column in columns.items():
        if column.cdf_type is None:
            row[name] = instance.get(name)
            continue
        prop = column.identifier
        raw = next((values[prop] for values in sources if values.get(prop) is not None), None)
        row[name] = None if raw is None else convert(raw, column)
    return row


def convert(raw: Any, column: Column) -> Any:
    """A property value from CDF's JSON in canonical form."""
    if column.is_list:
        return [None if item is None else _convert_one(item, column.cdf_type) for item in raw]
    return _convert_one(raw, column.cdf_type)


def _convert_one(value: Any, cdf_type: str | None) -> Any:
    if cdf_type == "float32":
        return struct.unpack("f", struct.pack("f", value))[0]
    if cdf_type == "float64":
        return float(value)
    if cdf_type == "timestamp":
        return datetime.fromisoformat(value).astimezone(timezone.utc)
    if cdf_type == "date":
        return date.fromisoformat(value)
    if cdf_type == "direct":
        return {"space": value["space"], "externalId": value["externalId"]}
    return value  # text, enum, ints, boolean, json (compared parsed), timeseries/file/sequence ids


def canonical_actual(row: dict[str, Any], columns: dict[str, Column]) -> dict[str, Any]:
    """A collected Spark row (``asDict(recursive=True)``) in the canonical form of :func:`convert`."""
    import json

    out = {}
    for name, value in row.items():
        column = columns.get(name)
        if value is None or column is None:
            out[name] = value
        elif column.cdf_type == "json":
            out[name] = [None if v is None else json.loads(v) for v in value] if column.is_list else json.loads(value)
        elif "timestamp" in column.spark_type:
            out[name] = [_utc(v) for v in value] if column.is_list else _utc(value)
        else:
            out[name] = value
    return out


def _utc(value: datetime | None) -> datetime | None:
    # pyspark turns a TimestampType value into a naive datetime in this process's local time zone.
    return None if value is None else value.astimezone(timezone.utc)
