"""The append guard: which batches of a first load may be appended."""

from __future__ import annotations

import pyarrow as pa

from cdf_replicator.append_guard import AppendGuard, key_hashes


def _batch(*keys: tuple[str, str]) -> pa.Table:
    return pa.table({"space": [space for space, _ in keys], "externalId": [xid for _, xid in keys]})


def test_hashes_are_distinct_per_key_and_sorted() -> None:
    hashes = key_hashes(_batch(("a", "1"), ("b", "1"), ("a", "2"), ("a", "1")))
    assert hashes.size == 3 and list(hashes) == sorted(hashes)
    # (space, externalId) is the key: the same externalId in two spaces is two keys.
    assert key_hashes(_batch(("a", "1"))) != key_hashes(_batch(("b", "1")))


def test_new_keys_are_admitted_and_repeated_ones_are_not() -> None:
    guard = AppendGuard("t")
    admitted, hashes = guard.admits(_batch(("s", "1"), ("s", "2")))
    assert admitted
    guard.record(hashes)
    assert guard.admits(_batch(("s", "3"), ("s", "4")))[0]
    assert not guard.admits(_batch(("s", "3"), ("s", "2")))[0]  # "2" was written
    assert guard.admits(_batch(("t", "2")))[0]  # another space


def test_merged_batches_are_remembered_too() -> None:
    guard = AppendGuard("t")
    guard.record(guard.admits(_batch(("s", "1")))[1])
    admitted, hashes = guard.admits(_batch(("s", "1"), ("s", "9")))
    assert not admitted
    guard.record(hashes)  # the batch was MERGEd: "9" is in the table now
    assert not guard.admits(_batch(("s", "9")))[0]
    assert guard.keys == 3  # "1" twice: harmless, the array stays sorted


def test_past_the_key_budget_every_later_batch_is_merged() -> None:
    guard = AppendGuard("t", max_keys=3)
    guard.record(guard.admits(_batch(("s", "1"), ("s", "2")))[1])
    admitted, hashes = guard.admits(_batch(("s", "3"), ("s", "4")))
    assert admitted  # this batch itself is new
    guard.record(hashes)  # 4 keys > 3: the guard switches off and frees its memory
    assert not guard.active and guard.keys == 0
    assert not guard.admits(_batch(("s", "5")))[0]


def test_an_empty_batch_is_admitted() -> None:
    guard = AppendGuard("t")
    guard.record(guard.admits(_batch(("s", "1")))[1])
    assert guard.admits(_batch())[0]


def test_an_unarmed_guard_admits_nothing_and_remembers_nothing() -> None:
    guard = AppendGuard("t", armed=False)  # the table turned out to have rows: every batch is MERGEd
    admitted, hashes = guard.admits(_batch(("s", "1")))
    assert not admitted and hashes.size == 0
    guard.record(key_hashes(_batch(("s", "1"))))
    assert guard.keys == 0
