"""The append-only change log sync reads: records in sequence order, stale entries skipped and compacted."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable

from cdf_emulator.records import Record

Predicate = Callable[[Record], bool]
COMPACT_AFTER = 10_000


class ChangeLog:
    """Every committed record gets the next sequence number and goes to the end of the log.

    A record stops being ``current`` when a newer version of its key (or a purge) replaces it; the
    walk skips such entries, so each instance is read once, at its latest version. Positions are
    sequence numbers, not indexes, so compaction never invalidates a cursor. Not thread-safe: the
    instance store calls it under its lock.
    """

    def __init__(self) -> None:
        self.head = 0
        self._seqs: list[int] = []
        self._records: list[Record] = []
        self._stale = 0

    def append(self, record: Record) -> None:
        self.head += 1
        record.seq = self.head
        record.current = True
        self._seqs.append(record.seq)
        self._records.append(record)
        if self._stale >= COMPACT_AFTER and self._stale * 2 >= len(self._records):
            self._compact()

    def retire(self, record: Record | None) -> None:
        """Mark a record's entry stale (it was replaced or purged)."""
        if record is not None and record.current:
            record.current = False
            self._stale += 1

    def scan(
        self, after: int, until: int | None, limit: int, predicate: Predicate | None, skip_deleted_upto: int
    ) -> tuple[list[Record], int, bool]:
        """Current entries after position ``after`` (up to ``until``) that match, at most ``limit``.

        Tombstones with a sequence number ``<= skip_deleted_upto`` are skipped. Returns ``(records,
        new position, exhausted)``; when exhausted, the position is the end of the walked range, so
        entries that did not match are not read again.
        """
        seqs, log = self._seqs, self._records
        index = bisect_right(seqs, after)
        end_seq = self.head if until is None else min(until, self.head)
        end = bisect_right(seqs, end_seq)
        found: list[Record] = []
        while index < end:
            record = log[index]
            index += 1
            if not record.current:
                continue
            if record.deleted is not None and record.seq <= skip_deleted_upto:
                continue
            if predicate is not None and not predicate(record):
                continue
            found.append(record)
            if len(found) >= limit:
                return found, record.seq, index >= end
        return found, max(end_seq, after), True

    def _compact(self) -> None:
        keep = [record for record in self._records if record.current]
        self._records = keep
        self._seqs = [record.seq for record in keep]
        self._stale = 0
