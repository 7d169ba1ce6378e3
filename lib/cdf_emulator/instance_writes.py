"""Turning ``NodeOrEdgeCreate`` items into write plans: every check CDF makes before it stores anything."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cdf_emulator.bodies import check_fields
from cdf_emulator.errors import ApiError
from cdf_emulator.records import ContainerKey, Key
from cdf_emulator.schema_access import MappedProperty, mapped_properties, require_container, require_view, view_key
from cdf_emulator.values import (
    InvalidValueError,
    Normalizer,
    bad_value,
    direct_key,
    direct_keys,
    is_valid_external_id,
    is_valid_space,
    value_normalizer,
)

_NODE_FIELDS = ("instanceType", "space", "externalId", "type", "existingVersion", "sources")
_EDGE_FIELDS = (*_NODE_FIELDS, "startNode", "endNode")
RESERVED = frozenset({"space", "externalId", "createdTime", "lastUpdatedTime", "deletedTime", "extensions"})


@dataclass
class WritePlan:
    """One validated item of an apply request."""

    kind: str
    key: Key
    type_: Key | None = None
    start: Key | None = None
    end: Key | None = None
    existing_version: int | None = None
    writes: dict[ContainerKey, dict[str, Any]] = field(default_factory=dict)
    direct: list[Key] = field(default_factory=list)


class SchemaView:
    """Views and containers looked up once per request (the SchemaStore hands out deep copies)."""

    def __init__(self, schema: Any) -> None:
        self.schema = schema
        self._containers: dict[ContainerKey, dict[str, Any] | None] = {}
        self._views: dict[tuple[Any, ...], tuple[dict[str, Any], dict[str, MappedProperty]]] = {}
        self._normalizers: dict[tuple[ContainerKey, str], tuple[Normalizer, bool]] = {}
        self._rules: dict[ContainerKey, tuple[dict[str, Any], tuple[str, ...], tuple[str, ...]]] = {}

    def container(self, key: ContainerKey) -> dict[str, Any] | None:
        if key not in self._containers:
            found = self.schema.get_container(*key)
            self._containers[key] = None if found is None else dict(found)
        return self._containers[key]

    def container_properties(self, key: ContainerKey) -> dict[str, Any]:
        """The container's property definitions (shared, do not modify)."""
        found = self.container(key)
        return (found or {}).get("properties") or {}

    def rules(self, key: ContainerKey) -> tuple[dict[str, Any], tuple[str, ...], tuple[str, ...]]:
        """A container's default values, required (non-nullable) and immutable property names."""
        found = self._rules.get(key)
        if found is None:
            props = self.container_properties(key)
            defaults = {
                name: spec["defaultValue"] for name, spec in props.items() if spec.get("defaultValue") is not None
            }
            required = tuple(name for name, spec in props.items() if spec.get("nullable", True) is False)
            immutable = tuple(name for name, spec in props.items() if spec.get("immutable"))
            found = self._rules[key] = (defaults, required, immutable)
        return found

    def view(self, reference: Any, where: str) -> tuple[dict[str, Any], dict[str, MappedProperty]]:
        """The view a reference names and its container-backed properties; 400 when it does not exist."""
        cache_key = (reference.get("space"), reference.get("externalId"), reference.get("version"))
        if isinstance(reference, dict) and cache_key in self._views:
            return self._views[cache_key]
        view = require_view(self.schema, reference, where)
        found = self._views[cache_key] = (view, mapped_properties(view))
        return found

    def property_type(self, container: ContainerKey, prop: str, fallback: dict[str, Any]) -> dict[str, Any]:
        """The container property's type (the authority for validation), else the view's copy."""
        found = self.container_properties(container).get(prop)
        if isinstance(found, dict) and isinstance(found.get("type"), dict):
            return dict(found["type"])
        if isinstance(fallback.get("type"), dict):
            return dict(fallback["type"])
        raise ApiError(400, f"Property {prop} does not exist in container {container[0]}:{container[1]}")

    def normalizer(self, container: ContainerKey, prop: str, fallback: dict[str, Any]) -> tuple[Normalizer, bool]:
        """The value check for one container property, and whether it holds direct relations."""
        key = (container, prop)
        found = self._normalizers.get(key)
        if found is None:
            ptype = self.property_type(container, prop, fallback)
            try:
                found = self._normalizers[key] = (value_normalizer(ptype), ptype.get("type") == "direct")
            except InvalidValueError as error:
                raise ApiError(400, f"Property {prop} of container {container[0]}:{container[1]}: {error}") from None
        return found


def check_space(schema: Any, space: Any, where: str) -> str:
    if not is_valid_space(space):
        raise ApiError(400, f"Invalid space '{space}' at '{where}'")
    if not schema.space_exists(space):
        raise ApiError(400, f"Space '{space}' does not exist")
    return str(space)


def check_external_id(xid: Any, where: str) -> str:
    if not is_valid_external_id(xid):
        raise ApiError(400, f"Invalid externalId at '{where}': 1-256 characters, no NUL")
    return str(xid)


def check_reference(value: Any, where: str) -> Key:
    try:
        return direct_key(value)
    except InvalidValueError as error:
        raise ApiError(400, f"Invalid reference at '{where}': {error}") from None


