"""RAW through the real cognite-sdk: databases, tables, rows, the /cursors partitioning, errors."""

from __future__ import annotations

from typing import Any

import pytest
from cognite.client.data_classes import RowWrite
from cognite.client.exceptions import CogniteAPIError, CogniteNotFoundError

from cdf_emulator import Emulator
from tests.emulator.plain_http import assert_cdf_error, send

# Keys that break naive URL handling or naive string escaping.
AWKWARD_KEYS = ["a/b/c", 'it\'s "quoted"', "ünïcødé ☃", "with space", "100%", "plus+sign", "delete", "?q=1#frag"]


def _rows(count: int) -> dict[str, dict[str, Any]]:
    rows = {f"row-{index:06d}": {"n": index, "even": index % 2 == 0, "none": None} for index in range(count)}
    for index, key in enumerate(AWKWARD_KEYS):
        rows[key] = {"n": -index, "nested": {"list": [1, "two", None], "key": key}}
    return rows


def test_rows_round_trip_through_partitioned_unlimited_list(client: Any) -> None:
    rows = _rows(12_000)
    client.raw.rows.insert("state", "cursors", rows, ensure_parent=True)

    listed = client.raw.rows.list("state", "cursors", limit=None)  # GET .../cursors, then one reader per cursor

    assert {row.key: row.columns for row in listed} == rows
    assert len(listed) == len(rows)


def test_cursors_split_the_table_into_disjoint_partitions(client: Any, emulator: Emulator) -> None:
    rows = _rows(2_500)
    client.raw.rows.insert("state", "parts", rows, ensure_parent=True)
    base = f"/api/v1/projects/{emulator.project}/raw/dbs/state/tables/parts"

    cursors = client.get(base + "/cursors", params={"numberOfCursors": 4}).json()["items"]
    seen: list[str] = []
    for cursor in cursors:
        while cursor:
            page = client.get(base + "/rows", params={"limit": 300, "cursor": cursor}).json()
            seen.extend(item["key"] for item in page["items"])
            cursor = page.get("nextCursor")

    assert len(cursors) == 4
    assert sorted(seen) == sorted(rows)  # every row exactly once across the partitions


def test_serial_paging_with_limit_and_column_selection(client: Any) -> None:
    rows = _rows(10_500)
    client.raw.rows.insert("db", "paged", rows, ensure_parent=True)

    limited = client.raw.rows.list("db", "paged", limit=10_200, partitions=None)
    only_n = client.raw.rows.list("db", "paged", limit=3, columns=["n"])
    keys_only = client.raw.rows.list("db", "paged", limit=3, columns=[])

    assert len(limited) == 10_200
    assert len({row.key for row in limited}) == 10_200
    assert all(row.columns == rows[row.key] for row in limited)
    assert [row.columns for row in only_n] == [{"n": rows[row.key]["n"]} for row in only_n]
    assert [row.columns for row in keys_only] == [{}, {}, {}]


def test_last_updated_time_filters_and_unchanged_rows_keep_their_time(client: Any, emulator: Emulator) -> None:
    client.raw.rows.insert("db", "times", {"old": {"v": 1}, "same": {"v": 2}, "changed": {"v": 3}}, ensure_parent=True)
    first = {row.key: row.last_updated_time for row in client.raw.rows.list("db", "times", limit=None)}
    emulator.clock.advance("1h")
    client.raw.rows.insert("db", "times", {"same": {"v": 2}, "changed": {"v": 30}, "new": {"v": 4}})

    after = client.raw.rows.list("db", "times", min_last_updated_time=first["old"], limit=None)
    before = client.raw.rows.list("db", "times", max_last_updated_time=first["old"], limit=100)  # serial reader

    assert sorted(row.key for row in after) == ["changed", "new"]
    assert sorted(row.key for row in before) == ["old", "same"]
    assert client.raw.rows.retrieve("db", "times", "same").last_updated_time == first["same"]
    assert client.raw.rows.retrieve("db", "times", "changed").columns == {"v": 30}


def test_retrieve_by_awkward_key_and_missing_row_is_none(client: Any) -> None:
    client.raw.rows.insert("db", "keys", _rows(3), ensure_parent=True)

    for key in AWKWARD_KEYS:
        row = client.raw.rows.retrieve("db", "keys", key)
        assert row is not None and row.key == key and row.columns["nested"]["key"] == key
    assert client.raw.rows.retrieve("db", "keys", "no such row") is None


def test_rows_are_replaced_whole_and_deleted(client: Any) -> None:
    client.raw.rows.insert("db", "t", [RowWrite("k", {"a": 1, "b": 2}), RowWrite("gone", {"x": 1})], ensure_parent=True)
    client.raw.rows.insert("db", "t", [RowWrite("k", {"c": 3})])
    client.raw.rows.delete("db", "t", ["gone", "never-existed"])

    assert [(row.key, row.columns) for row in client.raw.rows.list("db", "t", limit=None)] == [("k", {"c": 3})]


