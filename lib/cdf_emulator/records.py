"""One stored version of a node or edge, and its JSON form for a given property selection."""

from __future__ import annotations

import itertools
import json
from typing import Any

Key = tuple[str, str]
ContainerKey = tuple[str, str]
PropertyMapping = tuple[str, ContainerKey, str]  # (output name, container, container property)
ViewSelection = tuple[str, str, tuple[PropertyMapping, ...]]  # (view space, "xid/version", mappings)

_ENCODE = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode  # stored values hold no cycles


class Shape:
    """A compiled property selection: which container values go under which view key.

    Shapes are interned by the store; ``tag`` (a serial number as 4 bytes) marks the JSON fragments
    records cache for this shape.
    """

    __slots__ = ("direct", "tag", "views")
    _serial = itertools.count(1)

    def __init__(self, views: tuple[ViewSelection, ...]) -> None:
        self.views = views
        self.tag = (next(Shape._serial) % 2**32).to_bytes(4, "little")
        self.direct = tuple(_direct_read(mappings) for _, _, mappings in views)


def _direct_read(mappings: tuple[PropertyMapping, ...]) -> tuple[ContainerKey, frozenset[str]] | None:
    """``(container, names)`` when a view selection reads one container under the container's own
    property names: its stored values (never null) can then be taken as they are."""
    containers = {container for _, container, _ in mappings}
    if len(containers) != 1 or any(name != prop for name, _, prop in mappings):
        return None
    return containers.pop(), frozenset(name for name, _, _ in mappings)


NO_PROPERTIES = Shape(())


class Record:
    """An immutable version of one instance. A change makes a new record; ``current`` says whether
    this record is still the change-log entry of its key (stale entries are skipped)."""

    __slots__ = (
        "created",
        "current",
        "data",
        "deleted",
        "end",
        "fragment",
        "key",
        "kind",
        "seq",
        "start",
        "type",
        "updated",
        "version",
    )

    def __init__(
        self,
        kind: str,
        key: Key,
        version: int,
        created: int,
        updated: int,
        data: dict[ContainerKey, dict[str, Any]],
        type_: Key | None = None,
        start: Key | None = None,
        end: Key | None = None,
        deleted: int | None = None,
    ) -> None:
        self.kind = kind
        self.key = key
        self.version = version
        self.created = created
        self.updated = updated
        self.data = data
        self.type = type_
        self.start = start
        self.end = end
        self.deleted = deleted
        self.seq = 0
        self.current = False
        # the shape's tag followed by the JSON: one immutable bytes object, so a reader never sees a torn
        # pair, and not a container the garbage collector has to track (a million records make that slow)
        self.fragment = b""

    @property
    def space(self) -> str:
        return self.key[0]

    @property
    def external_id(self) -> str:
        return self.key[1]

    def ref(self) -> dict[str, str]:
        return {"instanceType": self.kind, "space": self.key[0], "externalId": self.key[1]}


def reference(key: Key | None) -> dict[str, str] | None:
    """A key as the API's ``{"space", "externalId"}``."""
    return None if key is None else {"space": key[0], "externalId": key[1]}


def select_properties(record: Record, shape: Shape, share: bool = False) -> dict[str, dict[str, dict[str, Any]]]:
    """``{viewSpace: {"xid/version": {prop: value}}}`` for the selection; nulls and empty views left out.

    With ``share`` the record's own stored dicts may appear in the result (only for serializing).
    """
    out: dict[str, dict[str, dict[str, Any]]] = {}
    data = record.data
    for (view_space, view_key, mappings), direct in zip(shape.views, shape.direct, strict=True):
        if direct is not None:
            stored = data.get(direct[0])
            if not stored:
                continue
            if share and stored.keys() <= direct[1]:
                values = stored
            else:
                values = {name: value for name, value in stored.items() if name in direct[1]}
        else:
            values = {}
            for name, container, prop in mappings:
                held = data.get(container)
                if held is not None and held.get(prop) is not None:
                    values[name] = held[prop]
        if values:
            out.setdefault(view_space, {})[view_key] = values
    return out


def instance_dict(record: Record, shape: Shape = NO_PROPERTIES, share: bool = False) -> dict[str, Any]:
    """The API JSON of a record (``NodeDefinition``/``EdgeDefinition``); see :func:`select_properties`."""
    body: dict[str, Any] = {
        "instanceType": record.kind,
        "space": record.key[0],
        "externalId": record.key[1],
        "version": record.version,
        "createdTime": record.created,
        "lastUpdatedTime": record.updated,
    }
    if record.deleted is not None:
        body["deletedTime"] = record.deleted
    if record.type is not None:
        body["type"] = {"space": record.type[0], "externalId": record.type[1]}
    if record.kind == "edge":
        body["startNode"] = reference(record.start)
        body["endNode"] = reference(record.end)
    if shape.views:
        body["properties"] = select_properties(record, shape, share)
    return body


def instance_json(record: Record, shape: Shape) -> bytes:
    """The record's JSON as bytes, cached on the record for the last shape it was rendered with."""
    cached = record.fragment
    if cached.startswith(shape.tag):
        return cached[4:]
    fragment = _ENCODE(instance_dict(record, shape, share=True)).encode()
    record.fragment = shape.tag + fragment
    return fragment


def encode_json(value: Any) -> bytes:
    """Compact JSON bytes, as every hand-built response body uses."""
    return _ENCODE(value).encode()
