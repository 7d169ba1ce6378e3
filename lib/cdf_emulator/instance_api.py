"""Endpoints over the instance store: apply, delete, list, byids (and query, in its own module)."""

from __future__ import annotations

from typing import Any

from cdf_emulator import query
from cdf_emulator.bodies import check_fields, check_items, check_limit
from cdf_emulator.cursors import decode_cursor, encode_cursor
from cdf_emulator.errors import ApiError
from cdf_emulator.filters import FilterContext, Predicate, optional_filter, view_data_predicate
from cdf_emulator.records import Record, ViewSelection, instance_dict
from cdf_emulator.routing import Request, Router
from cdf_emulator.schema_access import compile_selection, require_view, typing_for
from cdf_emulator.selection import sort_records
from cdf_emulator.values import is_valid_external_id, is_valid_space

_APPLY_FLAGS = {
    "autoCreateDirectRelations": ("auto_create_direct_relations", True),
    "autoCreateStartNodes": ("auto_create_start_nodes", False),
    "autoCreateEndNodes": ("auto_create_end_nodes", False),
    "skipOnVersionConflict": ("skip_on_version_conflict", False),
    "replace": ("replace", False),
}
_LIST_FIELDS = ("includeTyping", "sources", "instanceType", "debug", "cursor", "limit", "sort", "filter")


def register(router: Router, state: Any) -> None:
    router.add("POST", "/models/instances", lambda request: apply_instances(request, state))
    router.add("POST", "/models/instances/delete", lambda request: delete_instances(request, state))
    router.add("POST", "/models/instances/list", lambda request: list_instances(request, state))
    router.add("POST", "/models/instances/byids", lambda request: instances_by_ids(request, state))
    router.add("POST", "/models/instances/query", lambda request: query.handle_query(request, state))


def _flag(body: dict[str, Any], name: str, default: bool) -> bool:
    value = body.get(name, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ApiError(400, f"'{name}' must be a boolean")
    return value


def apply_instances(request: Request, state: Any) -> dict[str, Any]:
    """Create or update up to 1000 instances, optionally deleting others in the same call."""
    body = check_fields(request.body(), ("items", "delete", *_APPLY_FLAGS), ("items",))
    items = check_items(body, 1000, minimum=0)
    deletes = body.get("delete") or []
    if not isinstance(deletes, list) or len(deletes) > 1000:
        raise ApiError(400, "'delete' must be a list of at most 1000 instance references")
    options = {option: _flag(body, name, default) for name, (option, default) in _APPLY_FLAGS.items()}
    results = state.instances.apply(items, **options)
    deleted = state.instances.delete(deletes) if deletes else []
    return {"items": results, "deleted": deleted}


def delete_instances(request: Request, state: Any) -> dict[str, Any]:
    body = check_fields(request.body(), ("items",), ("items",))
    return {"items": state.instances.delete(check_items(body, 1000))}


def _sources(state: Any, body: dict[str, Any], ctx: FilterContext) -> tuple[tuple[ViewSelection, ...], list[Predicate]]:
    """The selected views and, per the spec, the requirement to have data in every one of them."""
    sources = body.get("sources")
    views = compile_selection(state.schema, sources, "sources", with_properties=False)
    required = [
        view_data_predicate(ctx, require_view(state.schema, selector["source"], f"sources[{index}]"), "sources")
        for index, selector in enumerate(sources or [])
    ]
    return views, required


def list_instances(request: Request, state: Any) -> dict[str, Any]:
    """Filter live instances of one type; pages with an opaque cursor, ``nextCursor`` left out at the end."""
    body = check_fields(request.body(), _LIST_FIELDS)
    kind = body.get("instanceType") or "node"
    if kind not in ("node", "edge"):
        raise ApiError(400, "'instanceType' must be node or edge")
    limit = check_limit(body.get("limit"), 1000, 1000)
    store = state.instances
    ctx = FilterContext(state.schema, lookup=store.get)
    matches = optional_filter(body.get("filter"), ctx, "filter")
    views, required = _sources(state, body, ctx)
    sort = body.get("sort") or []
    if not isinstance(sort, list) or len(sort) > 5:
        raise ApiError(400, "'sort' must be a list of at most 5 sort specifications")
    position = _list_position(body.get("cursor"), store.epoch)
    records = [
        record
        for record in store.live_records(kind)
        if (matches is None or matches(record)) and all(check(record) for check in required)
    ]
    ordered = sort_records(records, sort, ctx, "sort")
    page = ordered[position : position + limit]
    shape = store.shapes.intern(views)
    answer: dict[str, Any] = {"items": [instance_dict(record, shape) for record in page]}
    if position + limit < len(ordered):
        answer["nextCursor"] = encode_cursor({"k": "list", "e": store.epoch, "o": position + limit})
    if body.get("includeTyping"):
        answer["typing"] = typing_for(state.schema, views)
    return answer


def _list_position(cursor: Any, epoch: str) -> int:
    if cursor is None:
        return 0
    offset = decode_cursor(cursor, epoch, "list").get("o")
    if not isinstance(offset, int) or offset < 0:
        raise ApiError(400, "Invalid cursor provided.")
    return offset


def instances_by_ids(request: Request, state: Any) -> dict[str, Any]:
    """Live instances by (instanceType, space, externalId); unknown or deleted ones are left out."""
    body = check_fields(request.body(), ("items", "sources", "includeTyping"), ("items",))
    store = state.instances
    ctx = FilterContext(state.schema, lookup=store.get)
    views, required = _sources(state, body, ctx)
    found: list[Record] = []
    for index, ref in enumerate(check_items(body, 1000)):
        where = f"items[{index}]"
        check_fields(ref, ("instanceType", "space", "externalId"), ("space", "externalId"), where)
        kind = ref.get("instanceType") or "node"
        if kind not in ("node", "edge"):
            raise ApiError(400, f"Invalid instanceType at '{where}.instanceType'")
        if not is_valid_space(ref["space"]) or not is_valid_external_id(ref["externalId"]):
            raise ApiError(400, f"Invalid space or externalId at '{where}'")
        record = store.get((ref["space"], ref["externalId"]))
        if record is not None and record.kind == kind and all(check(record) for check in required):
            found.append(record)
    shape = store.shapes.intern(views)
    answer: dict[str, Any] = {"items": [instance_dict(record, shape) for record in found]}
    if body.get("includeTyping"):
        answer["typing"] = typing_for(state.schema, views)
    return answer