def plan_item(item: Any, index: int, schemas: SchemaView) -> WritePlan:
    """Validate one apply item; raises the 400 CDF gives, naming the field, instance or property."""
    where = f"items[{index}]"
    if not isinstance(item, dict):
        raise ApiError(400, f"Expected an object at '{where}'")
    kind = item.get("instanceType", "node")
    if kind not in ("node", "edge"):
        raise ApiError(400, f"Invalid instanceType at '{where}.instanceType': expected node or edge")
    check_fields(item, _NODE_FIELDS if kind == "node" else _EDGE_FIELDS, ("space", "externalId"), where)
    space = check_space(schemas.schema, item["space"], f"{where}.space")
    plan = WritePlan(kind=kind, key=(space, check_external_id(item["externalId"], f"{where}.externalId")))
    if item.get("type") is not None:
        plan.type_ = check_reference(item["type"], f"{where}.type")
    if kind == "edge":
        for name in ("type", "startNode", "endNode"):
            if item.get(name) is None:
                raise ApiError(400, f"Missing required field '{where}.{name}'")
        plan.start = check_reference(item["startNode"], f"{where}.startNode")
        plan.end = check_reference(item["endNode"], f"{where}.endNode")
    version = item.get("existingVersion")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int) or version < 0):
        raise ApiError(400, f"Invalid existingVersion at '{where}.existingVersion'")
    plan.existing_version = version
    sources = item.get("sources")
    if sources is not None:
        if not isinstance(sources, list) or not 1 <= len(sources) <= 100:
            raise ApiError(400, f"'{where}.sources' must be a list of 1 to 100 sources")
        for number, source in enumerate(sources):
            _plan_source(plan, source, f"{where}.sources[{number}]", schemas)
    return plan


def _plan_source(plan: WritePlan, source: Any, where: str, schemas: SchemaView) -> None:
    check_fields(source, ("source", "properties"), ("source",), where)
    values = source.get("properties") or {}
    if not isinstance(values, dict):
        raise ApiError(400, f"'{where}.properties' must be an object")
    reference = source["source"]
    if isinstance(reference, dict) and reference.get("type") == "container":
        _plan_container_source(plan, reference, values, where, schemas)
    else:
        _plan_view_source(plan, reference, values, where, schemas)


def _check_used_for(plan: WritePlan, used_for: Any, what: str) -> None:
    if used_for in ("node", "edge") and used_for != plan.kind:
        raise ApiError(
            400, f"Cannot write {plan.kind} {plan.key[0]}:{plan.key[1]} through {what}, used for {used_for}s"
        )


def _plan_view_source(plan: WritePlan, reference: Any, values: dict[str, Any], where: str, schemas: SchemaView) -> None:
    if not isinstance(reference, dict):
        raise ApiError(400, f"Expected a view or container reference at '{where}.source'")
    view, mapped = schemas.view(reference, f"{where}.source")
    _check_used_for(plan, view.get("usedFor"), f"view {view['space']}:{view_key(view)}")
    for container in {mapping[0] for mapping in mapped.values()}:
        plan.writes.setdefault(container, {})
    for name, value in values.items():
        if name not in mapped:
            if name in (view.get("properties") or {}):
                raise ApiError(400, f"Property '{name}' of view {view['space']}:{view_key(view)} is a connection")
            raise ApiError(400, f"Property '{name}' does not exist in view {view['space']}:{view_key(view)} ({where})")
        container, prop, view_property = mapped[name]
        _store_value(plan, container, prop, name, value, schemas.normalizer(container, prop, view_property))


def _plan_container_source(
    plan: WritePlan, reference: dict[str, Any], values: dict[str, Any], where: str, schemas: SchemaView
) -> None:
    space, xid = reference.get("space"), reference.get("externalId")
    definition = require_container(schemas.schema, space, xid, f"{where}.source")
    _check_used_for(plan, definition.get("usedFor"), f"container {space}:{xid}")
    container = (str(space), str(xid))
    props = definition.get("properties") or {}
    plan.writes.setdefault(container, {})
    for name, value in values.items():
        if name not in props:
            raise ApiError(400, f"Property '{name}' does not exist in container {space}:{xid} ({where})")
        _store_value(plan, container, name, name, value, schemas.normalizer(container, name, props[name]))


def _store_value(
    plan: WritePlan, container: ContainerKey, prop: str, shown: str, value: Any, check: tuple[Normalizer, bool]
) -> None:
    if shown in RESERVED:
        raise ApiError(400, f"Property '{shown}' is reserved")
    normalize, is_direct = check
    try:
        stored = normalize(value)
    except InvalidValueError as error:
        raise bad_value(plan.key, shown, str(error)) from None
    plan.writes[container][prop] = stored
    if is_direct and stored is not None:
        plan.direct.extend(direct_keys(stored))


def merge_data(
    plan: WritePlan,
    previous: dict[ContainerKey, dict[str, Any]] | None,
    replace: bool,
    schemas: SchemaView,
) -> dict[ContainerKey, dict[str, Any]]:
    """The instance's container data after the write: defaults filled, required and immutable checked."""
    data = dict(previous or {})
    for container, values in plan.writes.items():
        defaults, required, immutable = schemas.rules(container)
        old = None if previous is None else previous.get(container)
        merged = dict(defaults) if old is None or replace else dict(old)
        merged.update(values)
        if None in merged.values():
            merged = {name: value for name, value in merged.items() if value is not None}
        for name in required:
            if merged.get(name) is None:
                raise bad_value(plan.key, name, f"is required by container {container[0]}:{container[1]}")
        for name in immutable:
            if old is not None and old.get(name) not in (None, merged.get(name)):
                raise bad_value(plan.key, name, "is immutable and already set")
        data[container] = merged
    return data
