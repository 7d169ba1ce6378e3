"""The data behind the emulated RAW API: databases, tables and rows, with key-ordered paging."""

from __future__ import annotations

import bisect
import threading
from dataclasses import dataclass, field
from typing import Any

from cdf_emulator.clock import Clock
from cdf_emulator.errors import ApiError
from cdf_emulator.opaque_cursor import decode_cursor, encode_cursor

CURSOR_KIND_ROWS = "raw-rows"
CURSOR_KIND_NAMES = "raw-names"


@dataclass
class RowWindow:
    """Which rows a rows-list page reads: a key range plus the lastUpdatedTime window (min exclusive, max inclusive)."""

    start: str | None = None
    start_inclusive: bool = True
    until: str | None = None
    min_updated: int | None = None
    max_updated: int | None = None

    def to_cursor(self) -> str:
        state = {"s": self.start, "i": self.start_inclusive, "u": self.until}
        return encode_cursor(CURSOR_KIND_ROWS, {**state, "lo": self.min_updated, "hi": self.max_updated})

    @staticmethod
    def from_cursor(cursor: str) -> RowWindow:
        state = decode_cursor(CURSOR_KIND_ROWS, cursor)
        try:
            return RowWindow(state["s"], bool(state["i"]), state["u"], state["lo"], state["hi"])
        except KeyError:
            raise ApiError(400, f"Invalid cursor: {cursor[:64]}") from None

    def admits(self, updated: int) -> bool:
        return (self.min_updated is None or updated > self.min_updated) and (
            self.max_updated is None or updated <= self.max_updated
        )


@dataclass
class _Row:
    columns: dict[str, Any]
    last_updated: int


@dataclass
class _Table:
    created_time: int
    rows: dict[str, _Row] = field(default_factory=dict)
    _sorted_keys: list[str] | None = None

    def sorted_keys(self) -> list[str]:
        if self._sorted_keys is None:
            self._sorted_keys = sorted(self.rows)
        return self._sorted_keys


@dataclass
class _Database:
    created_time: int
    tables: dict[str, _Table] = field(default_factory=dict)


def _page_of_names(names: list[str], limit: int, cursor: str | None) -> tuple[list[str], str | None]:
    ordered = sorted(names)
    start = 0
    if cursor:
        after = decode_cursor(CURSOR_KIND_NAMES, cursor).get("after")
        if not isinstance(after, str):
            raise ApiError(400, f"Invalid cursor: {cursor[:64]}")
        start = bisect.bisect_right(ordered, after)
    page = ordered[start : start + limit]
    more = start + limit < len(ordered)
    return page, encode_cursor(CURSOR_KIND_NAMES, {"after": page[-1]}) if more and page else None


