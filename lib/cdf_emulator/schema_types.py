"""Containers: property types, properties, constraints and indexes, checked and written in CDF's read form."""

from __future__ import annotations

from typing import Any

from cdf_emulator.bodies import check_fields
from cdf_emulator.errors import ApiError
from cdf_emulator.schema_common import (
    DESCRIPTION_MAX,
    MAX_PROPERTIES,
    NAME_MAX,
    check_bool,
    check_external_id,
    check_property_id,
    check_space,
    check_text,
    container_ref,
    copy_texts,
    parse_container_ref,
)

PRIMITIVE_TYPES = frozenset({"boolean", "float32", "float64", "int32", "int64", "timestamp", "date", "json"})
NUMERIC_TYPES = frozenset({"float32", "float64", "int32", "int64"})
REFERENCE_TYPES = frozenset({"timeseries", "file", "sequence"})
ALL_TYPES = PRIMITIVE_TYPES | REFERENCE_TYPES | {"text", "direct", "enum"}
MAX_ENUM_VALUES = 32
CONTAINER_USED_FOR = ("node", "edge", "all")
_LISTABLE_FIELDS = ("type", "list", "maxListSize")


def normalize_type(obj: Any, where: str) -> dict[str, Any]:
    """A container property ``type`` with the defaults the API fills in (``list`` is always present)."""
    check_fields(obj, ("type", "list", "maxListSize", "maxTextSize", "collation", "unit", "container", "values",
                       "unknownValue"), ("type",), where)  # fmt: skip
    kind = obj["type"]
    if kind not in ALL_TYPES:
        raise ApiError(400, f"Unknown property type '{kind}' at '{where}.type'")
    if kind == "enum":
        return _normalize_enum(obj, where)
    allowed = {
        "text": (*_LISTABLE_FIELDS, "maxTextSize", "collation"),
        "direct": (*_LISTABLE_FIELDS, "container"),
    }.get(kind, (*_LISTABLE_FIELDS, "unit") if kind in PRIMITIVE_TYPES else _LISTABLE_FIELDS)
    check_fields(obj, allowed, (), where)
    result: dict[str, Any] = {"type": kind, "list": check_bool(obj, "list", False, where)}
    for key in ("maxListSize", "maxTextSize"):
        if obj.get(key) is not None:
            if isinstance(obj[key], bool) or not isinstance(obj[key], int) or obj[key] < 1:
                raise ApiError(400, f"'{where}.{key}' must be a positive integer")
            result[key] = obj[key]
    if "maxListSize" in result and not result["list"]:
        raise ApiError(400, f"'{where}.maxListSize' is only allowed on list properties")
    if kind == "text":
        collation = obj.get("collation", "ucs_basic")
        if not isinstance(collation, str):
            raise ApiError(400, f"Invalid type for field '{where}.collation'")
        result["collation"] = collation
    if obj.get("unit") is not None:
        unit = check_fields(obj["unit"], ("externalId", "sourceUnit"), ("externalId",), f"{where}.unit")
        result["unit"] = dict(unit)
    if kind == "direct" and obj.get("container") is not None:
        result["container"] = container_ref(parse_container_ref(obj["container"], f"{where}.container"))
    return result


def _normalize_enum(obj: dict[str, Any], where: str) -> dict[str, Any]:
    check_fields(obj, ("type", "values", "unknownValue"), ("values",), where)
    values = obj["values"]
    if not isinstance(values, dict) or not 1 <= len(values) <= MAX_ENUM_VALUES:
        raise ApiError(400, f"'{where}.values' must be an object with 1 to {MAX_ENUM_VALUES} values")
    normalized: dict[str, Any] = {}
    for key, value in values.items():
        check_property_id(key, f"{where}.values")
        check_fields(value, ("name", "description"), (), f"{where}.values.{key}")
        check_text(value, "name", NAME_MAX, f"{where}.values.{key}")
        check_text(value, "description", DESCRIPTION_MAX, f"{where}.values.{key}")
        normalized[key] = copy_texts(value, {})
    result: dict[str, Any] = {"type": "enum", "values": normalized}
    unknown = obj.get("unknownValue")
    if unknown is not None:
        if unknown not in normalized:
            raise ApiError(400, f"'{where}.unknownValue' must be one of the enum values, got '{unknown}'")
        result["unknownValue"] = unknown
    return result


def normalize_container_property(obj: Any, where: str) -> dict[str, Any]:
    """A container property in read form: type, nullable, immutable, autoIncrement, constraintState, texts."""
    # constraintState is read-only, but the SDK's read class ContainerProperty (used in its own examples) sends it
    check_fields(obj, ("type", "nullable", "immutable", "autoIncrement", "defaultValue", "name", "description",
                       "constraintState"), ("type",), where)  # fmt: skip
    check_text(obj, "name", NAME_MAX, where)
    check_text(obj, "description", DESCRIPTION_MAX, where)
    prop_type = normalize_type(obj["type"], f"{where}.type")
    result: dict[str, Any] = {
        "type": prop_type,
        "nullable": check_bool(obj, "nullable", True, where),
        "immutable": check_bool(obj, "immutable", False, where),
        "autoIncrement": check_bool(obj, "autoIncrement", False, where),
    }
    if result["autoIncrement"] and (prop_type["type"] not in ("int32", "int64") or prop_type["list"]):
        raise ApiError(400, f"'{where}.autoIncrement' is only allowed on int32 and int64 properties")
    default = obj.get("defaultValue")
    if default is not None:
        if not isinstance(default, (str, int, float, bool, dict)):
            raise ApiError(400, f"Invalid type for field '{where}.defaultValue'")
        result["defaultValue"] = default
    copy_texts(obj, result)
    state: dict[str, str] = {}
    if not result["nullable"]:
        state["nullability"] = "current"
    if "maxListSize" in prop_type:
        state["maxListSize"] = "current"
    if "maxTextSize" in prop_type:
        state["maxTextSize"] = "current"
    result["constraintState"] = state
    return result


