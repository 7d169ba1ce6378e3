"""Time-series list filters: the basic ``filter`` object and the ``advancedFilter`` language, as predicates."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cdf_emulator.bodies import check_fields
from cdf_emulator.errors import ApiError
from cdf_emulator.validators import boolean, in_range, integer, string, string_map, timestamp_range

Predicate = Callable[[dict[str, Any]], bool]

_BASIC = (
    "name", "unit", "unitExternalId", "unitQuantity", "isString", "isStep", "metadata", "assetIds",
    "assetExternalIds", "rootAssetIds", "assetSubtreeIds", "dataSetIds", "externalIdPrefix", "createdTime",
    "lastUpdatedTime",
)  # fmt: skip
_NO_ASSETS = ("unitQuantity", "assetExternalIds", "rootAssetIds", "assetSubtreeIds")
_PROPERTIES = (
    "id", "externalId", "name", "description", "unit", "unitExternalId", "isString", "isStep", "type", "assetId",
    "dataSetId", "createdTime", "lastUpdatedTime", "securityCategories",
)  # fmt: skip


def basic_filter(spec: Any) -> Predicate:
    """A predicate for the ``filter`` object of ``POST /timeseries/list``."""
    check_fields(spec, _BASIC, where="filter")
    for key in _NO_ASSETS:
        if spec.get(key) is not None:
            raise ApiError(400, f"'filter.{key}' is not supported by the emulator (it has no assets or units catalog)")
    equal: dict[str, Any] = {}
    for key in ("name", "unit", "unitExternalId"):
        if spec.get(key) is not None:
            equal[key] = string(255)(spec[key], f"filter.{key}")
    for key in ("isString", "isStep"):
        if spec.get(key) is not None:
            equal[key] = boolean(spec[key], f"filter.{key}")
    metadata = string_map()(spec.get("metadata") or {}, "filter.metadata")
    assets = [integer(1)(a, "filter.assetIds[]") for a in spec.get("assetIds") or []]
    data_sets = [_data_set(d, f"filter.dataSetIds[{i}]") for i, d in enumerate(spec.get("dataSetIds") or [])]
    prefix = string(255)(spec.get("externalIdPrefix") or "", "filter.externalIdPrefix")
    created = timestamp_range(spec.get("createdTime") or {}, "filter.createdTime")
    updated = timestamp_range(spec.get("lastUpdatedTime") or {}, "filter.lastUpdatedTime")

    def keep(meta: dict[str, Any]) -> bool:
        return (
            all(meta.get(key) == value for key, value in equal.items())
            and all((meta.get("metadata") or {}).get(k) == v for k, v in metadata.items())
            and (not assets or meta.get("assetId") in assets)
            and (not data_sets or meta.get("dataSetId") in data_sets)
            and (not prefix or str(meta.get("externalId") or "").startswith(prefix))
            and in_range(meta["createdTime"], created)
            and in_range(meta["lastUpdatedTime"], updated)
        )

    return keep


def _data_set(value: Any, where: str) -> int:
    check_fields(value, ("id", "externalId"), where=where)
    if value.get("id") is None:
        raise ApiError(400, f"'{where}': the emulator has no data sets API, so only 'id' is supported")
    return int(integer(1)(value["id"], f"{where}.id"))


def advanced_filter(spec: Any, where: str = "advancedFilter") -> Predicate:
    """A predicate for the filter language: and/or/not, equals, in, range, prefix, exists, containsAny/All."""
    if not isinstance(spec, dict) or len(spec) != 1:
        raise ApiError(400, f"'{where}' must be an object with exactly one filter")
    ((name, body),) = spec.items()
    if name in ("and", "or"):
        if not isinstance(body, list) or not body:
            raise ApiError(400, f"'{where}.{name}' must be a non-empty list of filters")
        parts = [advanced_filter(part, f"{where}.{name}[{i}]") for i, part in enumerate(body)]
        combine = all if name == "and" else any
        return lambda meta: combine(part(meta) for part in parts)
    if name == "not":
        inner = advanced_filter(body, f"{where}.not")
        return lambda meta: not inner(meta)
    leaves: dict[str, Callable[[Any, dict[str, Any], str], Predicate]] = {
        "equals": _equals, "in": _in, "range": _range, "prefix": _prefix, "exists": _exists,
        "containsAny": _contains_any, "containsAll": _contains_all,
    }  # fmt: skip
    if name not in leaves:
        raise ApiError(400, f"'{where}': filter '{name}' is not supported by the emulator")
    if not isinstance(body, dict):
        raise ApiError(400, f"'{where}.{name}' must be an object")
    return leaves[name](_property(body.get("property"), f"{where}.{name}.property"), body, f"{where}.{name}")


def _property(path: Any, where: str) -> Callable[[dict[str, Any]], Any]:
    if not isinstance(path, list) or not 1 <= len(path) <= 2 or not all(isinstance(p, str) for p in path):
        raise ApiError(400, f"'{where}' must be a property path such as ['externalId'] or ['metadata', 'key']")
    if len(path) == 2:
        if path[0] != "metadata":
            raise ApiError(400, f"'{where}': unknown property {path}")
        return lambda meta: (meta.get("metadata") or {}).get(path[1])
    if path[0] not in _PROPERTIES:
        raise ApiError(400, f"'{where}': unknown property {path}")
    return lambda meta: meta.get(path[0])


def _equals(get: Callable[[dict[str, Any]], Any], body: dict[str, Any], where: str) -> Predicate:
    check_fields(body, ("property", "value"), ("property", "value"), where=where)
    return lambda meta: get(meta) == body["value"]


def _values(body: dict[str, Any], where: str) -> list[Any]:
    check_fields(body, ("property", "values"), ("property", "values"), where=where)
    if not isinstance(body["values"], list):
        raise ApiError(400, f"'{where}.values' must be a list")
    return list(body["values"])


def _in(get: Callable[[dict[str, Any]], Any], body: dict[str, Any], where: str) -> Predicate:
    values = _values(body, where)
    return lambda meta: get(meta) in values


def _range(get: Callable[[dict[str, Any]], Any], body: dict[str, Any], where: str) -> Predicate:
    check_fields(body, ("property", "gt", "gte", "lt", "lte"), ("property",), where=where)
    bounds = {key: body[key] for key in ("gt", "gte", "lt", "lte") if key in body}

    def keep(meta: dict[str, Any]) -> bool:
        value = get(meta)
        if value is None:
            return False
        try:
            return all(
                {"gt": value > b, "gte": value >= b, "lt": value < b, "lte": value <= b}[op] for op, b in bounds.items()
            )
        except TypeError:
            return False

    return keep


def _prefix(get: Callable[[dict[str, Any]], Any], body: dict[str, Any], where: str) -> Predicate:
    check_fields(body, ("property", "value"), ("property", "value"), where=where)
    return lambda meta: isinstance(get(meta), str) and get(meta).startswith(str(body["value"]))


def _exists(get: Callable[[dict[str, Any]], Any], body: dict[str, Any], where: str) -> Predicate:
    check_fields(body, ("property",), ("property",), where=where)
    return lambda meta: get(meta) is not None


def _contains_any(get: Callable[[dict[str, Any]], Any], body: dict[str, Any], where: str) -> Predicate:
    values = _values(body, where)
    return lambda meta: any(value in (get(meta) or []) for value in values)


def _contains_all(get: Callable[[dict[str, Any]], Any], body: dict[str, Any], where: str) -> Predicate:
    values = _values(body, where)
    return lambda meta: all(value in (get(meta) or []) for value in values)
