"""Sorted twoPhase backfill (``backfillSort``): pages resume after the last returned sort key.

Resuming by key rather than by offset keeps the walk correct when instances change during the
backfill: a changed instance leaves the backfill range (its new version comes in the change phase)
without shifting the position of the instances not yet returned.
"""

from __future__ import annotations

from functools import cmp_to_key
from typing import Any

from cdf_emulator.filter_properties import Getter, compile_property
from cdf_emulator.filters import FilterContext
from cdf_emulator.records import Record
from cdf_emulator.selection import sortable

SortKey = list[Any]


class BackfillOrder:
    """Comparable sort keys for ``backfillSort`` specifications, with (space, externalId) as tiebreak."""

    def __init__(self, specs: list[dict[str, Any]], ctx: FilterContext, where: str) -> None:
        self.getters: list[Getter] = [
            compile_property(spec["property"], ctx.schema, f"{where}[{index}].property").get
            for index, spec in enumerate(specs)
        ]
        self.descending = [spec.get("direction", "ascending") == "descending" for spec in specs]
        self.nulls_first = [bool(spec.get("nullsFirst", False)) for spec in specs]

    def key(self, record: Record) -> SortKey:
        """A JSON-able key: one ``[rank, value]`` (or ``None`` for null) per spec, then space and externalId."""
        parts: SortKey = []
        for get in self.getters:
            value = get(record)
            if value is None:
                parts.append(None)
            else:
                rank, comparable = sortable(value)
                parts.append([rank, list(comparable) if isinstance(comparable, tuple) else comparable])
        return [*parts, record.key[0], record.key[1]]

    def compare(self, left: SortKey, right: SortKey) -> int:
        for index, (a, b) in enumerate(zip(left[:-2], right[:-2], strict=True)):
            if a == b:
                continue
            if a is None or b is None:
                first_is_null = a is None
                return -1 if first_is_null == self.nulls_first[index] else 1
            order = -1 if tuple(a) < tuple(b) else 1
            return -order if self.descending[index] else order
        tail_left, tail_right = tuple(left[-2:]), tuple(right[-2:])
        return 0 if tail_left == tail_right else (-1 if tail_left < tail_right else 1)

    def page(self, candidates: list[Record], after: SortKey | None, limit: int) -> tuple[list[Record], SortKey | None]:
        """The next ``limit`` candidates after the key ``after``; returns them and the last key."""
        keyed = [(self.key(record), record) for record in candidates]
        if after is not None:
            keyed = [item for item in keyed if self.compare(item[0], after) > 0]

        def by_key(left: tuple[SortKey, Record], right: tuple[SortKey, Record]) -> int:
            return self.compare(left[0], right[0])

        keyed.sort(key=cmp_to_key(by_key))
        chosen = keyed[:limit]
        return [record for _, record in chosen], (chosen[-1][0] if chosen else after)
