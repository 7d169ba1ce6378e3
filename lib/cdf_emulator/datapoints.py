"""Datapoint arithmetic: time specs, raw pages and aggregate buckets, as pure functions over one series.

Ranges are CDF's: ``start`` inclusive, ``end`` exclusive. Aggregate buckets start at ``start`` rounded down to
the granularity *unit* (CDF aligns on the unit, not on the whole granularity), and empty buckets are left out.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from cdf_emulator.errors import ApiError
from cdf_emulator.timeseries_store import Series, Value

MIN_TIMESTAMP = -2208988800000
MAX_TIMESTAMP = 4102444799999
_UNIT_MS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_UNIT_NAMES = {
    "s": "s", "sec": "s", "second": "s", "seconds": "s",
    "m": "m", "t": "m", "min": "m", "minute": "m", "minutes": "m",
    "h": "h", "hour": "h", "hours": "h",
    "d": "d", "day": "d", "days": "d",
    "w": "w", "week": "w", "weeks": "w",
}  # fmt: skip
_CALENDAR = {"mo", "month", "months", "q", "quarter", "quarters", "y", "year", "years"}
_RELATIVE = re.compile(r"^(\d+)([a-z]+)-(ago|ahead)$")
_GRANULARITY = re.compile(r"^(\d*)([a-z]+)$")
# 1970-01-01 was a Thursday; CDF weeks start on Monday.
_MONDAY_OFFSET_MS = 4 * 86_400_000
SUPPORTED_AGGREGATES = ("count", "max", "min", "sum")


def parse_time(value: Any, now_ms: int, where: str) -> int:
    """An epoch-ms integer, ``now``, or ``<n><unit>-ago`` / ``<n><unit>-ahead`` (units s, m, h, d, w)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text == "now":
            return now_ms
        match = _RELATIVE.match(text)
        if match and match.group(2) in _UNIT_NAMES:
            amount = int(match.group(1)) * _UNIT_MS[_UNIT_NAMES[match.group(2)]]
            return now_ms - amount if match.group(3) == "ago" else now_ms + amount
        if re.fullmatch(r"-?\d+", text):
            return int(text)
    raise ApiError(400, f"Invalid time for '{where}': {value!r}; use epoch milliseconds, 'now' or e.g. '2d-ago'")


@dataclass(frozen=True)
class Granularity:
    """A fixed-length granularity such as ``1h`` or ``15m``: its unit and total length in ms."""

    unit_ms: int
    length_ms: int

    def align(self, start: int) -> int:
        """``start`` rounded down to the granularity unit (weeks to Monday 00:00 UTC)."""
        offset = _MONDAY_OFFSET_MS if self.unit_ms == _UNIT_MS["w"] else 0
        return (start + offset) // self.unit_ms * self.unit_ms - offset


def parse_granularity(text: Any) -> Granularity:
    if not isinstance(text, str):
        raise ApiError(400, "'granularity' is required with aggregates, for example '1h'")
    match = _GRANULARITY.match(text.strip().lower())
    if not match:
        raise ApiError(400, f"Invalid granularity: {text!r}")
    amount = int(match.group(1) or 1)
    unit = match.group(2)
    if unit in _CALENDAR:
        raise ApiError(400, f"Calendar granularity {text!r} is not supported by the emulator; use s, m, h, d or w")
    if unit not in _UNIT_NAMES or amount < 1:
        raise ApiError(400, f"Invalid granularity: {text!r}")
    unit_ms = _UNIT_MS[_UNIT_NAMES[unit]]
    return Granularity(unit_ms, amount * unit_ms)


def raw_page(
    series: Series, start: int, end: int, limit: int, after: int | None
) -> tuple[list[int], list[Value], int | None]:
    """Up to ``limit`` datapoints in ``[start, end)`` after timestamp ``after``; the third value continues."""
    low_bound = start if after is None else max(start, after + 1)
    if low_bound >= end:
        return [], [], None
    stamps, values = series.sorted_points()
    low, high = series.index_range(low_bound, end)
    stop = min(high, low + limit)
    page_stamps, page_values = stamps[low:stop], values[low:stop]
    more = stop < high and bool(page_stamps)
    return page_stamps, page_values, page_stamps[-1] if more else None


def outside_points(series: Series, start: int, end: int) -> tuple[tuple[int, Value] | None, tuple[int, Value] | None]:
    """The last datapoint before ``start`` and the first at or after ``end``."""
    stamps, values = series.sorted_points()
    low, high = series.index_range(start, end)
    before = (stamps[low - 1], values[low - 1]) if low > 0 else None
    after = (stamps[high], values[high]) if high < len(stamps) else None
    return before, after


def aggregate_page(
    series: Series,
    start: int,
    end: int,
    granularity: Granularity,
    aggregates: list[str],
    limit: int,
    after: int | None,
) -> tuple[list[dict[str, Any]], int | None]:
    """Up to ``limit`` non-empty buckets (after bucket ``after``), each ``{"timestamp", <aggregate>: value}``."""
    aligned = granularity.align(start)
    low_bound = aligned if after is None else max(aligned, after + granularity.length_ms)
    stamps, values = series.sorted_points()
    low, high = series.index_range(low_bound, end)
    buckets: list[dict[str, Any]] = []
    index = low
    while index < high:
        bucket = aligned + (stamps[index] - aligned) // granularity.length_ms * granularity.length_ms
        stop = series.index_range(bucket, min(bucket + granularity.length_ms, end))[1]
        if len(buckets) == limit:
            return buckets, buckets[-1]["timestamp"]
        buckets.append({"timestamp": bucket, **_summarise(values[index:stop], aggregates)})
        index = stop
    return buckets, None


def _summarise(values: list[Value], aggregates: list[str]) -> dict[str, Any]:
    numbers = [float(value) for value in values]
    finite = [number for number in numbers if not math.isnan(number)]
    result: dict[str, Any] = {}
    for name in aggregates:
        if name == "count":
            result[name] = len(numbers)
        elif name == "sum":
            result[name] = math.fsum(finite)
        elif name == "min" and finite:
            result[name] = min(finite)
        elif name == "max" and finite:
            result[name] = max(finite)
    return result


def check_aggregates(value: Any, where: str) -> list[str]:
    """The requested aggregates; the ones the emulator does not compute are a clear 400."""
    if not isinstance(value, list) or not value or not all(isinstance(name, str) for name in value):
        raise ApiError(400, f"'{where}' must be a non-empty list of aggregate names")
    if len(set(value)) != len(value):
        raise ApiError(400, f"'{where}' must not contain duplicates")
    unsupported = [name for name in value if name not in SUPPORTED_AGGREGATES]
    if unsupported:
        raise ApiError(
            400,
            f"Aggregates {', '.join(unsupported)} are not supported by the emulator "
            f"(supported: {', '.join(SUPPORTED_AGGREGATES)})",
        )
    return list(value)
