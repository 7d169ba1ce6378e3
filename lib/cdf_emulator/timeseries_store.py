"""The data behind the emulated time-series API: series metadata and their datapoints.

Datapoints of one series live in a dict keyed by timestamp (an insert at an existing timestamp overwrites it,
as in CDF); reads go through a sorted copy that is rebuilt only after a write.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cdf_emulator.clock import Clock
from cdf_emulator.errors import ApiError

Value = float | str


@dataclass
class Series:
    """One time series: its API JSON (without datapoints) and its datapoints."""

    meta: dict[str, Any]
    points: dict[int, Value] = field(default_factory=dict)
    _timestamps: list[int] | None = None
    _values: list[Value] | None = None

    @property
    def is_string(self) -> bool:
        return bool(self.meta["isString"])

    def sorted_points(self) -> tuple[list[int], list[Value]]:
        """Timestamps ascending and their values, as parallel lists (cached until the next write)."""
        if self._timestamps is None or self._values is None:
            self._timestamps = sorted(self.points)
            self._values = [self.points[stamp] for stamp in self._timestamps]
        return self._timestamps, self._values

    def index_range(self, start: int, end: int) -> tuple[int, int]:
        """Positions in :meth:`sorted_points` of the datapoints with ``start <= timestamp < end``."""
        stamps, _ = self.sorted_points()
        return bisect.bisect_left(stamps, start), bisect.bisect_left(stamps, end)

    def write(self, points: Iterable[tuple[int, Value]]) -> None:
        self.points.update(points)
        self._timestamps = self._values = None

    def erase(self, start: int, end: int) -> None:
        stamps, _ = self.sorted_points()
        low, high = self.index_range(start, end)
        for stamp in stamps[low:high]:
            del self.points[stamp]
        if high > low:
            self._timestamps = self._values = None


def identifier_json(identifier: dict[str, Any]) -> dict[str, Any]:
    """The form CDF uses in ``missing``/``duplicated`` lists."""
    for key in ("id", "externalId", "instanceId"):
        if key in identifier:
            return {key: identifier[key]}
    raise ValueError(f"not an identifier: {identifier}")


def _key(identifier: dict[str, Any]) -> tuple[str, Any]:
    (name, value), *_ = identifier_json(identifier).items()
    return (name, (value["space"], value["externalId"]) if name == "instanceId" else value)


class TimeSeriesStore:
    """All time series of the project. Thread-safe: every operation holds the store's lock."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self._by_id: dict[int, Series] = {}
        self._index: dict[tuple[str, Any], int] = {}
        self._next_id = 1

    # metadata ------------------------------------------------------------------------------
    def create(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Create all or none: a repeated externalId in the request is 422, a taken one 409."""
        with self.lock:
            xids = [item["externalId"] for item in items if "externalId" in item]
            repeated = sorted({xid for xid in xids if xids.count(xid) > 1})
            if repeated:
                duplicated = [{"externalId": xid} for xid in repeated]
                raise ApiError(422, "Duplicate externalIds in request", duplicated=duplicated)
            taken = [xid for xid in xids if self._find("externalId", xid) is not None]
            if taken:
                raise ApiError(409, "Time series already exist", duplicated=[{"externalId": x} for x in taken])
            return [self._add(item) for item in items]

    def upsert_instance_series(
        self, space: str, external_id: str, *, is_string: bool = False, is_step: bool = False, **fields: Any
    ) -> dict[str, Any]:
        """The time series behind a CogniteTimeSeries node (created if new), for seeds and the instances store."""
        with self.lock:
            found = self._find("instanceId", (space, external_id))
            if found is not None:
                return dict(found.meta)
            meta = {"instanceId": {"space": space, "externalId": external_id}, "isString": is_string}
            return self._add({**meta, "isStep": is_step, **fields})

    def _add(self, item: dict[str, Any]) -> dict[str, Any]:
        now = self.clock.now_ms()
        meta = {"isString": False, "isStep": False, **item, "id": self._next_id}
        meta.update(type="string" if meta["isString"] else "numeric", createdTime=now, lastUpdatedTime=now)
        self._by_id[self._next_id] = Series(meta)
        self._reindex(None, meta)
        self._next_id += 1
        return dict(meta)

    def all(self) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(self._by_id[key].meta) for key in sorted(self._by_id)]

    def resolve(self, identifiers: list[dict[str, Any]], ignore_unknown: bool = False) -> list[Series | None]:
        """The series for each identifier (``None`` for unknown ones when ignored, else 400 with ``missing``)."""
        with self.lock:
            found = [self._find(*_key(identifier)) for identifier in identifiers]
            missing = [identifier_json(i) for i, series in zip(identifiers, found, strict=True) if series is None]
            if missing and not ignore_unknown:
                raise ApiError(400, "Time series not found", missing=missing)
            return found

    def replace(self, series: Series, meta: dict[str, Any]) -> dict[str, Any]:
        """Store patched metadata; 409 if the new externalId belongs to another series."""
        with self.lock:
            other = self._find("externalId", meta["externalId"]) if "externalId" in meta else None
            if other is not None and other is not series:
                raise ApiError(409, "Time series already exist", duplicated=[{"externalId": meta["externalId"]}])
            self._reindex(series.meta, meta)
            series.meta = {**meta, "lastUpdatedTime": self.clock.now_ms()}
            return dict(series.meta)

    def delete(self, identifiers: list[dict[str, Any]], ignore_unknown: bool) -> None:
        with self.lock:
            for series in self.resolve(identifiers, ignore_unknown):
                if series is not None and self._by_id.pop(series.meta["id"], None) is not None:
                    self._reindex(series.meta, None)

    def _find(self, name: str, value: Any) -> Series | None:
        if name == "id":
            return self._by_id.get(value) if isinstance(value, int) and not isinstance(value, bool) else None
        found = self._index.get((name, value))
        return None if found is None else self._by_id.get(found)

    def _reindex(self, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        """Keep the externalId and instanceId lookups in step with one series' metadata."""
        for meta, keep in ((old, False), (new, True)):
            if meta is None:
                continue
            keys = [("externalId", meta.get("externalId"))]
            if meta.get("instanceId") is not None:
                keys.append(("instanceId", (meta["instanceId"]["space"], meta["instanceId"]["externalId"])))
            for key in keys:
                if key[1] is None:
                    continue
                if keep:
                    self._index[key] = meta["id"]
                else:
                    self._index.pop(key, None)

    # datapoints ----------------------------------------------------------------------------
    def insert(self, batches: list[tuple[Series, list[tuple[int, Value]]]]) -> None:
        """Write validated datapoints; all series were resolved under the caller's view of the store."""
        with self.lock:
            for series, points in batches:
                series.write(points)

    def erase(self, ranges: list[tuple[Series, int, int]]) -> None:
        with self.lock:
            for series, start, end in ranges:
                series.erase(start, end)
