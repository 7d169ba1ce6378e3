"""Reading the SchemaStore from the instance side: view and container lookups that answer CDF's 400s."""

from __future__ import annotations

from typing import Any

from cdf_emulator.errors import ApiError
from cdf_emulator.records import ContainerKey, PropertyMapping, Shape, ViewSelection

MappedProperty = tuple[ContainerKey, str, dict[str, Any]]  # (container, container property, view property)


def view_ref_tuple(ref: Any, where: str) -> tuple[str, str, str | None]:
    """``(space, externalId, version)`` of a ViewReference; 400 when it is not one."""
    if not isinstance(ref, dict) or ref.get("type", "view") != "view":
        raise ApiError(400, f"Expected a view reference at '{where}'")
    space, xid, version = ref.get("space"), ref.get("externalId"), ref.get("version")
    if not isinstance(space, str) or not isinstance(xid, str) or not isinstance(version, (str, type(None))):
        raise ApiError(400, f"Invalid view reference at '{where}': space, externalId and version are required")
    return space, xid, version


def require_view(schema: Any, ref: Any, where: str) -> dict[str, Any]:
    """The full view definition a ViewReference names; 400 when it does not exist, as CDF answers."""
    space, xid, version = view_ref_tuple(ref, where)
    view = schema.get_view(space, xid, version)
    if view is None:
        shown = f"{space}:{xid}" + (f"/{version}" if version else "")
        raise ApiError(400, f"View {shown} does not exist")
    return dict(view)


def require_container(schema: Any, space: Any, xid: Any, where: str) -> dict[str, Any]:
    if not isinstance(space, str) or not isinstance(xid, str):
        raise ApiError(400, f"Invalid container reference at '{where}'")
    container = schema.get_container(space, xid)
    if container is None:
        raise ApiError(400, f"Container {space}:{xid} does not exist")
    return dict(container)


def view_key(view: dict[str, Any]) -> str:
    """The ``"externalId/version"`` key instances use under ``properties[space]``."""
    return f"{view['externalId']}/{view['version']}"


def mapped_properties(view: dict[str, Any]) -> dict[str, MappedProperty]:
    """The view's properties that map a container property (connection properties left out)."""
    out: dict[str, MappedProperty] = {}
    for name, prop in (view.get("properties") or {}).items():
        container = prop.get("container") if isinstance(prop, dict) else None
        if not container or "connectionType" in prop:
            continue
        out[name] = ((container["space"], container["externalId"]), prop["containerPropertyIdentifier"], prop)
    return out


def view_containers(schema: Any, view: dict[str, Any]) -> list[ContainerKey]:
    """The containers a view maps, as the SchemaStore reports them."""
    method = getattr(schema, "view_containers", None)
    if method is not None:
        return [(str(item[0]), str(item[1])) for item in method(view)]
    return sorted({mapping[0] for mapping in mapped_properties(view).values()})


def property_type(schema: Any, container: ContainerKey, prop: str, fallback: dict[str, Any] | None) -> dict[str, Any]:
    """The container property's type (the authority for validation), else the view's copy."""
    definition = schema.get_container(*container)
    if definition is not None:
        found = (definition.get("properties") or {}).get(prop)
        if isinstance(found, dict) and isinstance(found.get("type"), dict):
            return dict(found["type"])
    if fallback is not None and isinstance(fallback.get("type"), dict):
        return dict(fallback["type"])
    raise ApiError(400, f"Property {prop} does not exist in container {container[0]}:{container[1]}")


def compile_selection(schema: Any, sources: Any, where: str, with_properties: bool = True) -> tuple[ViewSelection, ...]:
    """``[{"source": ViewReference, "properties": [...]}]`` -> view selections for :class:`Shape`."""
    if sources is None:
        return ()
    if not isinstance(sources, list) or len(sources) > 10:
        raise ApiError(400, f"'{where}' must be a list of at most 10 source selectors")
    selections: list[ViewSelection] = []
    for index, selector in enumerate(sources):
        if not isinstance(selector, dict) or "source" not in selector:
            raise ApiError(400, f"Missing required field '{where}[{index}].source'")
        view = require_view(schema, selector["source"], f"{where}[{index}].source")
        mapped = mapped_properties(view)
        names = selector.get("properties", ["*"]) if with_properties else ["*"]
        if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
            raise ApiError(400, f"'{where}[{index}].properties' must be a list of property names")
        chosen = sorted(mapped) if "*" in names else [name for name in names if _known(view, name, where)]
        mappings: tuple[PropertyMapping, ...] = tuple(
            (name, mapped[name][0], mapped[name][1]) for name in chosen if name in mapped
        )
        selections.append((view["space"], view_key(view), mappings))
    return tuple(selections)


def _known(view: dict[str, Any], name: str, where: str) -> bool:
    if name not in (view.get("properties") or {}):
        raise ApiError(400, f"Property '{name}' does not exist in view {view['space']}:{view_key(view)} ({where})")
    return True


def typing_for(schema: Any, selections: tuple[ViewSelection, ...]) -> dict[str, Any]:
    """``{space: {"xid/version": {prop: ViewCorePropertyDefinition}}}`` for the selected properties."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for view_space, key, mappings in selections:
        external_id, _, version = key.partition("/")
        view = schema.get_view(view_space, external_id, version) or {}
        props = view.get("properties") or {}
        types: dict[str, Any] = {}
        for name, _container, _prop in mappings:
            definition = props.get(name) or {}
            typed = {
                key: value
                for key, value in definition.items()
                if key not in ("container", "containerPropertyIdentifier") and value is not None
            }
            typed.setdefault("constraintState", {})
            types[name] = typed
        out.setdefault(view_space, {})[key] = types
    return out


def shape_key(selections: tuple[ViewSelection, ...]) -> str:
    """A string identity of a selection, for interning shapes."""
    return repr(selections)


class ShapeCache:
    """Interns shapes so equal selections share one object (records cache their JSON per shape)."""

    def __init__(self, maximum: int = 256) -> None:
        self._shapes: dict[str, Shape] = {}
        self._maximum = maximum

    def intern(self, selections: tuple[ViewSelection, ...]) -> Shape:
        key = shape_key(selections)
        shape = self._shapes.get(key)
        if shape is None:
            if len(self._shapes) >= self._maximum:
                self._shapes.clear()
            shape = self._shapes[key] = Shape(selections)
        return shape