def test_already_exists_is_400_as_extractor_utils_expects(client: Any) -> None:
    client.raw.databases.create("db")
    client.raw.tables.create("db", "t")

    with pytest.raises(CogniteAPIError) as db_error:
        client.raw.databases.create("db")
    with pytest.raises(CogniteAPIError) as table_error:
        client.raw.tables.create("db", "t")

    assert db_error.value.code == 400 and table_error.value.code == 400
    assert "already" in db_error.value.message and "db" in db_error.value.message
    assert [t.name for t in client.raw.tables.list("db", limit=None)] == ["t"]


def test_missing_database_or_table_is_404_not_found(client: Any) -> None:
    client.raw.databases.create("db")

    with pytest.raises(CogniteNotFoundError) as no_db:
        client.raw.rows.list("nodb", "t", limit=5)
    with pytest.raises(CogniteNotFoundError) as no_table:
        client.raw.rows.insert("db", "not-a-table", {"k": {}})
    with pytest.raises(CogniteNotFoundError):
        client.raw.tables.create("other", "t")

    assert no_db.value.code == 404 and no_db.value.missing == [{"name": "nodb"}]
    assert no_table.value.code == 404 and no_table.value.missing == [{"name": "not-a-table"}]
    assert [db.name for db in client.raw.databases.list(limit=None)] == ["db"]


def test_database_delete_needs_recursive_when_not_empty(client: Any) -> None:
    client.raw.rows.insert("full", "t", {"k": {"v": 1}}, ensure_parent=True)
    client.raw.databases.create(["empty", "a", "b"])

    with pytest.raises(CogniteAPIError) as not_empty:
        client.raw.databases.delete("full")
    client.raw.databases.delete("empty")
    client.raw.tables.delete("full", "t")
    client.raw.databases.delete(["full"], recursive=True)

    assert not_empty.value.code == 400
    assert [db.name for db in client.raw.databases.list(limit=None)] == ["a", "b"]
    assert [db.name for db in client.raw.databases.list(limit=1)] == ["a"]


def test_many_databases_page_with_cursors(client: Any) -> None:
    names = [f"db-{index:04d}" for index in range(1_205)]
    client.raw.databases.create(names)

    assert [db.name for db in client.raw.databases.list(limit=None)] == names


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/raw/dbs", b"{not json", 400),
        ("POST", "/raw/dbs", {"items": [{"name": "x", "colour": "red"}]}, 400),
        ("POST", "/raw/dbs", {"items": [{"name": "x" * 33}]}, 400),
        ("POST", "/raw/dbs", {"items": "db"}, 400),
        ("POST", "/raw/dbs", {"items": []}, 400),
        ("POST", "/raw/dbs/db/tables/t/rows", {"items": [{"key": "k"}]}, 400),
        ("POST", "/raw/dbs/db/tables/t/rows", {"items": [{"key": "k", "columns": [1]}]}, 400),
        ("POST", "/raw/dbs/db/tables/t/rows", {"items": [{"key": 7, "columns": {}}]}, 400),
        ("POST", "/raw/dbs/db/tables/t/rows", {"items": [{"key": "k" * 1025, "columns": {}}]}, 400),
        ("POST", "/raw/dbs/db/tables/t/rows?ensureParent=maybe", {"items": [{"key": "k", "columns": {}}]}, 400),
        ("GET", "/raw/dbs/db/tables/t/rows?limit=10001", None, 400),
        ("GET", "/raw/dbs/db/tables/t/rows?limit=0", None, 400),
        ("GET", "/raw/dbs/db/tables/t/rows?cursor=garbage!", None, 400),
        ("GET", "/raw/dbs/db/tables/t/rows?minLastUpdatedTime=yesterday", None, 400),
        ("GET", "/raw/dbs?limit=1001", None, 400),
        ("GET", "/raw/dbs/db/tables/t/cursors?numberOfCursors=0", None, 400),
        ("POST", "/raw/dbs/delete", {"items": [{"name": "db"}], "recursive": "yes"}, 400),
        ("GET", "/raw/dbs/db/tables/missing/rows", None, 404),
        ("POST", "/raw/dbs/db/tables/t/rows/delete", {"items": [{"nokey": 1}]}, 400),
        ("DELETE", "/raw/dbs", None, 405),
    ],
)
def test_bad_input_gets_a_cdf_error_never_a_500(
    client: Any, emulator: Emulator, method: str, path: str, body: Any, status: int
) -> None:
    client.raw.rows.insert("db", "t", {"k": {"v": 1}}, ensure_parent=True)

    answer_status, answer = send(emulator, method, path, body)

    assert_cdf_error(answer_status, answer, status)
