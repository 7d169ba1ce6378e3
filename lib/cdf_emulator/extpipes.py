"""The extraction-pipelines endpoints: pipelines, config revisions and runs.

Unknown pipelines are 400 with ``missing`` (the SDK's single retrieve turns that into ``None``); a taken
externalId is 409 with ``duplicated``. Create answers 200, as the OpenAPI document says.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from cdf_emulator.bodies import check_fields, check_items, check_limit
from cdf_emulator.errors import ApiError
from cdf_emulator.extpipes_store import ExtpipeStore
from cdf_emulator.opaque_cursor import decode_cursor, encode_cursor
from cdf_emulator.patches import PatchField, apply_patch
from cdf_emulator.routing import Request, Router
from cdf_emulator.validators import boolean, in_range, integer, list_of, string, string_map, timestamp_range

if TYPE_CHECKING:
    from cdf_emulator.state import ProjectState

__all__ = ["ExtpipeStore", "register"]

MAX_ITEMS = 1000
RUN_STATUSES = ("success", "failure", "seen")
# The document's own pattern, applied with JSON-Schema (search) semantics so every stored schedule validates.
_SCHEDULE = re.compile(
    r"^(On trigger|Continuous)|(@(annually|yearly|monthly|weekly|daily|hourly|reboot))"
    r"|(@every (\d+(ns|us|µs|ms|s|m|h))+)|((((\d+,)+\d+|(\d+([/\-])\d+)|\d+|\*(/\d+)?) ?){5,7})$"
)


def _schedule(value: Any, where: str) -> str:
    text = string(255)(value, where)
    if not _SCHEDULE.search(text):
        raise ApiError(400, f"'{where}' must be 'On trigger', 'Continuous' or a cron expression, got {text!r}")
    return text


def _object(fields: dict[str, Any], required: tuple[str, ...] = ()) -> Any:
    def check(value: Any, where: str) -> dict[str, Any]:
        check_fields(value, fields, required, where=where)
        return {key: fields[key](item, f"{where}.{key}") for key, item in value.items() if item is not None}

    return check


def _email(value: Any, where: str) -> str:
    text = string(254, 1)(value, where)
    if not re.fullmatch(r"[^@\s]+@[^@\s]+", text):
        raise ApiError(400, f"'{where}' is not a valid email address")
    return text


_RAW_TABLE = _object({"dbName": string(32, 1), "tableName": string(64, 1)}, ("dbName", "tableName"))
_CONTACT = _object({"name": string(255), "email": _email, "role": string(255), "sendNotification": boolean})
_NOTIFICATION = _object({"allowedNotSeenRangeInMinutes": integer(0)})
FIELDS: dict[str, Any] = {
    "externalId": string(255, 1),
    "name": string(140, 1),
    "description": string(500),
    "dataSetId": integer(0),
    "rawTables": list_of(_RAW_TABLE),
    "schedule": _schedule,
    "contacts": list_of(_CONTACT),
    "metadata": string_map(),
    "source": string(255),
    "documentation": string(10000),
    "notificationConfig": _NOTIFICATION,
    "createdBy": string(255),
}
REQUIRED = ("externalId", "name", "dataSetId")
_PATCHES = {
    name: PatchField(
        {"metadata": "map", "rawTables": "list", "contacts": "list"}.get(name, "primitive"),
        check,
        nullable=name not in REQUIRED,
    )
    for name, check in FIELDS.items()
    if name != "createdBy"
}


def register(router: Router, state: ProjectState) -> None:
    """Add every extraction-pipeline endpoint to ``router``."""
    store = state.extpipes

    def create(request: Request) -> dict[str, Any]:
        body = check_fields(request.body(), ("items",), ("items",))
        items = [_object(FIELDS, REQUIRED)(item, f"items[{i}]") for i, item in enumerate(check_items(body, MAX_ITEMS))]
        return {"items": store.create(items)}

    def list_get(request: Request) -> dict[str, Any]:
        limit = request.int_arg("limit", 100, 1, MAX_ITEMS)
        return _page_by_id(store.all(), limit, request.arg("cursor"))

    def list_post(request: Request) -> dict[str, Any]:
        body = check_fields(request.body(), ("filter", "limit", "cursor"))
        limit = check_limit(body.get("limit"), 100, MAX_ITEMS)
        keep = _pipeline_filter(body.get("filter") or {})
        return _page_by_id([p for p in store.all() if keep(p)], limit, body.get("cursor"))

    def by_ids(request: Request) -> dict[str, Any]:
        identifiers, ignore = _identifiers(request)
        return {"items": store.retrieve(identifiers, ignore)}

    def by_id(request: Request) -> dict[str, Any]:
        try:
            identifier = int(request.params["id"])
        except ValueError:
            raise ApiError(400, f"Invalid id: {request.params['id']}") from None
        return store.current({"id": identifier})

    def delete(request: Request) -> dict[str, Any]:
        identifiers, ignore = _identifiers(request)
        store.delete(identifiers, ignore)
        return {}

    def update(request: Request) -> dict[str, Any]:
        body = check_fields(request.body(), ("items",), ("items",))
        updated = []
        for index, item in enumerate(check_items(body, MAX_ITEMS)):
            check_fields(item, ("id", "externalId", "update"), ("update",), where=f"items[{index}]")
            identifier = _identifier(item, f"items[{index}]")
            patched = apply_patch(store.current(identifier), item["update"], _PATCHES)
            updated.append(store.replace(identifier, patched))
        return {"items": updated}

    router.add("POST", "/extpipes", create)
    router.add("GET", "/extpipes", list_get)
    router.add("POST", "/extpipes/list", list_post)
    router.add("POST", "/extpipes/byids", by_ids)
    router.add("POST", "/extpipes/delete", delete)
    router.add("POST", "/extpipes/update", update)
    _register_configs(router, store)
    _register_runs(router, store)
    router.add("GET", "/extpipes/{id}", by_id)


def _register_configs(router: Router, store: ExtpipeStore) -> None:
    def create(request: Request) -> dict[str, Any]:
        body = check_fields(request.body(), ("externalId", "config", "description"), ("externalId",))
        external_id = string(255, 1)(body["externalId"], "externalId")
        config = None if body.get("config") is None else string(2**22)(body["config"], "config")
        description = None if body.get("description") is None else string(500)(body["description"], "description")
        return store.add_config(external_id, config, description)

    def retrieve(request: Request) -> dict[str, Any]:
        external_id = _required_arg(request, "externalId")
        revision = request.int_arg("revision", 0, 0, 2**31 - 1)
        active_at = request.int_arg("activeAtTime", 0, 0, 2**63 - 1)
        return store.config(external_id, revision or None, active_at or None)

    def revisions(request: Request) -> dict[str, Any]:
        external_id = _required_arg(request, "externalId")
        limit = request.int_arg("limit", 100, 1, MAX_ITEMS)
        items = store.config_revisions(external_id)
        cursor = request.arg("cursor")
        if cursor:
            below = decode_cursor("extpipe-config", cursor).get("below")
            items = [item for item in items if isinstance(below, int) and item["revision"] < below]
        page = items[:limit]
        if len(items) > limit:
            return {"items": page, "nextCursor": encode_cursor("extpipe-config", {"below": page[-1]["revision"]})}
        return {"items": page}

    def revert(request: Request) -> dict[str, Any]:
        body = check_fields(request.body(), ("externalId", "revision"), ("externalId", "revision"))
        external_id = string(255, 1)(body["externalId"], "externalId")
        return store.revert_config(external_id, integer(1, 2**31 - 1)(body["revision"], "revision"))

    router.add("POST", "/extpipes/config", create)
    router.add("GET", "/extpipes/config", retrieve)
    router.add("GET", "/extpipes/config/revisions", revisions)
    router.add("POST", "/extpipes/config/revert", revert)


def _register_runs(router: Router, store: ExtpipeStore) -> None:
    run_fields = {
        "externalId": string(255, 1),
        "status": _status,
        "message": string(1000),
        "createdTime": integer(0, 2**63 - 1),
    }

    def create(request: Request) -> dict[str, Any]:
        body = check_fields(request.body(), ("items",), ("items",))
        check_run = _object(run_fields, ("externalId", "status"))
        runs = [check_run(item, f"items[{index}]") for index, item in enumerate(check_items(body, MAX_ITEMS))]
        return {"items": store.add_runs(runs)}

    def list_get(request: Request) -> dict[str, Any]:
        external_id = _required_arg(request, "externalId")
        limit = request.int_arg("limit", 100, 1, MAX_ITEMS)
        return _page_runs(store.runs(external_id), limit, request.arg("cursor"))

    def list_post(request: Request) -> dict[str, Any]:
        body = check_fields(request.body(), ("filter", "limit", "cursor"), ("filter",))
        limit = check_limit(body.get("limit"), 100, MAX_ITEMS)
        spec = check_fields(body["filter"], ("externalId", "statuses", "createdTime", "message"), ("externalId",))
        statuses = list_of(_status)(spec.get("statuses") or list(RUN_STATUSES), "filter.statuses")
        created = timestamp_range(spec.get("createdTime") or {}, "filter.createdTime")
        message = check_fields(spec.get("message") or {}, ("substring",), where="filter.message").get("substring")
        runs = [
            run
            for run in store.runs(string(255, 1)(spec["externalId"], "filter.externalId"))
            if run["status"] in statuses
            and in_range(run["createdTime"], created)
            and (message is None or message.lower() in run.get("message", "").lower())
        ]
        return _page_runs(runs, limit, body.get("cursor"))

    router.add("POST", "/extpipes/runs", create)
    router.add("GET", "/extpipes/runs", list_get)
    router.add("POST", "/extpipes/runs/list", list_post)


def _status(value: Any, where: str) -> str:
    if value not in RUN_STATUSES:
        raise ApiError(400, f"'{where}' must be one of {', '.join(RUN_STATUSES)}, got {value!r}")
    return str(value)


def _required_arg(request: Request, name: str) -> str:
    value = request.arg(name)
    if not value:
        raise ApiError(400, f"Missing required query parameter '{name}'")
    return value


def _identifier(item: dict[str, Any], where: str) -> dict[str, Any]:
    if ("id" in item) == ("externalId" in item):
        raise ApiError(400, f"'{where}' must have exactly one of 'id' and 'externalId'")
    if "id" in item:
        return {"id": integer(0)(item["id"], f"{where}.id")}
    return {"externalId": string(255, 1)(item["externalId"], f"{where}.externalId")}


def _identifiers(request: Request) -> tuple[list[dict[str, Any]], bool]:
    body = check_fields(request.body(), ("items", "ignoreUnknownIds"), ("items",))
    ignore = boolean(body.get("ignoreUnknownIds", False), "ignoreUnknownIds")
    items = check_items(body, MAX_ITEMS)
    identifiers = []
    for index, item in enumerate(items):
        check_fields(item, ("id", "externalId"), where=f"items[{index}]")
        identifiers.append(_identifier(item, f"items[{index}]"))
    return identifiers, ignore


def _page_by_id(items: list[dict[str, Any]], limit: int, cursor: Any) -> dict[str, Any]:
    if cursor:
        after = decode_cursor("extpipes", str(cursor)).get("after")
        items = [item for item in items if isinstance(after, int) and item["id"] > after]
    page = items[:limit]
    if len(items) > limit:
        return {"items": page, "nextCursor": encode_cursor("extpipes", {"after": page[-1]["id"]})}
    return {"items": page}


def _page_runs(runs: list[dict[str, Any]], limit: int, cursor: Any) -> dict[str, Any]:
    """Runs are newest first; the cursor is the (createdTime, id) of the last run returned."""
    if cursor:
        state = decode_cursor("extpipe-runs", str(cursor))
        position = (-int(state.get("t", 0)), -int(state.get("i", 0)))
        runs = [run for run in runs if (-run["createdTime"], -run["id"]) > position]
    page = runs[:limit]
    if len(runs) > limit:
        last = page[-1]
        return {"items": page, "nextCursor": encode_cursor("extpipe-runs", {"t": last["createdTime"], "i": last["id"]})}
    return {"items": page}


def _pipeline_filter(spec: Any) -> Any:
    allowed = (
        "externalIdPrefix", "name", "dataSetIds", "schedule", "contacts", "rawTables", "metadata", "source",
        "documentation", "createdBy", "createdTime", "lastUpdatedTime",
    )  # fmt: skip
    check_fields(spec, allowed, where="filter")
    data_sets = [_data_set_id(d, f"filter.dataSetIds[{i}]") for i, d in enumerate(spec.get("dataSetIds") or [])]
    created = timestamp_range(spec.get("createdTime") or {}, "filter.createdTime")
    updated = timestamp_range(spec.get("lastUpdatedTime") or {}, "filter.lastUpdatedTime")
    equal = {key: spec[key] for key in ("name", "schedule", "source", "documentation", "createdBy") if key in spec}
    prefix = spec.get("externalIdPrefix", "")

    def keep(pipeline: dict[str, Any]) -> bool:
        return (
            pipeline["externalId"].startswith(prefix)
            and all(pipeline.get(key) == value for key, value in equal.items())
            and (not data_sets or pipeline["dataSetId"] in data_sets)
            and all(pipeline.get("metadata", {}).get(k) == v for k, v in (spec.get("metadata") or {}).items())
            and all(t in pipeline.get("rawTables", []) for t in spec.get("rawTables") or [])
            and all(c in pipeline.get("contacts", []) for c in spec.get("contacts") or [])
            and in_range(pipeline["createdTime"], created)
            and in_range(pipeline["lastUpdatedTime"], updated)
        )

    return keep


def _data_set_id(value: Any, where: str) -> int:
    check_fields(value, ("id", "externalId"), where=where)
    if "id" not in value:
        raise ApiError(400, f"'{where}': the emulator has no data sets API, so only 'id' is supported")
    return int(integer(1)(value["id"], f"{where}.id"))
