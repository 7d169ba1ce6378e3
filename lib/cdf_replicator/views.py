"""View definitions (CDF's view JSON) turned into the small specs the schema mapping and row building use.

Pure: no I/O. Identifiers are validated here, before any of them becomes a path segment or a column name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from cdf_replicator.columns import property_column
from cdf_replicator.errors import SchemaMappingError
from cdf_replicator.sync_query import ViewRef

UsedFor = Literal["node", "edge", "all"]
Direction = Literal["outwards", "inwards"]

# CDF's own patterns (OpenAPI `Space`, `DMSExternalId`, `DMSVersion`, `PropertyIdentifierV3`).
_IDENTIFIER_PATTERNS: dict[str, re.Pattern[str]] = {
    "space": re.compile(r"[a-zA-Z][a-zA-Z0-9_-]{0,41}[a-zA-Z0-9]?"),
    "externalId": re.compile(r"[a-zA-Z]([a-zA-Z0-9_]{0,253}[a-zA-Z0-9])?"),
    "version": re.compile(r"[a-zA-Z0-9]([.a-zA-Z0-9_-]{0,41}[a-zA-Z0-9])?"),
    "property": re.compile(r"[a-zA-Z]([a-zA-Z0-9_]{0,253}[a-zA-Z0-9])?"),
}
_EDGE_CONNECTIONS = frozenset({"single_edge_connection", "multi_edge_connection"})
_REVERSE_RELATIONS = frozenset({"single_reverse_direct_relation", "multi_reverse_direct_relation"})


@dataclass(frozen=True)
class PropertySpec:
    """A mapped (container-backed) view property: its identifier and CDF type name (``text``, ``int64``, ...)."""

    name: str
    type: str
    is_list: bool = False
    nullable: bool = True

    @property
    def column(self) -> str:
        """The column this property is stored in (see :func:`cdf_replicator.columns.property_column`)."""
        return property_column(self.name)


@dataclass(frozen=True)
class EdgeConnectionSpec:
    """An edge connection property: edges of ``edge_type`` to ``source`` nodes, with ``edge_source`` properties."""

    name: str
    edge_type: tuple[str, str]
    direction: Direction
    source: ViewRef
    edge_source: ViewRef | None


@dataclass(frozen=True)
class ViewSpec:
    """What replication needs to know about one view version."""

    space: str
    external_id: str
    version: str
    used_for: UsedFor
    properties: tuple[PropertySpec, ...]
    edge_connections: tuple[EdgeConnectionSpec, ...] = ()

    @property
    def ref(self) -> ViewRef:
        return ViewRef(self.space, self.external_id, self.version)

    @property
    def label(self) -> str:
        """``space:externalId/version``, for messages."""
        return f"{self.space}:{self.external_id}/{self.version}"


def validate_identifier(kind: str, value: object) -> str:
    """Return ``value`` when it matches CDF's pattern for ``kind`` (space, externalId, version, property).

    Raises :class:`SchemaMappingError` otherwise; callers that know the view re-raise it with the view named.
    """
    pattern = _IDENTIFIER_PATTERNS.get(kind)
    if pattern is None:
        raise ValueError(f"unknown identifier kind {kind!r}; expected one of {sorted(_IDENTIFIER_PATTERNS)}")
    if not isinstance(value, str) or pattern.fullmatch(value) is None:
        raise SchemaMappingError(f"invalid {kind} identifier {value!r}: it does not match CDF's pattern")
    return value


def view_spec_from_definition(view: Mapping[str, Any]) -> ViewSpec:
    """Build a :class:`ViewSpec` from a view definition as the API returns it (``/models/views``, inline views).

    Mapped properties become :class:`PropertySpec` (in definition order), edge connections become
    :class:`EdgeConnectionSpec`, and reverse direct relations are skipped: they are read from the other side
    and hold no data of their own. Property types are kept as CDF names; the schema mapping rejects unknown ones.
    """
    label = _view_label(view)
    try:
        space = validate_identifier("space", view.get("space"))
        external_id = validate_identifier("externalId", view.get("externalId"))
        version = validate_identifier("version", view.get("version"))
    except SchemaMappingError as e:
        raise SchemaMappingError(f"view {label}: {e}") from e
    label = f"{space}:{external_id}/{version}"
    used_for = view.get("usedFor", "node")
    if used_for not in ("node", "edge", "all"):
        raise SchemaMappingError(f"view {label}: usedFor must be node, edge or all, not {used_for!r}")
    properties: list[PropertySpec] = []
    connections: list[EdgeConnectionSpec] = []
    for name, definition in (view.get("properties") or {}).items():
        parsed = _parse_property(label, name, definition)
        if isinstance(parsed, PropertySpec):
            properties.append(parsed)
        elif isinstance(parsed, EdgeConnectionSpec):
            connections.append(parsed)
    return ViewSpec(space, external_id, version, used_for, tuple(properties), tuple(connections))


def edge_source_refs_for(spec: ViewSpec) -> tuple[ViewRef, ...]:
    """The distinct ``edgeSource`` views of a view's edge connections, in definition order."""
    refs: dict[ViewRef, None] = {}
    for connection in spec.edge_connections:
        if connection.edge_source is not None:
            refs.setdefault(connection.edge_source, None)
    return tuple(refs)


