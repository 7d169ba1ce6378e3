"""The RAW endpoints: databases, tables, rows (with the ``/cursors`` partitioning the SDK uses) and row lookups.

"Already exists" is answered 400 (extractor-utils' RawStateStore ignores exactly that code); a missing database
or table is 404 with ``missing``, which the SDK maps to ``CogniteNotFoundError`` (and to ``None`` for a row).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cdf_emulator.bodies import check_fields, check_items
from cdf_emulator.errors import ApiError
from cdf_emulator.raw_store import RawStore, RowWindow
from cdf_emulator.routing import Request, Response, Router
from cdf_emulator.validators import string

if TYPE_CHECKING:
    from cdf_emulator.state import ProjectState

__all__ = ["RawStore", "register"]

MAX_NAMES = 1000
MAX_ROWS_PER_REQUEST = 10000
MAX_ROWS_PAGE = 10000
MAX_KEY_LENGTH = 1024
DB_NAME = string(32, 1)
TABLE_NAME = string(64, 1)
ROW_KEY = string(MAX_KEY_LENGTH, 1)
_EPOCH_MAX = 2**63 - 1

_ROWS = "/raw/dbs/{db}/tables/{table}/rows"


def register(router: Router, state: ProjectState) -> None:
    """Add every RAW endpoint to ``router``."""
    store = state.raw

    def list_dbs(request: Request) -> dict[str, Any]:
        limit = request.int_arg("limit", 25, 1, MAX_NAMES)
        items, cursor = store.list_databases(limit, request.arg("cursor") or None)
        return _page(items, cursor)

    def create_dbs(request: Request) -> Response:
        names = _names(request, DB_NAME)
        return Response(status=201, body={"items": store.create_databases(names)})

    def delete_dbs(request: Request) -> dict[str, Any]:
        body = check_fields(request.body(), ("items", "recursive"))
        recursive = body.get("recursive", False)
        if not isinstance(recursive, bool):
            raise ApiError(400, "Invalid type for field 'recursive': expected a boolean")
        store.delete_databases(_names(request, DB_NAME, ("items", "recursive")), recursive)
        return {}

    def list_tables(request: Request) -> dict[str, Any]:
        limit = request.int_arg("limit", 25, 1, MAX_NAMES)
        items, cursor = store.list_tables(request.params["db"], limit, request.arg("cursor") or None)
        return _page(items, cursor)

    def create_tables(request: Request) -> Response:
        names = _names(request, TABLE_NAME)
        created = store.create_tables(request.params["db"], names, request.bool_arg("ensureParent"))
        return Response(status=201, body={"items": created})

    def delete_tables(request: Request) -> dict[str, Any]:
        store.delete_tables(request.params["db"], _names(request, TABLE_NAME))
        return {}

    def cursors(request: Request) -> dict[str, Any]:
        count = request.int_arg("numberOfCursors", 10, 1, 10000)
        window = _time_window(request)
        return {"items": store.partition_cursors(request.params["db"], request.params["table"], count, window)}

    def list_rows(request: Request) -> dict[str, Any]:
        limit = request.int_arg("limit", 25, 1, MAX_ROWS_PAGE)
        cursor = request.arg("cursor")
        # As CDF documents: with a cursor, the time filters come from the cursor, not the query.
        window = RowWindow.from_cursor(cursor) if cursor else _time_window(request)
        columns = _columns(request.arg("columns"))
        items, next_cursor = store.list_rows(request.params["db"], request.params["table"], window, limit, columns)
        return _page(items, next_cursor)

    def insert_rows(request: Request) -> dict[str, Any]:
        body = check_fields(request.body(), ("items",), ("items",))
        rows = [_row(item, index) for index, item in enumerate(check_items(body, MAX_ROWS_PER_REQUEST))]
        store.insert_rows(request.params["db"], request.params["table"], rows, request.bool_arg("ensureParent"))
        return {}

    def retrieve_row(request: Request) -> dict[str, Any]:
        return store.retrieve_row(request.params["db"], request.params["table"], request.params["key"])

    def delete_rows(request: Request) -> dict[str, Any]:
        body = check_fields(request.body(), ("items",), ("items",))
        keys = []
        for index, item in enumerate(check_items(body, MAX_ROWS_PER_REQUEST)):
            check_fields(item, ("key",), ("key",), where=f"items[{index}]")
            keys.append(ROW_KEY(item["key"], f"items[{index}].key"))
        store.delete_rows(request.params["db"], request.params["table"], keys)
        return {}

    router.add("GET", "/raw/dbs", list_dbs)
    router.add("POST", "/raw/dbs", create_dbs)
    router.add("POST", "/raw/dbs/delete", delete_dbs)
    router.add("GET", "/raw/dbs/{db}/tables", list_tables)
    router.add("POST", "/raw/dbs/{db}/tables", create_tables)
    router.add("POST", "/raw/dbs/{db}/tables/delete", delete_tables)
    router.add("GET", "/raw/dbs/{db}/tables/{table}/cursors", cursors)
    router.add("GET", _ROWS, list_rows)
    router.add("POST", _ROWS, insert_rows)
    router.add("POST", _ROWS + "/delete", delete_rows)
    router.add("GET", _ROWS + "/{key}", retrieve_row)


def _page(items: list[dict[str, Any]], cursor: str | None) -> dict[str, Any]:
    """A list answer; ``nextCursor`` is left out at the end (the document types it as a string)."""
    return {"items": items, "nextCursor": cursor} if cursor else {"items": items}


def _names(request: Request, check: Any, allowed: tuple[str, ...] = ("items",)) -> list[str]:
    body = check_fields(request.body(), allowed, ("items",))
    names = []
    for index, item in enumerate(check_items(body, MAX_NAMES)):
        check_fields(item, ("name",), ("name",), where=f"items[{index}]")
        names.append(check(item["name"], f"items[{index}].name"))
    return names


def _row(item: Any, index: int) -> tuple[str, dict[str, Any]]:
    where = f"items[{index}]"
    check_fields(item, ("key", "columns"), ("key",), where=where)
    columns = item.get("columns")
    if not isinstance(columns, dict):
        raise ApiError(400, f"Missing or invalid field '{where}.columns': expected an object")
    return ROW_KEY(item["key"], f"{where}.key"), columns


def _time_window(request: Request) -> RowWindow:
    return RowWindow(
        min_updated=_optional_ms(request, "minLastUpdatedTime"),
        max_updated=_optional_ms(request, "maxLastUpdatedTime"),
    )


def _optional_ms(request: Request, name: str) -> int | None:
    if request.arg(name) in (None, ""):
        return None
    return request.int_arg(name, 0, 0, _EPOCH_MAX)


def _columns(value: str | None) -> list[str] | None:
    """``columns=a,b`` selects columns, an empty value means all, a lone comma means keys only."""
    if value is None or value == "":
        return None
    return [name for name in value.split(",") if name]