def normalize_container(item: Any, where: str) -> dict[str, Any]:
    """A ``ContainerCreateDefinition`` as the read item without times (``isGlobal`` false)."""
    check_fields(item, ("space", "externalId", "name", "description", "usedFor", "properties", "constraints",
                        "indexes"), ("space", "externalId", "properties"), where)  # fmt: skip
    space = check_space(item["space"], f"{where}.space")
    external_id = check_external_id(item["externalId"], f"{where}.externalId", type_id=True)
    check_text(item, "name", NAME_MAX, where)
    check_text(item, "description", DESCRIPTION_MAX, where)
    used_for = item.get("usedFor", "node")
    if used_for not in CONTAINER_USED_FOR:
        raise ApiError(400, f"Invalid value '{used_for}' for '{where}.usedFor': expected one of node, edge, all")
    raw_props = item["properties"]
    if not isinstance(raw_props, dict) or not 1 <= len(raw_props) <= MAX_PROPERTIES:
        raise ApiError(400, f"'{where}.properties' must be an object with 1 to {MAX_PROPERTIES} properties")
    properties = {
        check_property_id(pid, f"{where}.properties"): normalize_container_property(prop, f"{where}.properties.{pid}")
        for pid, prop in raw_props.items()
    }
    result: dict[str, Any] = copy_texts(item, {"space": space, "externalId": external_id})
    result.update(
        usedFor=used_for,
        properties=properties,
        constraints=_normalize_constraints(item.get("constraints"), properties, f"{where}.constraints"),
        indexes=_normalize_indexes(item.get("indexes"), properties, f"{where}.indexes"),
        isGlobal=False,
    )
    return result


def _check_object(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ApiError(400, f"Expected an object at '{where}'")
    return value


def _check_known(props: Any, properties: dict[str, Any], where: str) -> list[str]:
    if not isinstance(props, list) or not props or not all(isinstance(p, str) for p in props):
        raise ApiError(400, f"'{where}.properties' must be a non-empty list of property identifiers")
    for prop in props:
        if prop not in properties:
            raise ApiError(400, f"'{where}.properties' refers to unknown container property '{prop}'")
    return list(props)


def _normalize_constraints(raw: Any, properties: dict[str, Any], where: str) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for cid, constraint in _check_object(raw, where).items():
        at = f"{where}.{cid}"
        check_property_id(cid, where)
        kind = constraint.get("constraintType") if isinstance(constraint, dict) else None
        if kind is None:
            kind = "requires" if isinstance(constraint, dict) and "require" in constraint else "uniqueness"
        if kind == "requires":
            check_fields(constraint, ("constraintType", "require"), ("require",), at)
            require = container_ref(parse_container_ref(constraint["require"], f"{at}.require"))
            result[cid] = {"constraintType": "requires", "require": require, "state": "current"}
        elif kind == "uniqueness":
            check_fields(constraint, ("constraintType", "properties", "bySpace"), ("properties",), at)
            result[cid] = {
                "constraintType": "uniqueness",
                "properties": _check_known(constraint["properties"], properties, at),
                "bySpace": check_bool(constraint, "bySpace", False, at),
                "state": "current",
            }
        else:
            raise ApiError(400, f"Invalid value '{kind}' for '{at}.constraintType'")
    return result


def _normalize_indexes(raw: Any, properties: dict[str, Any], where: str) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for iid, index in _check_object(raw, where).items():
        at = f"{where}.{iid}"
        check_property_id(iid, where)
        kind = index.get("indexType", "btree") if isinstance(index, dict) else None
        if kind == "btree":
            check_fields(index, ("indexType", "properties", "cursorable", "bySpace"), ("properties",), at)
            result[iid] = {
                "indexType": "btree",
                "properties": _check_known(index["properties"], properties, at),
                "cursorable": check_bool(index, "cursorable", False, at),
                "bySpace": check_bool(index, "bySpace", False, at),
                "state": "current",
            }
        elif kind == "inverted":
            check_fields(index, ("indexType", "properties"), ("properties",), at)
            props = _check_known(index["properties"], properties, at)
            result[iid] = {"indexType": "inverted", "properties": props, "state": "current"}
        else:
            raise ApiError(400, f"Invalid value '{kind}' for '{at}.indexType'")
    return result


def changed_property_types(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Properties whose type kind or list-ness an update would change (CDF rejects those)."""
    changed = []
    for pid, prop in new["properties"].items():
        before = old["properties"].get(pid)
        if before is None:
            continue
        if (before["type"]["type"], before["type"].get("list")) != (prop["type"]["type"], prop["type"].get("list")):
            changed.append(pid)
    return changed
