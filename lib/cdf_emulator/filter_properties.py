"""Property references in filters and sorts, read from records.

``["node"|"edge"|"instance", base]`` reads a system field; ``[space, "viewXid/version", prop]`` reads the
container property the view maps; ``[space, containerXid, prop]`` reads a container property directly.
Timestamps compare as epoch milliseconds and direct relations as ``(space, externalId)`` tuples.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cdf_emulator.errors import ApiError
from cdf_emulator.records import Key, Record
from cdf_emulator.schema_access import mapped_properties, require_view
from cdf_emulator.values import InvalidValueError, timestamp_to_ms

Getter = Callable[[Record], Any]


@dataclass
class Accessor:
    """How to read one filter property from a record, and how to bring literals to the stored form."""

    get: Getter
    kind: str = "plain"  # "plain", "timestamp" or "direct"

    def canon(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.canon(item) for item in value]
        if self.kind == "timestamp" and isinstance(value, str):
            try:
                return timestamp_to_ms(value)
            except InvalidValueError as error:
                raise ApiError(400, f"Invalid timestamp in filter: {error}") from None
        return canonical(value) if self.kind == "direct" else value


def canonical(value: Any) -> Any:
    """Direct relation references as key tuples, so they compare with stored references."""
    if isinstance(value, dict) and set(value) == {"space", "externalId"}:
        return (value["space"], value["externalId"])
    if isinstance(value, list):
        return [canonical(item) for item in value]
    return value


def compile_property(path: Any, schema: Any, where: str) -> Accessor:
    """An accessor for a property reference; 400 for unknown views, containers and properties."""
    if not isinstance(path, list) or not all(isinstance(part, str) for part in path):
        raise ApiError(400, f"'{where}' must be a list of strings")
    if len(path) == 2 and path[0] in ("node", "edge", "instance"):
        return _base_property(path[1], where)
    if len(path) != 3:
        raise ApiError(400, f"Invalid property reference {path} at '{where}'")
    space, source, prop = path
    if "/" in source:
        external_id, _, version = source.partition("/")
        ref = {"type": "view", "space": space, "externalId": external_id, "version": version}
        view = require_view(schema, ref, where)
        mapped = mapped_properties(view).get(prop)
        if mapped is None:
            raise ApiError(400, f"Property '{prop}' of view {space}:{source} does not exist or is not filterable")
        container, container_prop, view_property = mapped
        ptype = view_property.get("type") or {}
    else:
        found = schema.get_container(space, source)
        if found is None:
            raise ApiError(400, f"Container {space}:{source} does not exist ({where})")
        stored = (found.get("properties") or {}).get(prop)
        if stored is None:
            raise ApiError(400, f"Property '{prop}' does not exist in container {space}:{source} ({where})")
        container, container_prop, ptype = (space, source), prop, stored.get("type") or {}
    return _container_accessor(container, container_prop, ptype)


def _container_accessor(container: Key, prop: str, ptype: dict[str, Any]) -> Accessor:
    kind = ptype.get("type")

    def raw(record: Record) -> Any:
        stored = record.data.get(container)
        return None if stored is None else stored.get(prop)

    if kind == "timestamp":
        return Accessor(lambda record: _timestamps(raw(record)), "timestamp")
    if kind == "direct":
        return Accessor(lambda record: canonical(raw(record)), "direct")
    return Accessor(raw)


def _timestamps(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, list):
        return [timestamp_to_ms(item) for item in value]
    return timestamp_to_ms(value)


def _base_property(name: str, where: str) -> Accessor:
    getters: dict[str, Getter] = {
        "instanceType": lambda r: r.kind,
        "version": lambda r: r.version,
        "space": lambda r: r.key[0],
        "externalId": lambda r: r.key[1],
        "type": lambda r: r.type,
        "createdTime": lambda r: r.created,
        "lastUpdatedTime": lambda r: r.updated,
        "deletedTime": lambda r: r.deleted,
        "startNode": lambda r: r.start,
        "endNode": lambda r: r.end,
    }
    if name not in getters:
        raise ApiError(400, f"Unknown instance property '{name}' at '{where}'")
    return Accessor(getters[name], "direct" if name in ("type", "startNode", "endNode") else "plain")
