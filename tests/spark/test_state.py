"""State stores: the Delta store (default) and the in-memory one answer the same contract."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from cdf_replicator.state import CursorState, DeltaStateStore, MemoryStateStore, StateStore, state_key

pytestmark = pytest.mark.spark

A = state_key("sp", "Movies", "v1", "Movie", "nodes")
B = state_key("sp", "Movies", "v1", "Movie", "edges")


@pytest.fixture(params=["memory", "delta"])
def make_store(request: pytest.FixtureRequest, spark: SparkSession, tmp_path: Path) -> Callable[[], StateStore]:
    """A factory of stores that share one location (two Delta stores on one path act like two processes)."""
    if request.param == "memory":
        shared = MemoryStateStore()
        return lambda: shared
    return lambda: DeltaStateStore(spark, str(tmp_path / "_state"))


def test_set_get_overwrite_delete(make_store: Callable[[], StateStore]) -> None:
    store = make_store()
    assert store.get(A) is None
    assert store.keys() == []

    store.set(A, CursorState(cursor="c1"))
    store.set(B, CursorState(cursor="e1", table_version=3))
    store.set(A, CursorState(cursor="c2", resync_started_at=1700000000000, table_version=7))

    assert store.get(A) == CursorState(cursor="c2", resync_started_at=1700000000000, table_version=7)
    assert store.get(B) == CursorState(cursor="e1", table_version=3)
    assert store.keys() == sorted([A, B])

    store.delete(A)
    store.delete("never-set")
    assert store.get(A) is None
    assert store.keys() == [B]

    store.set(A, CursorState(cursor=None))
    assert store.get(A) == CursorState()


def test_two_writers_keep_each_others_states(make_store: Callable[[], StateStore]) -> None:
    first, second = make_store(), make_store()
    errors: list[BaseException] = []

    def write(store: StateStore, key: str) -> None:
        try:
            for n in range(3):
                store.set(key, CursorState(cursor=f"{key}-{n}", table_version=n))
        except BaseException as e:  # surfaced by the assertion below
            errors.append(e)

    threads = [threading.Thread(target=write, args=(first, A)), threading.Thread(target=write, args=(second, B))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    for store in (first, second):
        assert store.get(A) == CursorState(cursor=f"{A}-2", table_version=2)
        assert store.get(B) == CursorState(cursor=f"{B}-2", table_version=2)


def test_delta_compaction_keeps_the_latest_states(spark: SparkSession, tmp_path: Path) -> None:
    path = str(tmp_path / "_state")
    store = DeltaStateStore(spark, path)
    for n in range(3):
        store.set(A, CursorState(cursor=f"a{n}"))
    store.set(B, CursorState(cursor="b"))
    store.delete(B)

    store.compact()

    rows = spark.read.format("delta").load(path).select("key", "state").collect()
    assert [(row["key"], row["state"]) for row in rows] == [(A, CursorState(cursor="a2").to_json())]
    assert store.get(A) == CursorState(cursor="a2")
    assert store.keys() == [A]
