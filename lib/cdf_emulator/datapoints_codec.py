"""Datapoint answers in JSON or in protobuf (the SDK's own generated classes, as real CDF sends them)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from cognite.client._proto.data_point_list_response_pb2 import (
    TIMESERIES_TYPE_NUMERIC,
    TIMESERIES_TYPE_STRING,
    DataPointListItem,
    DataPointListResponse,
)

from cdf_emulator.timeseries_store import Value

PROTOBUF = "application/protobuf"
_HEADER_FIELDS = ("id", "externalId", "instanceId", "isString", "isStep", "type", "unit", "unitExternalId")


@dataclass
class DatapointsResult:
    """One item of a datapoints answer: the series' metadata, and raw points or aggregate buckets."""

    meta: dict[str, Any]
    timestamps: list[int]
    values: list[Value]
    buckets: list[dict[str, Any]] | None = None
    next_cursor: str | None = None


def wants_protobuf(accept: str) -> bool:
    return PROTOBUF in accept.lower()


def to_json(results: list[DatapointsResult]) -> dict[str, Any]:
    return {"items": [_item_json(result) for result in results]}


def _item_json(result: DatapointsResult) -> dict[str, Any]:
    item = {key: result.meta[key] for key in _HEADER_FIELDS if result.meta.get(key) is not None}
    if result.buckets is not None:
        item["datapoints"] = result.buckets
    else:
        item["datapoints"] = [
            {"timestamp": stamp, "value": _json_value(value)}
            for stamp, value in zip(result.timestamps, result.values, strict=True)
        ]
    if result.next_cursor:
        item["nextCursor"] = result.next_cursor
    return item


def _json_value(value: Value) -> Value:
    """JSON has no NaN or infinity; CDF sends them as the strings ``NaN``, ``Infinity`` and ``-Infinity``."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value


def to_protobuf(results: list[DatapointsResult]) -> bytes:
    """A serialized ``DataPointListResponse`` (package ``com.cognite.v1.timeseries.proto``)."""
    response = DataPointListResponse()
    for result in results:
        item = response.items.add()
        _fill_header(item, result)
        if result.buckets is not None:
            item.aggregateDatapoints.SetInParent()
            for bucket in result.buckets:
                item.aggregateDatapoints.datapoints.add(**bucket)
        elif result.meta["isString"]:
            item.stringDatapoints.SetInParent()
            add_string = item.stringDatapoints.datapoints.add
            for stamp, value in zip(result.timestamps, result.values, strict=True):
                add_string(timestamp=stamp, value=value)
        else:
            item.numericDatapoints.SetInParent()
            add_number = item.numericDatapoints.datapoints.add
            for stamp, value in zip(result.timestamps, result.values, strict=True):
                add_number(timestamp=stamp, value=value)
    return bytes(response.SerializeToString())


def _fill_header(item: DataPointListItem, result: DatapointsResult) -> None:
    meta = result.meta
    item.id = meta["id"]
    item.isString = meta["isString"]
    item.isStep = meta.get("isStep", False)
    item.type = TIMESERIES_TYPE_STRING if meta["isString"] else TIMESERIES_TYPE_NUMERIC
    if meta.get("externalId") is not None:
        item.externalId = meta["externalId"]
    if meta.get("instanceId") is not None:
        item.instanceId.space = meta["instanceId"]["space"]
        item.instanceId.externalId = meta["instanceId"]["externalId"]
    if meta.get("unit") is not None:
        item.unit = meta["unit"]
    if meta.get("unitExternalId") is not None:
        item.unitExternalId = meta["unitExternalId"]
    if result.next_cursor:
        item.nextCursor = result.next_cursor
