"""Views: request checks, and resolution of a view's own spec into CDF's full view definition.

A view is stored as its own spec (what was applied). The definition the API returns is computed from
it: mapped properties take their type and flags from the container, ``implements`` adds the parents'
properties (a later parent overrides an earlier one, own properties override both), and
``mappedContainers``, ``usedFor``, ``writable`` and ``queryable`` follow from the mapped containers.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from cdf_emulator.bodies import check_fields
from cdf_emulator.errors import ApiError
from cdf_emulator.schema_common import (
    DESCRIPTION_MAX,
    MAX_PROPERTIES,
    NAME_MAX,
    ContainerKey,
    ViewKey,
    check_external_id,
    check_property_id,
    check_space,
    check_text,
    check_version,
    container_ref,
    copy_texts,
    parse_container_ref,
    parse_view_ref,
    view_ref,
)

EDGE_CONNECTIONS = ("single_edge_connection", "multi_edge_connection")
REVERSE_CONNECTIONS = ("single_reverse_direct_relation", "multi_reverse_direct_relation")
_TEXTS = ("name", "description")


def view_key(spec: Mapping[str, Any]) -> ViewKey:
    return spec["space"], spec["externalId"], spec["version"]


def _full_view_ref(obj: Any, where: str) -> ViewKey:
    space, external_id, version = parse_view_ref(obj, where)
    assert version is not None  # version_required guarantees it
    return space, external_id, version


def normalize_view(item: Any, where: str) -> dict[str, Any]:
    """A ``ViewCreateDefinition`` checked field by field into the stored own spec."""
    check_fields(item, ("space", "externalId", "version", "name", "description", "filter", "implements",
                        "properties"), ("space", "externalId", "version"), where)  # fmt: skip
    check_text(item, "name", NAME_MAX, where)
    check_text(item, "description", DESCRIPTION_MAX, where)
    spec: dict[str, Any] = {
        "space": check_space(item["space"], f"{where}.space"),
        "externalId": check_external_id(item["externalId"], f"{where}.externalId", type_id=True),
        "version": check_version(item["version"], f"{where}.version"),
    }
    copy_texts(item, spec)
    if item.get("filter") is not None:
        if not isinstance(item["filter"], dict):
            raise ApiError(400, f"Expected an object at '{where}.filter'")
        spec["filter"] = item["filter"]
    implements = item.get("implements") or []
    if not isinstance(implements, list):
        raise ApiError(400, f"Expected a list at '{where}.implements'")
    spec["implements"] = [_full_view_ref(ref, f"{where}.implements[{i}]") for i, ref in enumerate(implements)]
    if view_key(spec) in spec["implements"]:
        raise ApiError(400, f"View '{spec['externalId']}' cannot implement itself")
    raw_props = item.get("properties") or {}
    if not isinstance(raw_props, dict) or len(raw_props) > MAX_PROPERTIES:
        raise ApiError(400, f"'{where}.properties' must be an object with at most {MAX_PROPERTIES} properties")
    spec["properties"] = {
        check_property_id(pid, f"{where}.properties"): _normalize_property(prop, f"{where}.properties.{pid}")
        for pid, prop in raw_props.items()
    }
    return spec


def _normalize_property(prop: Any, where: str) -> dict[str, Any]:
    if not isinstance(prop, dict):
        raise ApiError(400, f"Expected an object at '{where}'")
    connection = prop.get("connectionType")
    if connection in REVERSE_CONNECTIONS:
        check_fields(prop, ("connectionType", "source", "through", *_TEXTS), ("source", "through"), where)
        through = check_fields(prop["through"], ("source", "identifier"), ("source", "identifier"), f"{where}.through")
        if not isinstance(through["source"], dict) or through["source"].get("type") not in ("view", "container"):
            raise ApiError(400, f"'{where}.through.source.type' must be 'view' or 'container'")
        if through["source"]["type"] == "view":
            through_source: tuple[str, tuple[str, ...]] = ("view", _full_view_ref(through["source"], where))
        else:
            through_source = ("container", parse_container_ref(through["source"], f"{where}.through.source"))
        if not isinstance(through["identifier"], str):
            raise ApiError(400, f"Invalid type for field '{where}.through.identifier'")
        result = {"kind": "reverse", "connectionType": connection, "source": _full_view_ref(prop["source"], where)}
        result["through"] = {"source": through_source, "identifier": through["identifier"]}
    elif connection in EDGE_CONNECTIONS or (connection is None and "container" not in prop):
        fields = ("connectionType", "type", "source", "edgeSource", "direction", *_TEXTS)
        check_fields(prop, fields, ("type", "source"), where)
        edge_type = check_fields(prop["type"], ("space", "externalId"), ("space", "externalId"), f"{where}.type")
        check_space(edge_type["space"], f"{where}.type.space")
        if not isinstance(edge_type["externalId"], str) or not 1 <= len(edge_type["externalId"]) <= 256:
            raise ApiError(400, f"Invalid externalId at '{where}.type.externalId'")
        direction = prop.get("direction", "outwards")
        if direction not in ("outwards", "inwards"):
            raise ApiError(400, f"Invalid value '{direction}' for '{where}.direction'")
        result = {"kind": "edge", "connectionType": connection or "multi_edge_connection"}
        result.update(type=dict(edge_type), source=_full_view_ref(prop["source"], f"{where}.source"))
        edge_source = prop.get("edgeSource")
        result["edgeSource"] = None if edge_source is None else _full_view_ref(edge_source, f"{where}.edgeSource")
        result["direction"] = direction
    elif connection is None:
        check_fields(prop, ("container", "containerPropertyIdentifier", "source", *_TEXTS),
                     ("container", "containerPropertyIdentifier"), where)  # fmt: skip
        if not isinstance(prop["containerPropertyIdentifier"], str):
            raise ApiError(400, f"Invalid type for field '{where}.containerPropertyIdentifier'")
        source = prop.get("source")
        result = {
            "kind": "mapped",
            "container": parse_container_ref(prop["container"], f"{where}.container"),
            "containerPropertyIdentifier": prop["containerPropertyIdentifier"],
            "source": None if source is None else _full_view_ref(source, f"{where}.source"),
        }
    else:
        raise ApiError(400, f"Invalid value '{connection}' for '{where}.connectionType'")
    for key in _TEXTS:
        check_text(prop, key, NAME_MAX if key == "name" else DESCRIPTION_MAX, where)
    return copy_texts(prop, result)


class ViewResolver:
    """Turns stored view specs into full definitions against a snapshot of views and containers.

    ``strict`` (used when applying) raises CDF's errors for anything that does not resolve; otherwise
    (reading after a container or parent view was deleted) the broken parts are left out.
    """

    def __init__(
        self, views: Mapping[ViewKey, dict[str, Any]], containers: Mapping[ContainerKey, dict[str, Any]], strict: bool
    ) -> None:
        self.views = views
        self.containers = containers
        self.strict = strict
        self._memo: dict[ViewKey, dict[str, Any]] = {}

    def definition(self, spec: dict[str, Any], include_inherited: bool = True) -> dict[str, Any]:
        """The view definition without times (the caller adds ``createdTime``/``lastUpdatedTime``)."""
        everything = self.properties(view_key(spec))
        shown = everything if include_inherited else {pid: everything[pid] for pid in spec["properties"]
                                                      if pid in everything}  # fmt: skip
        containers = _mapped_containers(everything)
        result: dict[str, Any] = {"space": spec["space"], "externalId": spec["externalId"]}
        copy_texts(spec, result)
        if "filter" in spec:
            result["filter"] = copy.deepcopy(spec["filter"])
        result.update(
            implements=[view_ref(parent) for parent in spec["implements"]],
            version=spec["version"],
            writable=self._writable(everything, containers),
            queryable=bool(containers) or "filter" in spec,
            usedFor=self._used_for(containers),
            isGlobal=False,
            properties=copy.deepcopy(shown),
            mappedContainers=[container_ref(key) for key in containers],
        )
        return result

    def properties(self, key: ViewKey, visiting: tuple[ViewKey, ...] = ()) -> dict[str, Any]:
        """All properties of a view, inherited ones included, in read form."""
        if key in self._memo:
            return self._memo[key]
        if key in visiting:
            raise ApiError(400, f"Circular 'implements' between views: {' -> '.join(k[1] for k in (*visiting, key))}")
        spec = self.views.get(key)
        if spec is None:
            if self.strict:
                raise ApiError(400, f"View {key[0]}:{key[1]}/{key[2]} does not exist", missing=[view_ref(key)])
            return {}
        result: dict[str, Any] = {}
        for parent in spec["implements"]:
            result.update(self.properties(parent, (*visiting, key)))
        for pid, prop in spec["properties"].items():
            rendered = self._render(prop, f"{key[1]}.{pid}")
            if rendered is not None:
                result[pid] = rendered
        self._memo[key] = result
        return result

    def _fail(self, message: str, missing: list[Any] | None = None) -> None:
        if self.strict:
            raise ApiError(400, message, missing=missing)

    def _render(self, prop: dict[str, Any], where: str) -> dict[str, Any] | None:
        if prop["kind"] == "mapped":
            return self._render_mapped(prop, where)
        if prop["kind"] == "edge":
            for key in (prop["source"], prop["edgeSource"]):
                if key is not None and key not in self.views:
                    self._fail(f"View {key[0]}:{key[1]}/{key[2]} used by '{where}' does not exist", [view_ref(key)])
            result = {"connectionType": prop["connectionType"], "type": dict(prop["type"])}
            result["source"] = view_ref(prop["source"])
            if prop["edgeSource"] is not None:
                result["edgeSource"] = view_ref(prop["edgeSource"])
            result["direction"] = prop["direction"]
            return copy_texts(prop, result)
        return self._render_reverse(prop, where)

    def _render_mapped(self, prop: dict[str, Any], where: str) -> dict[str, Any] | None:
        ckey, cpid = prop["container"], prop["containerPropertyIdentifier"]
        container = self.containers.get(ckey)
        if container is None:
            self._fail(f"Container {ckey[0]}:{ckey[1]} used by '{where}' does not exist", [container_ref(ckey)])
            return None
        cprop = container["properties"].get(cpid)
        if cprop is None:
            self._fail(f"Container {ckey[0]}:{ckey[1]} has no property '{cpid}' (used by '{where}')")
            return None
        prop_type = copy.deepcopy(cprop["type"])
        if prop["source"] is not None:
            if prop_type["type"] != "direct":
                self._fail(f"'{where}.source' is only allowed on direct relation properties")
            prop_type["source"] = view_ref(prop["source"])
        result: dict[str, Any] = {"container": container_ref(ckey), "containerPropertyIdentifier": cpid}
        result["type"] = prop_type
        for key in ("nullable", "immutable", "autoIncrement", "defaultValue"):
            if key in cprop:
                result[key] = cprop[key]
        result.update(copy_texts(cprop, {}))
        copy_texts(prop, result)
        result["constraintState"] = dict(cprop.get("constraintState", {}))
        return result

    def _render_reverse(self, prop: dict[str, Any], where: str) -> dict[str, Any] | None:
        kind, key = prop["through"]["source"]
        identifier = prop["through"]["identifier"]
        if kind == "view":
            through_ref = view_ref(key)
            target = self._find_mapped(key, identifier, ())
        else:
            through_ref = container_ref(key)
            container = self.containers.get(key)
            if container is None:
                self._fail(f"Container {key[0]}:{key[1]} used by '{where}' does not exist", [through_ref])
            target = None if container is None else container["properties"].get(identifier)
        if target is None or target["type"]["type"] != "direct":
            self._fail(f"'{where}.through' must point at a direct relation property, '{identifier}' is not one")
        if prop["source"] not in self.views:
            self._fail(f"View {prop['source'][1]} used by '{where}' does not exist", [view_ref(prop["source"])])
        result = {"connectionType": prop["connectionType"], "source": view_ref(prop["source"])}
        result["through"] = {"source": through_ref, "identifier": identifier}
        result["targetsList"] = bool(target and target["type"].get("list"))
        return copy_texts(prop, result)

    def _find_mapped(self, key: ViewKey, pid: str, visiting: tuple[ViewKey, ...]) -> dict[str, Any] | None:
        """The container property behind a view's mapped property (own first, then the last parent)."""
        spec = self.views.get(key)
        if spec is None or key in visiting:
            self._fail(f"View {key[0]}:{key[1]}/{key[2]} does not exist", [view_ref(key)])
            return None
        prop = spec["properties"].get(pid)
        if prop is not None:
            container = self.containers.get(prop["container"]) if prop["kind"] == "mapped" else None
            return None if container is None else container["properties"].get(prop["containerPropertyIdentifier"])
        for parent in reversed(spec["implements"]):
            found = self._find_mapped(parent, pid, (*visiting, key))
            if found is not None:
                return found
        return None

    def _used_for(self, containers: list[ContainerKey]) -> str:
        allowed = {"node", "edge"}
        for key in containers:
            used_for = self.containers[key]["usedFor"]
            allowed &= {"node", "edge"} if used_for == "all" else {used_for}
        return allowed.pop() if len(allowed) == 1 else "all"

    def _writable(self, properties: dict[str, Any], containers: list[ContainerKey]) -> bool:
        """Writable when every required container property (not nullable, no default) is mapped."""
        if not containers:
            return False
        mapped = {
            (prop["container"]["space"], prop["container"]["externalId"], prop["containerPropertyIdentifier"])
            for prop in properties.values()
            if "containerPropertyIdentifier" in prop
        }
        for key in containers:
            for cpid, cprop in self.containers[key]["properties"].items():
                required = not cprop["nullable"] and "defaultValue" not in cprop and not cprop["autoIncrement"]
                if required and (*key, cpid) not in mapped:
                    return False
        return True


def _mapped_containers(properties: dict[str, Any]) -> list[ContainerKey]:
    seen: dict[ContainerKey, None] = {}
    for prop in properties.values():
        if "containerPropertyIdentifier" in prop:
            seen[(prop["container"]["space"], prop["container"]["externalId"])] = None
    return list(seen)
