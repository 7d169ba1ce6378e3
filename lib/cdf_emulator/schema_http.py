"""HTTP handlers of the schema endpoints under ``/models`` (spaces, containers, views, data models)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cdf_emulator.bodies import check_fields, check_items
from cdf_emulator.errors import ApiError
from cdf_emulator.routing import Request, Router
from cdf_emulator.schema_common import (
    MAX_ITEMS,
    check_external_id,
    check_space,
    check_version,
    paginate,
)

LIST_LIMIT_DEFAULT = 10
LIST_LIMIT_MAX = 1000


def _items(request: Request) -> list[Any]:
    body = request.body()
    check_fields(body, ("items",), ("items",))
    return check_items(body, MAX_ITEMS)


def _page(request: Request, items: list[dict[str, Any]], sort_key: Callable[[dict[str, Any]], list[Any]]) -> Any:
    limit = request.int_arg("limit", LIST_LIMIT_DEFAULT, 1, LIST_LIMIT_MAX)
    page, cursor = paginate(items, sort_key, limit, request.arg("cursor") or None)
    return {"items": page, "nextCursor": cursor} if cursor else {"items": page}


def _space_arg(request: Request) -> str | None:
    space = request.arg("space")
    return None if space is None else check_space(space, "space")


def _space_ids(items: list[Any]) -> list[str]:
    result = []
    for i, item in enumerate(items):
        check_fields(item, ("space",), ("space",), f"items[{i}]")
        result.append(check_space(item["space"], f"items[{i}].space"))
    return result


def _xid_ids(items: list[Any]) -> list[tuple[str, str]]:
    result = []
    for i, item in enumerate(items):
        where = f"items[{i}]"
        check_fields(item, ("space", "externalId"), ("space", "externalId"), where)
        result.append((check_space(item["space"], f"{where}.space"), check_external_id(item["externalId"], where)))
    return result


def _versioned_ids(items: list[Any], version_required: bool) -> list[tuple[str, str, str | None]]:
    result = []
    for i, item in enumerate(items):
        where = f"items[{i}]"
        required = ("space", "externalId", "version") if version_required else ("space", "externalId")
        check_fields(item, ("space", "externalId", "version"), required, where)
        version = item.get("version")
        result.append(
            (
                check_space(item["space"], f"{where}.space"),
                check_external_id(item["externalId"], f"{where}.externalId"),
                None if version is None else check_version(version, f"{where}.version"),
            )
        )
    return result


def _xid_out(keys: list[tuple[str, str]]) -> dict[str, Any]:
    return {"items": [{"space": k[0], "externalId": k[1]} for k in keys]}


def _versioned_out(keys: list[tuple[str, str, str]]) -> dict[str, Any]:
    return {"items": [{"space": k[0], "externalId": k[1], "version": k[2]} for k in keys]}


def _strict_keys(refs: list[tuple[str, str, str | None]]) -> list[tuple[str, str, str]]:
    return [(space, xid, version) for space, xid, version in refs if version is not None]


def _versioned_sort(item: dict[str, Any]) -> list[Any]:
    return [item["space"], item["externalId"], item["createdTime"], item["version"]]


def _instances_in_space(state: Any) -> Callable[[str], str | None]:
    """A space guard: a space that still holds live nodes or edges cannot be deleted."""

    def guard(space: str) -> str | None:
        live_records = getattr(state.instances, "live_records", None)
        if live_records is None:
            return None
        count = sum(1 for record in live_records() if record.key[0] == space)
        return f"{count} instances" if count else None

    return guard


def register(router: Router, state: Any) -> None:
    """Register every schema endpoint on ``router``; handlers read ``state.schema``."""
    state.schema.add_space_guard(_instances_in_space(state))

    def store() -> Any:
        return state.schema

    def apply_spaces(request: Request) -> Any:
        return {"items": store().apply_spaces(_items(request))}

    def list_spaces(request: Request) -> Any:
        spaces = store().list_spaces(include_global=request.bool_arg("includeGlobal"))
        return _page(request, spaces, lambda s: [s["space"]])

    def spaces_by_ids(request: Request) -> Any:
        return {"items": store().retrieve_spaces(_space_ids(_items(request)))}

    def delete_spaces(request: Request) -> Any:
        return {"items": [{"space": s} for s in store().delete_spaces(_space_ids(_items(request)))]}

    def apply_containers(request: Request) -> Any:
        return {"items": store().apply_containers(_items(request))}

    def list_containers(request: Request) -> Any:
        used_for = request.query.get("usedFor", [])
        for value in used_for:
            if value not in ("node", "edge", "all", "record"):
                raise ApiError(400, f"Invalid value '{value}' for query parameter 'usedFor'")
        containers = store().list_containers(
            _space_arg(request), include_global=request.bool_arg("includeGlobal"), used_for=used_for
        )
        return _page(request, containers, lambda c: [c["space"], c["externalId"]])

    def containers_by_ids(request: Request) -> Any:
        return {"items": store().retrieve_containers(_xid_ids(_items(request)))}

    def delete_containers(request: Request) -> Any:
        return _xid_out(store().delete_containers(_xid_ids(_items(request))))

    def apply_views(request: Request) -> Any:
        return {"items": store().apply_views(_items(request))}

    def list_views(request: Request) -> Any:
        views = store().list_views(
            _space_arg(request),
            all_versions=request.bool_arg("allVersions"),
            include_inherited=request.bool_arg("includeInheritedProperties", True),
            include_global=request.bool_arg("includeGlobal"),
        )
        return _page(request, views, _versioned_sort)

    def views_by_ids(request: Request) -> Any:
        refs = _versioned_ids(_items(request), version_required=False)
        inherited = request.bool_arg("includeInheritedProperties", True)
        return {"items": store().retrieve_views(refs, include_inherited=inherited)}

    def delete_views(request: Request) -> Any:
        return _versioned_out(store().delete_views(_strict_keys(_versioned_ids(_items(request), True))))

    def apply_models(request: Request) -> Any:
        return {"items": store().apply_data_models(_items(request))}

    def list_models(request: Request) -> Any:
        models = store().list_data_models(
            _space_arg(request),
            all_versions=request.bool_arg("allVersions"),
            inline_views=request.bool_arg("inlineViews"),
            include_global=request.bool_arg("includeGlobal"),
        )
        return _page(request, models, _versioned_sort)

    def models_by_ids(request: Request) -> Any:
        refs = _versioned_ids(_items(request), version_required=False)
        return {"items": store().retrieve_data_models(refs, inline_views=request.bool_arg("inlineViews"))}

    def delete_models(request: Request) -> Any:
        return _versioned_out(store().delete_data_models(_strict_keys(_versioned_ids(_items(request), True))))

    routes: list[tuple[str, str, Callable[[Request], Any]]] = [
        ("POST", "/models/spaces", apply_spaces),
        ("GET", "/models/spaces", list_spaces),
        ("POST", "/models/spaces/byids", spaces_by_ids),
        ("POST", "/models/spaces/delete", delete_spaces),
        ("POST", "/models/containers", apply_containers),
        ("GET", "/models/containers", list_containers),
        ("POST", "/models/containers/byids", containers_by_ids),
        ("POST", "/models/containers/delete", delete_containers),
        ("POST", "/models/views", apply_views),
        ("GET", "/models/views", list_views),
        ("POST", "/models/views/byids", views_by_ids),
        ("POST", "/models/views/delete", delete_views),
        ("POST", "/models/datamodels", apply_models),
        ("GET", "/models/datamodels", list_models),
        ("POST", "/models/datamodels/byids", models_by_ids),
        ("POST", "/models/datamodels/delete", delete_models),
    ]
    for method, path, handler in routes:
        router.add(method, path, handler)
