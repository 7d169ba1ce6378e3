"""A page of raw sync items -> an Arrow table with the view's table schema plus the batch-only ``_deleted`` flag.

Pure and column-wise: one Python list per column, filled in a single pass over the items, then one Arrow array
per column (see :mod:`cdf_replicator.value_arrays`). No per-instance objects are built.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import Any

import pyarrow as pa

from cdf_replicator import columns as col
from cdf_replicator.columns import Kind
from cdf_replicator.errors import SchemaMappingError
from cdf_replicator.schema_mapping import ARROW_TIMESTAMP, build_batch_arrow_schema, table_properties
from cdf_replicator.sync_query import ViewRef
from cdf_replicator.value_arrays import (
    BadValueError,
    Converter,
    convert_int64,
    convert_refs,
    convert_strings,
    converter_for,
    require_present,
)
from cdf_replicator.views import PropertySpec, ViewSpec, edge_source_refs_for

_EMPTY: dict[str, Any] = {}
_INSTANCE_TYPES = {"nodes": "node", "edges": "edge"}


def page_to_arrow(
    items: Sequence[dict[str, Any]],
    spec: ViewSpec,
    kind: Kind,
    replicated_at: datetime,
    edge_properties: tuple[PropertySpec, ...] = (),
    edge_source_refs: tuple[ViewRef, ...] = (),
) -> pa.Table:
    """Convert sync items (dicts as the HTTP response holds them) into a batch table for ``kind``.

    Properties are read from ``properties[space]["<xid>/<version>"]`` of the view itself (node tables, and
    edge tables of views used for edges) and of ``edge_source_refs`` (edge tables; defaults to the edge
    sources of the view's connections), the first source holding a property winning. Missing properties are
    null. Tombstones (``deletedTime`` set) become rows with ``_deleted`` true. A value that does not fit its
    declared type raises :class:`SchemaMappingError` naming the instance, the property and the value's type.
    """
    if replicated_at.tzinfo is None:
        raise ValueError("replicated_at must be timezone-aware")
    items = items if isinstance(items, list) else list(items)
    schema = build_batch_arrow_schema(spec, kind, edge_properties)
    properties = table_properties(spec, kind, edge_properties)
    system_names = col.system_columns(kind)
    find_values = _property_finder(_property_sources(spec, kind, edge_source_refs))
    system_values, property_values, deleted = _extract_columns(items, system_names, properties, find_values)
    arrays = [
        _convert(items, spec, name, values, _system_converter(kind, name))
        for name, values in zip(system_names, system_values, strict=True)
    ]
    _check_instance_types(items, spec, kind, system_values[system_names.index(col.INSTANCE_TYPE)])
    arrays.extend(
        _convert(items, spec, prop.name, values, converter_for(prop.type, prop.is_list))
        for prop, values in zip(properties, property_values, strict=True)
    )
    utc = replicated_at.astimezone(timezone.utc)
    arrays.append(pa.repeat(pa.scalar(utc, ARROW_TIMESTAMP), len(items)))
    arrays.append(pa.array(deleted, pa.bool_()))
    return pa.Table.from_arrays(arrays, schema=schema)


def _extract_columns(
    items: list[dict[str, Any]],
    system_names: tuple[str, ...],
    properties: tuple[PropertySpec, ...],
    find_values: Callable[[dict[str, Any]], dict[str, Any]],
) -> tuple[list[list[Any]], list[list[Any]], list[bool]]:
    """One Python list per column, filled in a single pass over the items.

    One pass touching each item once is about three times faster than one pass per column: the items are
    scattered across memory, so the cost is in fetching them, not in the appends.
    """
    system_values: list[list[Any]] = [[] for _ in system_names]
    property_values: list[list[Any]] = [[] for _ in properties]
    deleted: list[bool] = []
    system_appends = list(zip(system_names, [values.append for values in system_values], strict=True))
    property_names = [prop.name for prop in properties]
    property_appends = list(zip(property_names, [values.append for values in property_values], strict=True))
    mark_deleted = deleted.append
    for item in items:
        get = item.get
        for name, append in system_appends:
            append(get(name))
        mark_deleted(get("deletedTime") is not None)
        get = find_values(item).get
        for name, append in property_appends:
            append(get(name))
    return system_values, property_values, deleted


def _system_converter(kind: Kind, name: str) -> Converter:
    """Converters of system columns: all are required except a node's type."""
    converter = _SYSTEM_CONVERTERS[name]
    if name == col.TYPE and kind == "nodes":
        return converter
    return lambda values: require_present(values, converter(values))


def _check_instance_types(items: list[dict[str, Any]], spec: ViewSpec, kind: Kind, values: list[Any]) -> None:
    expected = _INSTANCE_TYPES[kind]
    if items and set(values) != {expected}:
        wrong = next(i for i, value in enumerate(values) if value != expected)
        raise _mapping_error(items, spec, wrong, col.INSTANCE_TYPE, f"expected {expected!r} in a {kind} page")


def _property_sources(spec: ViewSpec, kind: Kind, edge_source_refs: tuple[ViewRef, ...]) -> list[tuple[str, str]]:
    """(space, "xid/version") keys to read property values from, in priority order."""
    refs: list[ViewRef] = []
    if kind == "nodes" or spec.used_for in ("edge", "all"):
        refs.append(spec.ref)
    if kind == "edges":
        refs.extend(edge_source_refs or edge_source_refs_for(spec))
    return [(ref.space, ref.property_key) for ref in dict.fromkeys(refs)]


def _property_finder(sources: list[tuple[str, str]]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A function giving an item's property values from ``sources`` (an empty dict when it has none)."""
    if len(sources) == 1:
        space, key = sources[0]

        def find_one(item: dict[str, Any]) -> dict[str, Any]:
            by_space = item.get("properties")
            by_view = by_space.get(space) if by_space else None
            return (by_view.get(key) if by_view else None) or _EMPTY

        return find_one

    def find_merged(item: dict[str, Any]) -> dict[str, Any]:
        by_space = item.get("properties") or _EMPTY
        found = [values for space, key in sources if (values := (by_space.get(space) or _EMPTY).get(key))]
        if len(found) <= 1:
            return found[0] if found else _EMPTY
        merged: dict[str, Any] = {}
        for values in reversed(found):
            merged.update(values)
        return merged

    return find_merged


def _convert(
    items: list[dict[str, Any]], spec: ViewSpec, field: str, values: list[Any], converter: Converter
) -> pa.Array:
    try:
        return converter(values)
    except BadValueError as bad:
        raise _mapping_error(items, spec, bad.index, field, bad.reason) from None


def _mapping_error(
    items: list[dict[str, Any]], spec: ViewSpec, index: int, field: str, reason: str
) -> SchemaMappingError:
    item = items[index]
    instance = f"{item.get('instanceType', 'instance')} {item.get('space')!r}/{item.get('externalId')!r}"
    return SchemaMappingError(f"view {spec.label}, {instance}, property {field!r}: {reason}")


_SYSTEM_CONVERTERS: dict[str, Converter] = {
    col.SPACE: convert_strings,
    col.EXTERNAL_ID: convert_strings,
    col.INSTANCE_TYPE: convert_strings,
    col.VERSION: convert_int64,
    col.CREATED_TIME: convert_int64,
    col.LAST_UPDATED_TIME: convert_int64,
    col.TYPE: convert_refs,
    col.START_NODE: convert_refs,
    col.END_NODE: convert_refs,
}
