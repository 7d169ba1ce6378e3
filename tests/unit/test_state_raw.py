"""The CDF RAW state store against the emulator, through the real cognite-sdk."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from cdf_replicator.errors import StateError
from cdf_replicator.state import CursorState, RawStateStore, state_key

KEY = state_key("sp", "Movies", "1", "Movie", "nodes")
OTHER = state_key("sp", "Movies", "1", "Movie", "edges")


@pytest.fixture()
def emulator(emulator_factory: Callable[..., Any]) -> Any:
    return emulator_factory(project="state-test")


def test_reading_an_absent_store_writes_nothing(emulator: Any) -> None:
    client = emulator.client()
    store = RawStateStore(client, "replicator_state", "cursors")

    assert store.get(KEY) is None
    assert store.keys() == []
    store.delete(KEY)
    assert [db.name for db in client.raw.databases.list(limit=None)] == []


def test_set_get_overwrite_delete_with_extractor_utils_columns(emulator: Any) -> None:
    client = emulator.client()
    store = RawStateStore(client, "replicator_state", "cursors")

    store.set(KEY, CursorState(cursor="c1"))
    store.set(OTHER, CursorState(cursor="e1", table_version=4))
    store.set(KEY, CursorState(cursor="c2", resync_started_at=1700000000000, table_version=9))

    assert store.get(KEY) == CursorState(cursor="c2", resync_started_at=1700000000000, table_version=9)
    assert store.get(OTHER) == CursorState(cursor="e1", table_version=4)
    assert store.keys() == sorted([KEY, OTHER])
    row = client.raw.rows.retrieve("replicator_state", "cursors", KEY)
    assert row.columns == {"high": "c2", "resync_started_at": 1700000000000, "table_version": 9}

    store.delete(KEY)
    assert store.get(KEY) is None
    assert store.keys() == [OTHER]


def test_existing_database_and_table_are_reused_and_foreign_cursors_read(emulator: Any) -> None:
    client = emulator.client()
    client.raw.databases.create("s3_replicator_state")
    client.raw.tables.create("s3_replicator_state", "data_modeling_state")
    # A row as extractor-utils' RawStateStore (the seed tool's store) writes it.
    client.raw.rows.insert("s3_replicator_state", "data_modeling_state", {KEY: {"low": None, "high": "seed-cursor"}})

    store = RawStateStore(client, "s3_replicator_state", "data_modeling_state")
    assert store.get(KEY) == CursorState(cursor="seed-cursor")

    store.set(OTHER, CursorState(cursor="ours"))
    assert store.keys() == sorted([KEY, OTHER])


def test_a_failing_write_raises_state_error_naming_the_key(emulator: Any) -> None:
    client = emulator.client()
    store = RawStateStore(client, "replicator_state", "cursors")
    store.set(KEY, CursorState(cursor="c1"))
    emulator.faults.fail(r"/raw/dbs/replicator_state/tables/cursors/rows$", 500, 1)

    with pytest.raises(StateError, match=f"cannot write state {KEY} in RAW replicator_state/cursors: 500"):
        store.set(KEY, CursorState(cursor="c2"))
    assert store.get(KEY) == CursorState(cursor="c1")


def test_a_failing_database_creation_raises(emulator: Any) -> None:
    store = RawStateStore(emulator.client(), "replicator_state", "cursors")
    emulator.faults.fail(r"/raw/dbs$", 500, 1)

    with pytest.raises(StateError, match="cannot create RAW replicator_state/cursors: 500"):
        store.set(KEY, CursorState(cursor="c1"))
