"""The time-series endpoints: create, list, byids, update and delete; datapoints live in ``timeseries_data``.

Errors follow the OpenAPI document: unknown ids are 400 with ``missing``, a taken externalId 409 and a repeated
identifier in one request 422, both with ``duplicated``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from cdf_emulator import timeseries_data
from cdf_emulator.bodies import check_fields, check_items, check_limit
from cdf_emulator.errors import ApiError
from cdf_emulator.opaque_cursor import decode_cursor, encode_cursor
from cdf_emulator.patches import PatchField, apply_patch
from cdf_emulator.routing import Request, Response, Router
from cdf_emulator.timeseries_store import TimeSeriesStore
from cdf_emulator.ts_filters import Predicate, advanced_filter, basic_filter
from cdf_emulator.ts_ids import ID_KEYS, parse_identifier, reject_repeats
from cdf_emulator.validators import boolean, integer, list_of, string, string_map

if TYPE_CHECKING:
    from cdf_emulator.state import ProjectState

__all__ = ["TimeSeriesStore", "register"]

MAX_ITEMS = 1000
FIELDS: dict[str, Any] = {
    "externalId": string(255, 1),
    "name": string(255),
    "legacyName": string(255),
    "isString": boolean,
    "metadata": string_map(),
    "unit": string(32),
    "unitExternalId": string(64),
    "assetId": integer(1),
    "isStep": boolean,
    "description": string(1000),
    "securityCategories": list_of(integer(0, 2**63 - 1)),
    "dataSetId": integer(1),
}
_PATCHES = {
    name: PatchField(
        {"metadata": "map", "securityCategories": "list"}.get(name, "primitive"), check, nullable=name != "isStep"
    )
    for name, check in FIELDS.items()
    if name not in ("isString", "legacyName")
}


def register(router: Router, state: ProjectState) -> None:
    """Add every time-series endpoint (metadata and datapoints) to ``router``."""
    store = state.timeseries

    def create(request: Request) -> Response:
        body = check_fields(request.body(), ("items",), ("items",))
        items = [_new_series(item, f"items[{i}]") for i, item in enumerate(check_items(body, MAX_ITEMS))]
        return Response(status=201, body={"items": store.create(items)})

    def list_get(request: Request) -> dict[str, Any]:
        limit = request.int_arg("limit", 100, 1, MAX_ITEMS)
        keep = _query_filter(request)
        items = [meta for meta in store.all() if keep(meta)]
        page = _page(items, limit, request.arg("cursor"), request.arg("partition"))
        if not request.bool_arg("includeMetadata", True):
            for item in page["items"]:
                item.pop("metadata", None)
        return page

    def list_post(request: Request) -> dict[str, Any]:
        allowed = ("filter", "advancedFilter", "limit", "cursor", "partition", "sort")
        body = check_fields(request.body(), allowed)
        if body.get("sort"):
            raise ApiError(400, "'sort' is not supported by the emulator; items come in id order")
        limit = check_limit(body.get("limit"), 100, MAX_ITEMS)
        keep = basic_filter(body.get("filter") or {})
        extra: Predicate = advanced_filter(body["advancedFilter"]) if body.get("advancedFilter") else _always
        items = [meta for meta in store.all() if keep(meta) and extra(meta)]
        return _page(items, limit, body.get("cursor"), body.get("partition"))

    def by_ids(request: Request) -> dict[str, Any]:
        identifiers, ignore = _identifiers(request, allow_instance=True)
        return {"items": [dict(s.meta) for s in store.resolve(identifiers, ignore) if s is not None]}

    def delete(request: Request) -> dict[str, Any]:
        identifiers, ignore = _identifiers(request, allow_instance=False)
        store.delete(identifiers, ignore)
        return {}

    def update(request: Request) -> dict[str, Any]:
        body = check_fields(request.body(), ("items",), ("items",))
        items = check_items(body, MAX_ITEMS)
        identifiers = []
        for index, item in enumerate(items):
            check_fields(item, (*ID_KEYS, "update"), ("update",), where=f"items[{index}]")
            identifiers.append(parse_identifier(item, f"items[{index}]"))
        reject_repeats(identifiers)
        with store.lock:
            found = store.resolve(identifiers)
            patched = [
                apply_patch(s.meta, item["update"], _PATCHES) if s else {} for s, item in zip(found, items, strict=True)
            ]
            return {"items": [store.replace(s, meta) for s, meta in zip(found, patched, strict=True) if s is not None]}

    router.add("POST", "/timeseries", create)
    router.add("GET", "/timeseries", list_get)
    router.add("POST", "/timeseries/list", list_post)
    router.add("POST", "/timeseries/byids", by_ids)
    router.add("POST", "/timeseries/delete", delete)
    router.add("POST", "/timeseries/update", update)
    timeseries_data.register(router, state)


def _always(meta: dict[str, Any]) -> bool:
    return True


def _new_series(item: Any, where: str) -> dict[str, Any]:
    check_fields(item, FIELDS, where=where)
    checked = {key: FIELDS[key](value, f"{where}.{key}") for key, value in item.items() if value is not None}
    checked.pop("legacyName", None)
    return checked


def _identifiers(request: Request, allow_instance: bool) -> tuple[list[dict[str, Any]], bool]:
    body = check_fields(request.body(), ("items", "ignoreUnknownIds"), ("items",))
    ignore = boolean(body.get("ignoreUnknownIds", False), "ignoreUnknownIds")
    keys = ID_KEYS if allow_instance else ID_KEYS[:2]
    identifiers = []
    for index, item in enumerate(check_items(body, MAX_ITEMS)):
        check_fields(item, keys, where=f"items[{index}]")
        identifiers.append(parse_identifier(item, f"items[{index}]", allow_instance))
    reject_repeats(identifiers)
    return identifiers, ignore


def _query_filter(request: Request) -> Predicate:
    """The query-string filters of ``GET /timeseries``."""
    prefix = request.arg("externalIdPrefix") or ""
    assets = _json_ids(request.arg("assetIds"), "assetIds")
    if request.arg("rootAssetIds"):
        raise ApiError(400, "'rootAssetIds' is not supported by the emulator (it has no assets)")

    def keep(meta: dict[str, Any]) -> bool:
        return str(meta.get("externalId") or "").startswith(prefix) and (not assets or meta.get("assetId") in assets)

    return keep


def _json_ids(text: str | None, name: str) -> list[int]:
    if not text:
        return []
    try:
        values = json.loads(text)
    except ValueError:
        raise ApiError(400, f"'{name}' must be a JSON array of ids, got {text[:64]!r}") from None
    return list_of(integer(1))(values, name)


def _page(items: list[dict[str, Any]], limit: int, cursor: Any, partition: Any) -> dict[str, Any]:
    """Items in id order, optionally one ``m/n`` partition (by id), after the cursor's last id."""
    if partition:
        index, count = _partition(partition)
        items = [item for item in items if item["id"] % count == index - 1]
    if cursor:
        after = decode_cursor("timeseries", str(cursor)).get("after")
        if isinstance(after, bool) or not isinstance(after, int):
            raise ApiError(400, f"Invalid cursor: {str(cursor)[:64]}")
        items = [item for item in items if item["id"] > after]
    page = items[:limit]
    if len(items) > limit:
        return {"items": page, "nextCursor": encode_cursor("timeseries", {"after": page[-1]["id"]})}
    return {"items": page}


def _partition(text: Any) -> tuple[int, int]:
    try:
        index, count = (int(part) for part in str(text).split("/"))
    except ValueError:
        raise ApiError(400, f"Invalid partition {text!r}; expected 'm/n', for example '1/10'") from None
    if not 1 <= index <= count <= 10:
        raise ApiError(400, f"Invalid partition {text!r}; expected 1 <= m <= n <= 10")
    return index, count