class RawStore:
    """All RAW databases of the project. Thread-safe: every operation holds the store's lock."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._lock = threading.RLock()
        self._dbs: dict[str, _Database] = {}

    # databases -----------------------------------------------------------------------------
    def create_databases(self, names: list[str]) -> list[dict[str, Any]]:
        """Create all or none; an existing or repeated name is 400, which clients treat as 'already exists'."""
        with self._lock:
            taken = [name for index, name in enumerate(names) if name in self._dbs or name in names[:index]]
            if taken:
                raise ApiError(
                    400, f"Databases already created: {', '.join(taken)}", duplicated=[{"name": n} for n in taken]
                )
            now = self.clock.now_ms()
            for name in names:
                self._dbs[name] = _Database(now)
            return [{"name": name, "createdTime": now} for name in names]

    def list_databases(self, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        with self._lock:
            page, next_cursor = _page_of_names(list(self._dbs), limit, cursor)
            return [{"name": n, "createdTime": self._dbs[n].created_time} for n in page], next_cursor

    def delete_databases(self, names: list[str], recursive: bool) -> None:
        with self._lock:
            missing = [name for name in names if name not in self._dbs]
            if missing:
                raise ApiError(404, "Databases not found", missing=[{"name": n} for n in missing])
            if not recursive:
                full = [name for name in names if self._dbs[name].tables]
                if full:
                    raise ApiError(400, f"Databases are not empty, use recursive=true to delete: {', '.join(full)}")
            for name in names:
                del self._dbs[name]

    # tables --------------------------------------------------------------------------------
    def create_tables(self, db: str, names: list[str], ensure_parent: bool) -> list[dict[str, Any]]:
        with self._lock:
            database = self._database(db, create=ensure_parent)
            taken = [n for index, n in enumerate(names) if n in database.tables or n in names[:index]]
            if taken:
                raise ApiError(
                    400, f"Tables already created: {', '.join(taken)}", duplicated=[{"name": n} for n in taken]
                )
            now = self.clock.now_ms()
            for name in names:
                database.tables[name] = _Table(now)
            return [{"name": name, "createdTime": now} for name in names]

    def list_tables(self, db: str, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        with self._lock:
            tables = self._database(db).tables
            page, next_cursor = _page_of_names(list(tables), limit, cursor)
            return [{"name": n, "createdTime": tables[n].created_time} for n in page], next_cursor

    def delete_tables(self, db: str, names: list[str]) -> None:
        with self._lock:
            database = self._database(db)
            missing = [name for name in names if name not in database.tables]
            if missing:
                raise ApiError(404, "Tables not found", missing=[{"name": n} for n in missing])
            for name in names:
                del database.tables[name]

    # rows ----------------------------------------------------------------------------------
    def insert_rows(self, db: str, table: str, rows: list[tuple[str, dict[str, Any]]], ensure_parent: bool) -> None:
        """Upsert whole rows; lastUpdatedTime moves only when the columns really change, as CDF documents."""
        with self._lock:
            target = self._table(db, table, create=ensure_parent)
            now = self.clock.now_ms()
            for key, columns in rows:
                current = target.rows.get(key)
                if current is None:
                    target.rows[key] = _Row(columns, now)
                    target._sorted_keys = None
                elif current.columns != columns:
                    target.rows[key] = _Row(columns, now)

    def list_rows(
        self, db: str, table: str, window: RowWindow, limit: int, columns: list[str] | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of rows in key order inside ``window``; the cursor continues after the last key returned."""
        with self._lock:
            target = self._table(db, table)
            keys = target.sorted_keys()
            index = _lower_index(keys, window)
            stop = len(keys) if window.until is None else bisect.bisect_left(keys, window.until)
            page: list[dict[str, Any]] = []
            while index < stop and len(page) < limit:
                key = keys[index]
                index += 1
                row = target.rows[key]
                if window.admits(row.last_updated):
                    page.append(_row_json(key, row, columns))
            has_more = any(window.admits(target.rows[keys[i]].last_updated) for i in range(index, stop))
            if not has_more or not page:
                return page, None
            after = RowWindow(page[-1]["key"], False, window.until, window.min_updated, window.max_updated)
            return page, after.to_cursor()

    def partition_cursors(self, db: str, table: str, count: int, window: RowWindow) -> list[str]:
        """Up to ``count`` cursors over disjoint key ranges of the rows in ``window`` (at least one)."""
        with self._lock:
            target = self._table(db, table)
            keys = [k for k in target.sorted_keys() if window.admits(target.rows[k].last_updated)]
            parts = max(1, min(count, len(keys)))
            bounds = [keys[(len(keys) * part) // parts] if keys else None for part in range(parts)]
            cursors = []
            for part in range(parts):
                until = bounds[part + 1] if part + 1 < parts else None
                start = bounds[part] if part else None
                cursors.append(RowWindow(start, True, until, window.min_updated, window.max_updated).to_cursor())
            return cursors

    def retrieve_row(self, db: str, table: str, key: str) -> dict[str, Any]:
        with self._lock:
            row = self._table(db, table).rows.get(key)
            if row is None:
                raise ApiError(404, f"Row not found: {key[:256]}")
            return _row_json(key, row, None)

    def delete_rows(self, db: str, table: str, keys: list[str]) -> None:
        """Delete rows; keys that do not exist are ignored, as in CDF."""
        with self._lock:
            target = self._table(db, table)
            for key in keys:
                if target.rows.pop(key, None) is not None:
                    target._sorted_keys = None

    # lookups -------------------------------------------------------------------------------
    def _database(self, db: str, create: bool = False) -> _Database:
        database = self._dbs.get(db)
        if database is None:
            if not create:
                raise ApiError(404, f"Database not found: {db}", missing=[{"name": db}])
            database = self._dbs[db] = _Database(self.clock.now_ms())
        return database

    def _table(self, db: str, table: str, create: bool = False) -> _Table:
        database = self._database(db, create)
        found = database.tables.get(table)
        if found is None:
            if not create:
                raise ApiError(404, f"Table not found: {db}.{table}", missing=[{"name": table}])
            found = database.tables[table] = _Table(self.clock.now_ms())
        return found


def _lower_index(keys: list[str], window: RowWindow) -> int:
    if window.start is None:
        return 0
    if window.start_inclusive:
        return bisect.bisect_left(keys, window.start)
    return bisect.bisect_right(keys, window.start)


def _row_json(key: str, row: _Row, columns: list[str] | None) -> dict[str, Any]:
    shown = row.columns if columns is None else {name: row.columns[name] for name in columns if name in row.columns}
    return {"key": key, "columns": shown, "lastUpdatedTime": row.last_updated}
