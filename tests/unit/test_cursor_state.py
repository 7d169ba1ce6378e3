"""Cursor state values: keys, transitions, JSON round trip and the errors for a corrupt state."""

from __future__ import annotations

import pytest

from cdf_replicator.errors import StateError
from cdf_replicator.state import CursorState, MemoryStateStore, state_key


def test_state_key_is_the_seed_tools_key() -> None:
    assert state_key("production", "CustomerModel", "1", "CustomerView", "nodes") == (
        "production_CustomerModel_1_CustomerView_nodes"
    )
    with pytest.raises(ValueError, match="kind must be"):
        state_key("sp", "M", "1", "V", "node")  # type: ignore[arg-type]


def test_transitions() -> None:
    state = CursorState().advanced("c1", table_version=3)
    assert state == CursorState(cursor="c1", table_version=3)
    assert state.advanced("c2") == CursorState(cursor="c2", table_version=3)  # idle refresh: no commit
    resync = state.resync_started(1700000000000)
    assert resync == CursorState(cursor=None, resync_started_at=1700000000000, table_version=3)
    assert resync.resyncing
    done = resync.advanced("c9", 8).resync_finished()
    assert done == CursorState(cursor="c9", table_version=8)
    assert not done.resyncing


def test_json_round_trip_and_unknown_fields() -> None:
    state = CursorState(cursor='quo"te', resync_started_at=5, table_version=0)
    assert CursorState.from_json(state.to_json()) == state
    assert CursorState.from_json('{"cursor": "c", "future": 1}') == CursorState(cursor="c")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{not json", "state of k is not JSON"),
        ("[1]", "state of k is not a JSON object"),
        ('{"cursor": 5}', "state of k: cursor must be a string, not int"),
        ('{"table_version": "3"}', "state of k: table_version must be an integer, not str"),
        ('{"resync_started_at": true}', "state of k: resync_started_at must be an integer, not bool"),
    ],
)
def test_corrupt_states_raise(text: str, problem: str) -> None:
    with pytest.raises(StateError, match=problem):
        CursorState.from_json(text, "k")


def test_memory_store() -> None:
    store = MemoryStateStore({"b": CursorState(cursor="x")})
    store.set("a", CursorState(cursor="y"))
    assert store.keys() == ["a", "b"]
    store.delete("b")
    store.delete("b")
    assert store.get("b") is None
    assert store.get("a") == CursorState(cursor="y")
