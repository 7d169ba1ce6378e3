"""The datapoint endpoints: insert, retrieve (JSON or protobuf), latest and delete ranges.

Raw reads return at most 100,000 points per item and aggregates 10,000 buckets, with ``nextCursor`` while more
remain. The SDK asks for protobuf (``accept: application/protobuf``) and gets it; other clients get JSON.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cdf_emulator.bodies import check_fields, check_items
from cdf_emulator.datapoints import (
    MAX_TIMESTAMP,
    MIN_TIMESTAMP,
    Granularity,
    aggregate_page,
    check_aggregates,
    outside_points,
    parse_granularity,
    parse_time,
    raw_page,
)
from cdf_emulator.datapoints_codec import DatapointsResult, to_json, to_protobuf, wants_protobuf
from cdf_emulator.errors import ApiError
from cdf_emulator.opaque_cursor import decode_cursor, encode_cursor
from cdf_emulator.routing import Request, Response, Router
from cdf_emulator.timeseries_store import Series, TimeSeriesStore, Value
from cdf_emulator.ts_ids import ID_KEYS, parse_identifier
from cdf_emulator.validators import boolean, integer

if TYPE_CHECKING:
    from cdf_emulator.state import ProjectState

RAW_LIMIT = 100_000
AGGREGATE_LIMIT = 10_000
INSERT_LIMIT = 100_000
MAX_STRING_VALUE = 1023
_NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_QUERY_FIELDS = ("start", "end", "limit", "aggregates", "granularity", "includeOutsidePoints", "timeZone")
_ITEM_FIELDS = (
    *ID_KEYS, *_QUERY_FIELDS, "cursor", "targetUnit", "targetUnitSystem", "includeStatus", "ignoreBadDataPoints",
    "treatUncertainAsBad",
)  # fmt: skip
_UTC_ZONES = {"utc", "z", "+00:00", "-00:00", "etc/utc", "gmt"}


@dataclass
class _Query:
    identifier: dict[str, Any]
    start: int
    end: int
    limit: int
    aggregates: list[str] | None
    granularity: Granularity | None
    outside: bool
    cursor: str | None


def register(router: Router, state: ProjectState) -> None:
    """Add the ``/timeseries/data*`` endpoints to ``router``."""
    store = state.timeseries

    def insert(request: Request) -> dict[str, Any]:
        body = check_fields(request.body(), ("items",), ("items",))
        items = check_items(body, 10_000)
        identifiers = [parse_identifier(item, f"items[{i}]") for i, item in enumerate(items)]
        with store.lock:
            found = store.resolve(identifiers)
            batches = []
            total = 0
            for index, (item, series) in enumerate(zip(items, found, strict=True)):
                check_fields(item, (*ID_KEYS, "datapoints"), ("datapoints",), where=f"items[{index}]")
                assert series is not None  # resolve() raised for unknown ones
                points = _datapoints(item["datapoints"], series, f"items[{index}].datapoints")
                total += len(points)
                batches.append((series, points))
            if total > INSERT_LIMIT:
                raise ApiError(400, f"At most {INSERT_LIMIT} datapoints per request, got {total}")
            store.insert(batches)
        return {}

    def retrieve(request: Request) -> Response:
        body = check_fields(request.body(), ("items", *_QUERY_FIELDS, "ignoreUnknownIds"), ("items",))
        ignore = boolean(body.get("ignoreUnknownIds", False), "ignoreUnknownIds")
        now = store.clock.now_ms()
        queries = [_query(item, body, now, f"items[{i}]") for i, item in enumerate(check_items(body, 100))]
        with store.lock:
            found = store.resolve([query.identifier for query in queries], ignore)
            results = [_answer(q, series) for q, series in zip(queries, found, strict=True) if series is not None]
        if wants_protobuf(request.headers.get("accept", "")):
            return Response(body=to_protobuf(results), content_type="application/protobuf")
        return Response(body=to_json(results))

    def latest(request: Request) -> dict[str, Any]:
        body = check_fields(request.body(), ("items", "ignoreUnknownIds"), ("items",))
        ignore = boolean(body.get("ignoreUnknownIds", False), "ignoreUnknownIds")
        now = store.clock.now_ms()
        items = check_items(body, 100)
        befores = [_latest_before(item, now, f"items[{i}]") for i, item in enumerate(items)]
        identifiers = [parse_identifier(item, f"items[{i}]") for i, item in enumerate(items)]
        with store.lock:
            found = store.resolve(identifiers, ignore)
            results = [
                _latest(series, before) for series, before in zip(found, befores, strict=True) if series is not None
            ]
        return to_json(results)

    def delete(request: Request) -> dict[str, Any]:
        body = check_fields(request.body(), ("items",), ("items",))
        items = check_items(body, 10_000)
        ranges = []
        for index, item in enumerate(items):
            where = f"items[{index}]"
            check_fields(item, (*ID_KEYS, "inclusiveBegin", "exclusiveEnd"), ("inclusiveBegin",), where=where)
            begin = integer(MIN_TIMESTAMP, MAX_TIMESTAMP)(item["inclusiveBegin"], f"{where}.inclusiveBegin")
            end = item.get("exclusiveEnd", begin + 1)
            ranges.append((parse_identifier(item, where), begin, integer(MIN_TIMESTAMP)(end, f"{where}.exclusiveEnd")))
        with store.lock:
            found = store.resolve([identifier for identifier, _, _ in ranges])
            store.erase([(s, begin, end) for s, (_, begin, end) in zip(found, ranges, strict=True) if s is not None])
        return {}

    router.add("POST", "/timeseries/data", insert)
    router.add("POST", "/timeseries/data/list", retrieve)
    router.add("POST", "/timeseries/data/latest", latest)
    router.add("POST", "/timeseries/data/delete", delete)


def _datapoints(points: Any, series: Series, where: str) -> list[tuple[int, Value]]:
    if not isinstance(points, list):
        raise ApiError(400, f"Invalid type for field '{where}': expected an array")
    checked: list[tuple[int, Value]] = []
    for index, point in enumerate(points):
        if not isinstance(point, dict) or "timestamp" not in point or "value" not in point:
            raise ApiError(400, f"'{where}[{index}]' must be an object with 'timestamp' and 'value'")
        if len(point) > 2:
            _check_status(point, f"{where}[{index}]")
        stamp = point["timestamp"]
        if isinstance(stamp, bool) or not isinstance(stamp, int) or not MIN_TIMESTAMP <= stamp <= MAX_TIMESTAMP:
            raise ApiError(400, f"'{where}[{index}].timestamp' must be an integer between 1900 and 2099 in epoch ms")
        checked.append((stamp, _value(point["value"], series.is_string, f"{where}[{index}].value")))
    return checked


def _value(value: Any, is_string: bool, where: str) -> Value:
    if is_string:
        if not isinstance(value, str):
            raise ApiError(400, f"'{where}': a string time series takes string values, got {value!r}")
        if len(value) > MAX_STRING_VALUE:
            raise ApiError(400, f"'{where}' is longer than {MAX_STRING_VALUE} characters")
        return value
    if isinstance(value, str) and value in _NONFINITE:
        return _NONFINITE[value]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ApiError(400, f"'{where}': a numeric time series takes numeric values, got {value!r}")
    return float(value)


def _check_status(point: dict[str, Any], where: str) -> None:
    """Status codes are not stored by the emulator, so only an explicit Good status is accepted."""
    for key in point:
        if key not in ("timestamp", "value", "status"):
            raise ApiError(400, f"Unrecognized field '{where}.{key}'")
    status = point.get("status")
    if status is None or status in ({}, {"code": 0}, {"symbol": "Good"}, {"code": 0, "symbol": "Good"}):
        return
    raise ApiError(400, f"'{where}.status': only Good datapoints are supported by the emulator")


def _query(item: Any, defaults: dict[str, Any], now: int, where: str) -> _Query:
    check_fields(item, _ITEM_FIELDS, where=where)
    merged = {**{key: defaults[key] for key in _QUERY_FIELDS if key in defaults}, **item}
    for key in ("targetUnit", "targetUnitSystem"):
        if merged.get(key) is not None:
            raise ApiError(400, f"'{where}.{key}': unit conversion is not supported by the emulator")
    for key in ("includeStatus", "ignoreBadDataPoints", "treatUncertainAsBad", "includeOutsidePoints"):
        if merged.get(key) is not None:
            boolean(merged[key], f"{where}.{key}")
    aggregates = None
    if merged.get("aggregates") is not None:
        aggregates = check_aggregates(merged["aggregates"], f"{where}.aggregates")
    granularity = None
    if aggregates is not None:
        granularity = parse_granularity(merged.get("granularity"))
        zone = merged.get("timeZone")
        if zone is not None and str(zone).lower() not in _UTC_ZONES:
            raise ApiError(400, f"'{where}.timeZone': only UTC aggregates are supported by the emulator")
    elif merged.get("granularity") is not None:
        raise ApiError(400, f"'{where}.granularity' requires 'aggregates'")
    outside = bool(merged.get("includeOutsidePoints", False))
    if outside and aggregates is not None:
        raise ApiError(400, f"'{where}.includeOutsidePoints' is not supported for aggregates")
    maximum = RAW_LIMIT if aggregates is None else AGGREGATE_LIMIT
    limit = merged.get("limit", 100)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 0 <= limit <= maximum:
        raise ApiError(400, f"'{where}.limit' must be an integer between 0 and {maximum}, got {limit!r}")
    cursor = merged.get("cursor")
    if cursor is not None and not isinstance(cursor, str):
        raise ApiError(400, f"Invalid type for field '{where}.cursor': expected a string")
    return _Query(
        identifier=parse_identifier(item, where),
        start=parse_time(merged.get("start", 0), now, f"{where}.start"),
        end=parse_time(merged.get("end", "now"), now, f"{where}.end"),
        limit=limit,
        aggregates=aggregates,
        granularity=granularity,
        outside=outside,
        cursor=cursor or None,
    )


def _answer(query: _Query, series: Series) -> DatapointsResult:
    after = _cursor_position(query.cursor, series)
    if query.aggregates is not None and query.granularity is not None:
        if series.is_string:
            raise ApiError(400, "Aggregates are not supported for string time series")
        buckets, last = aggregate_page(
            series, query.start, query.end, query.granularity, query.aggregates, query.limit, after
        )
        return DatapointsResult(series.meta, [], [], buckets, _next_cursor(series, last))
    stamps, values, last = raw_page(series, query.start, query.end, query.limit, after)
    if query.outside:
        before, following = outside_points(series, query.start, query.end)
        if before is not None and after is None:
            stamps, values = [before[0], *stamps], [before[1], *values]
        if following is not None and last is None:
            stamps, values = [*stamps, following[0]], [*values, following[1]]
    return DatapointsResult(series.meta, stamps, values, None, _next_cursor(series, last))


def _cursor_position(cursor: str | None, series: Series) -> int | None:
    if cursor is None:
        return None
    state = decode_cursor("datapoints", cursor)
    after = state.get("after")
    if state.get("series") != series.meta["id"] or isinstance(after, bool) or not isinstance(after, int):
        raise ApiError(400, f"Invalid cursor: {cursor[:64]}")
    return after


def _next_cursor(series: Series, last: int | None) -> str | None:
    return None if last is None else encode_cursor("datapoints", {"series": series.meta["id"], "after": last})


def _latest_before(item: Any, now: int, where: str) -> int:
    check_fields(item, (*ID_KEYS, "before", "targetUnit", "targetUnitSystem", "includeStatus", "ignoreBadDataPoints",
                        "treatUncertainAsBad"), where=where)  # fmt: skip
    for key in ("targetUnit", "targetUnitSystem"):
        if item.get(key) is not None:
            raise ApiError(400, f"'{where}.{key}': unit conversion is not supported by the emulator")
    return parse_time(item.get("before", "now"), now, f"{where}.before")


def _latest(series: Series, before: int) -> DatapointsResult:
    stamps, values = series.sorted_points()
    _, high = series.index_range(MIN_TIMESTAMP, before)
    if high == 0:
        return DatapointsResult(series.meta, [], [])
    return DatapointsResult(series.meta, [stamps[high - 1]], [values[high - 1]])


__all__ = ["TimeSeriesStore", "register"]