def _parse_property(label: str, name: str, definition: Mapping[str, Any]) -> PropertySpec | EdgeConnectionSpec | None:
    try:
        validate_identifier("property", name)
    except SchemaMappingError as e:
        raise SchemaMappingError(f"view {label}: {e}") from e
    if not isinstance(definition, Mapping):
        raise SchemaMappingError(f"view {label}, property {name!r}: the definition is not an object")
    connection_type = definition.get("connectionType")
    if connection_type in _REVERSE_RELATIONS:
        return None
    if connection_type in _EDGE_CONNECTIONS:
        return _parse_edge_connection(label, name, definition)
    if connection_type is not None:
        raise SchemaMappingError(f"view {label}, property {name!r}: unknown connectionType {connection_type!r}")
    if "container" not in definition:
        raise SchemaMappingError(f"view {label}, property {name!r}: neither a mapped property nor a connection")
    type_definition = definition.get("type")
    if not isinstance(type_definition, Mapping) or not isinstance(type_definition.get("type"), str):
        raise SchemaMappingError(f"view {label}, property {name!r}: the property has no type")
    return PropertySpec(
        name=name,
        type=type_definition["type"],
        is_list=bool(type_definition.get("list", False)),
        nullable=bool(definition.get("nullable", True)),
    )


def _parse_edge_connection(label: str, name: str, definition: Mapping[str, Any]) -> EdgeConnectionSpec:
    where = f"view {label}, edge connection {name!r}"
    edge_type = definition.get("type")
    if not isinstance(edge_type, Mapping) or not all(
        isinstance(edge_type.get(key), str) for key in ("space", "externalId")
    ):
        raise SchemaMappingError(f"{where}: the edge type must be {{space, externalId}}")
    direction = definition.get("direction", "outwards")
    if direction not in ("outwards", "inwards"):
        raise SchemaMappingError(f"{where}: direction must be outwards or inwards, not {direction!r}")
    edge_source = definition.get("edgeSource")
    return EdgeConnectionSpec(
        name=name,
        edge_type=(edge_type["space"], edge_type["externalId"]),
        direction=direction,
        source=_parse_view_ref(where, "source", definition.get("source")),
        edge_source=None if edge_source is None else _parse_view_ref(where, "edgeSource", edge_source),
    )


def _parse_view_ref(where: str, field: str, value: object) -> ViewRef:
    if not isinstance(value, Mapping):
        raise SchemaMappingError(f"{where}: {field} must be a view reference")
    try:
        return ViewRef(
            validate_identifier("space", value.get("space")),
            validate_identifier("externalId", value.get("externalId")),
            validate_identifier("version", value.get("version")),
        )
    except SchemaMappingError as e:
        raise SchemaMappingError(f"{where}: {field}: {e}") from e


def _view_label(view: Mapping[str, Any]) -> str:
    """A printable name for a view whose identifiers are not validated yet."""
    return f"{view.get('space')!r}:{view.get('externalId')!r}/{view.get('version')!r}"
