"""Arrow-side reduction of a batch to one row per key, and the key bounds a MERGE condition uses."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from cdf_replicator.frames import KeyBounds, key_bounds, newest_per_key

SCHEMA = pa.schema(
    [
        ("space", pa.string()),
        ("externalId", pa.string()),
        ("version", pa.int64()),
        ("lastUpdatedTime", pa.int64()),
        ("name", pa.string()),
        ("_deleted", pa.bool_()),
    ]
)


def live(xid: str, version: int | None, updated: int | None, name: str, space: str = "sp") -> dict[str, Any]:
    return {"space": space, "externalId": xid, "version": version, "lastUpdatedTime": updated, "name": name,
            "_deleted": False}  # fmt: skip


def tomb(xid: str, version: int, updated: int, space: str = "sp", deleted: bool | None = True) -> dict[str, Any]:
    return {"space": space, "externalId": xid, "version": version, "lastUpdatedTime": updated, "name": None,
            "_deleted": deleted}  # fmt: skip


def table(*rows: dict[str, Any]) -> pa.Table:
    return pa.Table.from_pylist(list(rows), schema=SCHEMA)


def test_newest_row_per_key_by_update_time_then_version_and_a_tombstone_wins_a_tie() -> None:
    batch = table(
        live("a", 1, 100, "old"),
        live("a", 2, 200, "new"),
        tomb("b", 5, 300),
        live("b", 1, 400, "recreated"),  # re-created after a delete: version restarts, time decides
        live("c", 3, 300, "tie"),
        tomb("c", 3, 300),  # same (time, version): the tombstone is that row, deleted
        live("a", 2, 200, "new", space="other"),  # same externalId in another space is another key
        live("d", 7, 100, "same time, newer version"),
        live("d", 6, 100, "same time, older version"),
    )
    assert newest_per_key(batch).to_pylist() == [
        live("a", 2, 200, "new", space="other"),
        live("a", 2, 200, "new"),
        tomb("b", 1, 400) | {"name": "recreated", "_deleted": False},
        tomb("c", 3, 300),
        live("d", 7, 100, "same time, newer version"),
    ]


def test_nulls_are_oldest_and_a_null_deleted_flag_is_live() -> None:
    batch = table(
        live("a", None, None, "unknown time"),
        live("a", 1, 50, "known time"),
        tomb("b", 2, 20, deleted=None),
        live("b", None, 20, "same time, no version"),
    )
    assert newest_per_key(batch).to_pylist() == [
        live("a", 1, 50, "known time"),
        tomb("b", 2, 20, deleted=None),
    ]


def test_a_batch_without_duplicates_keeps_every_row_sorted_by_key_across_chunks() -> None:
    first = table(live("c", 1, 1, "c"), live("a", 1, 1, "a"))
    second = table(live("b", 1, 1, "b"))
    result = newest_per_key(pa.concat_tables([first, second]))
    assert result.column("externalId").to_pylist() == ["a", "b", "c"]
    assert result.schema == SCHEMA


def test_empty_and_single_row_batches_pass_through() -> None:
    assert newest_per_key(table()).num_rows == 0
    assert newest_per_key(table(live("a", 1, 1, "a"))).to_pylist() == [live("a", 1, 1, "a")]


def test_key_bounds_cover_the_external_ids_and_list_at_most_one_space_too_many() -> None:
    batch = table(live("m", 1, 1, "x", space="s2"), live("b", 1, 1, "x", space="s1"), live("z", 1, 1, "x", space="s3"))
    assert key_bounds(batch, max_spaces=5) == KeyBounds(3, "b", "z", ("s1", "s2", "s3"), tombstones=0)
    assert key_bounds(batch, max_spaces=1) == KeyBounds(3, "b", "z", ("s1", "s2"), tombstones=0)
    assert key_bounds(table(), max_spaces=5) == KeyBounds(0, None, None, (), tombstones=0)


def test_key_bounds_count_tombstones_so_a_merge_knows_which_clauses_can_fire() -> None:
    mixed = key_bounds(table(live("a", 1, 1, "x"), tomb("b", 1, 1), tomb("c", 1, 1, deleted=None)), max_spaces=5)
    only_tombstones = key_bounds(table(tomb("a", 1, 1), tomb("b", 1, 1)), max_spaces=5)
    only_live = key_bounds(table(live("a", 1, 1, "x"), tomb("b", 1, 1, deleted=False)), max_spaces=5)

    assert (mixed.tombstones, mixed.has_tombstones, mixed.has_live_rows) == (1, True, True)  # null counts as live
    assert (only_tombstones.has_tombstones, only_tombstones.has_live_rows) == (True, False)
    assert (only_live.has_tombstones, only_live.has_live_rows) == (False, True)


def test_key_bounds_of_a_table_without_the_flag_keep_every_merge_clause() -> None:
    bounds = key_bounds(table(live("a", 1, 1, "x")).drop_columns(["_deleted"]), max_spaces=5)
    assert bounds.tombstones is None and bounds.has_tombstones and bounds.has_live_rows
