"""Time series through the real cognite-sdk: metadata, datapoints in protobuf and JSON, paging, errors."""

from __future__ import annotations

import math
from typing import Any

import pytest
from cognite.client._proto.data_point_list_response_pb2 import DataPointListResponse
from cognite.client.data_classes import TimeSeriesUpdate, TimeSeriesWrite
from cognite.client.data_classes.data_modeling import NodeId
from cognite.client.exceptions import CogniteAPIError, CogniteDuplicatedError, CogniteNotFoundError

from cdf_emulator import Emulator
from tests.emulator.plain_http import assert_cdf_error, send

T0 = 1_700_000_000_000  # 2023-11-14T22:13:20Z
HOUR = 3_600_000


def test_create_list_retrieve_and_update_metadata(client: Any) -> None:
    created = client.time_series.create(
        [
            TimeSeriesWrite(external_id="temp", name="Temperature", unit="C", metadata={"site": "oslo", "old": "x"}),
            TimeSeriesWrite(external_id="state", is_string=True, is_step=True),
        ]
    )

    updated = client.time_series.update(
        TimeSeriesUpdate(external_id="temp").metadata.add({"area": "a1"}).metadata.remove(["old"]).unit.set("K")
    )
    replaced = client.time_series.update(TimeSeriesUpdate(external_id="state").metadata.set({"only": "this"}))

    assert [(ts.external_id, ts.is_string, ts.is_step) for ts in created] == [
        ("temp", False, False),
        ("state", True, True),
    ]
    assert updated.metadata == {"site": "oslo", "area": "a1"}
    assert (updated.unit, updated.name) == ("K", "Temperature")
    assert updated.last_updated_time >= updated.created_time
    assert replaced.metadata == {"only": "this"}
    assert client.time_series.retrieve(external_id="temp").metadata == {"site": "oslo", "area": "a1"}
    assert client.time_series.retrieve(id=created[1].id).external_id == "state"
    assert client.time_series.retrieve(external_id="missing") is None
    assert [ts.external_id for ts in client.time_series.list(limit=None)] == ["temp", "state"]
    assert [ts.external_id for ts in client.time_series.list(is_string=True)] == ["state"]
    assert [ts.external_id for ts in client.time_series.list(metadata={"site": "oslo"})] == ["temp"]
    assert [ts.external_id for ts in client.time_series.list(external_id_prefix="te")] == ["temp"]
    some = client.time_series.retrieve_multiple(external_ids=["state", "missing"], ignore_unknown_ids=True)
    assert [ts.external_id for ts in some] == ["state"]


def test_list_pages_and_partitions(client: Any) -> None:
    client.time_series.create([TimeSeriesWrite(external_id=f"ts-{i:04d}") for i in range(1_100)])
    client.time_series.create([TimeSeriesWrite(external_id=f"ts-{i:04d}") for i in range(1_100, 1_234)])

    listed = client.time_series.list(limit=None)
    partitioned = client.time_series.list(limit=None, partitions=3)

    expected = [f"ts-{i:04d}" for i in range(1_234)]  # the SDK creates chunks concurrently: ids are not in xid order
    assert [ts.id for ts in listed] == sorted(ts.id for ts in listed)
    assert sorted(ts.external_id for ts in listed) == expected
    assert sorted(ts.external_id for ts in partitioned) == expected


def test_taken_external_id_is_409_and_update_of_unknown_is_not_found(client: Any) -> None:
    client.time_series.create(TimeSeriesWrite(external_id="temp"))

    with pytest.raises(CogniteDuplicatedError) as taken:
        client.time_series.create(TimeSeriesWrite(external_id="temp"))
    with pytest.raises(CogniteNotFoundError) as unknown:
        client.time_series.update(TimeSeriesUpdate(external_id="nope").name.set("x"))

    assert taken.value.duplicated == [{"externalId": "temp"}]
    assert unknown.value.code == 400


def test_numeric_datapoints_round_trip_with_start_inclusive_end_exclusive(client: Any) -> None:
    client.time_series.create(TimeSeriesWrite(external_id="temp"))
    points = [(T0 + i * 1_000, i * 0.5 - 3) for i in range(1_000)]
    client.time_series.data.insert(points, external_id="temp")

    everything = client.time_series.data.retrieve(external_id="temp", start=T0, end=T0 + 1_000_000)
    window = client.time_series.data.retrieve(external_id="temp", start=T0 + 10_000, end=T0 + 15_000)
    outside = client.time_series.data.retrieve(
        external_id="temp", start=T0 + 10_000, end=T0 + 15_000, include_outside_points=True
    )

    assert list(zip(everything.timestamp, everything.value, strict=True)) == points
    assert window.timestamp == [T0 + i * 1_000 for i in range(10, 15)]
    assert window.value == [i * 0.5 - 3 for i in range(10, 15)]
    assert outside.timestamp == [T0 + i * 1_000 for i in range(9, 16)]


def _record_protobuf_pages(emulator: Emulator) -> list[tuple[int, bool]]:
    """(points, has nextCursor) of every protobuf datapoints item the emulator answers from now on."""
    pages: list[tuple[int, bool]] = []
    validate = emulator.on_response

    def record(method: str, path: str, response: Any) -> None:
        if path.endswith("/timeseries/data/list") and response.content_type == "application/protobuf":
            decoded = DataPointListResponse()
            decoded.MergeFromString(response.body)
            pages.extend((len(item.numericDatapoints.datapoints), bool(item.nextCursor)) for item in decoded.items)
        if validate is not None:
            validate(method, path, response)

    emulator.on_response = record
    return pages


def test_more_than_100k_points_page_through_the_sdk(client: Any, emulator: Emulator) -> None:
    client.time_series.create(TimeSeriesWrite(external_id="dense"))
    count = 120_003
    client.time_series.data.insert([(T0 + i, float(i)) for i in range(count)], external_id="dense")
    pages = _record_protobuf_pages(emulator)

    got = client.time_series.data.retrieve_arrays(external_id="dense", start=T0, end=T0 + count)
    limited = client.time_series.data.retrieve_arrays(external_id="dense", start=T0, end=T0 + count, limit=100_001)

    assert got.timestamp.astype("datetime64[ms]").astype("int64").tolist() == [T0 + i for i in range(count)]
    assert got.value.tolist() == [float(i) for i in range(count)]
    assert limited.value.tolist() == [float(i) for i in range(100_001)]
    assert (100_000, True) in pages  # a full page that the SDK had to continue with the cursor


def test_limit_and_next_cursor_in_json(client: Any, emulator: Emulator) -> None:
    client.time_series.create(TimeSeriesWrite(external_id="dense"))
    client.time_series.data.insert([(T0 + i, float(i)) for i in range(2_050)], external_id="dense")
    url = f"/api/v1/projects/{emulator.project}/timeseries/data/list"
    query = {"externalId": "dense", "start": T0 + 10, "end": T0 + 5_000, "limit": 1_000}

    first = client.post(url, json={"items": [query]}).json()["items"][0]
    second = client.post(url, json={"items": [{**query, "cursor": first["nextCursor"]}]}).json()["items"][0]
    third = client.post(url, json={"items": [{**query, "cursor": second["nextCursor"]}]}).json()["items"][0]

    assert [dp["timestamp"] for dp in first["datapoints"]] == [T0 + 10 + i for i in range(1_000)]
    assert first["datapoints"][-1] == {"timestamp": T0 + 1_009, "value": 1_009.0}
    assert [dp["timestamp"] for dp in second["datapoints"]] == [T0 + 1_010 + i for i in range(1_000)]
    assert [dp["timestamp"] for dp in third["datapoints"]] == [T0 + 2_010 + i for i in range(40)]
    assert "nextCursor" not in third
    assert (first["isString"], first["type"], first["externalId"]) == (False, "numeric", "dense")


def test_string_series_and_latest_and_delete_range(client: Any) -> None:
    client.time_series.create([TimeSeriesWrite(external_id="state", is_string=True), TimeSeriesWrite(external_id="v")])
    client.time_series.data.insert_multiple(
        [
            {"external_id": "state", "datapoints": [(T0, "on"), (T0 + 1, "off 'quoted' ☃"), (T0 + 2, "")]},
            {"external_id": "v", "datapoints": [(T0 + i, float(i)) for i in range(10)]},
        ]
    )
    client.time_series.data.delete_range(start=T0 + 3, end=T0 + 7, external_id="v")

    strings = client.time_series.data.retrieve(external_id="state", start=T0, end=T0 + 10)
    latest = client.time_series.data.retrieve_latest(external_id=["state", "v"])
    latest_before = client.time_series.data.retrieve_latest(external_id="v", before=T0 + 5)
    remaining = client.time_series.data.retrieve(external_id="v", start=T0, end=T0 + 10)

    assert strings.is_string and strings.value == ["on", "off 'quoted' ☃", ""]
    assert [dps.dump()["datapoints"] for dps in latest] == [
        [{"timestamp": T0 + 2, "value": ""}],
        [{"timestamp": T0 + 9, "value": 9.0}],
    ]
    assert latest_before.dump()["datapoints"] == [{"timestamp": T0 + 2, "value": 2.0}]
    assert remaining.timestamp == [T0 + i for i in (0, 1, 2, 7, 8, 9)]


def test_instance_id_series(client: Any, emulator: Emulator) -> None:
    emulator.state.timeseries.upsert_instance_series("plant", "pump-1-pressure", name="Pressure")
    node = NodeId("plant", "pump-1-pressure")

    client.time_series.data.insert([(T0, 1.5), (T0 + 60_000, math.inf)], instance_id=node)
    got = client.time_series.data.retrieve(instance_id=node, start=T0, end=T0 + HOUR)

    assert got.instance_id == node
    assert got.timestamp == [T0, T0 + 60_000] and got.value == [1.5, math.inf]
    assert client.time_series.retrieve(instance_id=node).name == "Pressure"


def test_count_sum_min_max_aggregates(client: Any) -> None:
    client.time_series.create(TimeSeriesWrite(external_id="v"))
    start = T0 - T0 % HOUR
    client.time_series.data.insert([(start + i * 60_000, float(i)) for i in range(150)], external_id="v")

    hourly = client.time_series.data.retrieve(
        external_id="v", start=start, end=start + 3 * HOUR, aggregates=["count", "sum", "min", "max"], granularity="1h"
    )

    assert hourly.timestamp == [start, start + HOUR, start + 2 * HOUR]
    assert hourly.count == [60, 60, 30]
    assert hourly.sum == [float(sum(range(60))), float(sum(range(60, 120))), float(sum(range(120, 150)))]
    assert (hourly.min, hourly.max) == ([0.0, 60.0, 120.0], [59.0, 119.0, 149.0])
    with pytest.raises(CogniteAPIError) as unsupported:
        client.time_series.data.retrieve(
            external_id="v", start=start, end=start + HOUR, aggregates="average", granularity="1h"
        )
    assert unsupported.value.code == 400 and "average" in unsupported.value.message


def test_unknown_series_in_datapoint_requests(client: Any) -> None:
    client.time_series.create(TimeSeriesWrite(external_id="v"))

    with pytest.raises(CogniteNotFoundError) as on_read:
        client.time_series.data.retrieve(external_id=["v", "nope"], start=T0, end=T0 + 1)
    with pytest.raises(CogniteNotFoundError) as on_write:
        client.time_series.data.insert([(T0, 1.0)], external_id="nope")

    assert on_read.value.missing == [{"external_id": "nope"}]
    assert on_write.value.code == 400
    assert client.time_series.data.retrieve(external_id="nope", start=T0, end=T0 + 1, ignore_unknown_ids=True) is None


def test_deleted_series_loses_its_datapoints(client: Any) -> None:
    client.time_series.create(TimeSeriesWrite(external_id="v"))
    client.time_series.data.insert([(T0, 1.0)], external_id="v")
    client.time_series.delete(external_id="v")
    client.time_series.create(TimeSeriesWrite(external_id="v"))

    assert client.time_series.data.retrieve(external_id="v", start=T0, end=T0 + 1).value == []


def _list(**query: Any) -> dict[str, Any]:
    return {"items": [{"externalId": "v", "start": T0, "end": T0 + 10, **query}]}


def _insert(*points: Any, xid: str = "v") -> dict[str, Any]:
    return {"items": [{"externalId": xid, "datapoints": list(points)}]}


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/timeseries/data/list", _list(limit=100_001), 400),
        ("/timeseries/data/list", _list(limit=-1), 400),
        ("/timeseries/data/list", _list(aggregates=["count"], granularity="1h", limit=10_001), 400),
        ("/timeseries/data/list", _list(colour="red"), 400),
        ("/timeseries/data/list", _list(start="yesterday"), 400),
        ("/timeseries/data/list", _list(aggregates=["count"]), 400),
        ("/timeseries/data/list", _list(aggregates=["count"], granularity="1fortnight"), 400),
        ("/timeseries/data/list", _list(granularity="1h"), 400),
        ("/timeseries/data/list", _list(cursor="not-a-cursor"), 400),
        ("/timeseries/data/list", _list(targetUnit="temperature:deg_f"), 400),
        ("/timeseries/data/list", {"items": [{"externalId": "nope"}]}, 400),
        ("/timeseries/data/list", {"items": [{"start": 0}]}, 400),
        ("/timeseries/data/list", {"items": [{"id": 1, "externalId": "v"}]}, 400),
        ("/timeseries/data/list", {"items": []}, 400),
        ("/timeseries/data/list", {"items": [{"instanceId": "plant:pump"}]}, 400),
        ("/timeseries/data/list", b"\x00\x01", 400),
        ("/timeseries/data", _insert({"timestamp": T0, "value": "high"}), 400),
        ("/timeseries/data", _insert({"timestamp": T0, "value": 1.0}, xid="s"), 400),
        ("/timeseries/data", _insert({"timestamp": 5_000_000_000_000, "value": 1.0}), 400),
        ("/timeseries/data", _insert({"timestamp": "now", "value": 1.0}), 400),
        ("/timeseries/data", _insert({"timestamp": T0}), 400),
        ("/timeseries/data", _insert({"timestamp": T0, "value": 1, "status": {"code": 2147483648}}), 400),
        ("/timeseries/data", {"items": [{"externalId": "v", "datapoints": "many"}]}, 400),
        ("/timeseries/data", _insert({"timestamp": T0, "value": 1.0}, xid="nope"), 400),
        ("/timeseries/data/delete", {"items": [{"externalId": "v"}]}, 400),
        ("/timeseries/data/latest", {"items": [{"externalId": "v", "before": "tomorrow"}]}, 400),
        ("/timeseries", {"items": [{"externalId": "new", "metadata": {"n": 1}}]}, 400),
        ("/timeseries", {"items": [{"externalId": "new", "unit": "u" * 33}]}, 400),
        ("/timeseries", {"items": [{"externalId": "x"}, {"externalId": "x"}]}, 422),
        ("/timeseries/byids", {"items": [{"externalId": "v"}, {"externalId": "v"}]}, 422),
        ("/timeseries/byids", {"items": [{"externalId": "nope"}]}, 400),
        ("/timeseries/list", {"limit": 1001}, 400),
        ("/timeseries/list", {"filter": {"colour": "red"}}, 400),
        ("/timeseries/list", {"advancedFilter": {"equals": {"property": ["nope"], "value": 1}}}, 400),
        ("/timeseries/list", {"partition": "4/3"}, 400),
        ("/timeseries/update", {"items": [{"externalId": "v", "update": {"isString": {"set": True}}}]}, 400),
        ("/timeseries/update", {"items": [{"externalId": "v", "update": {"metadata": {"set": {"k": 1}}}}]}, 400),
        ("/timeseries/delete", {"items": [{"instanceId": {"space": "s", "externalId": "x"}}]}, 400),
    ],
)
def test_bad_input_gets_a_cdf_error_never_a_500(
    client: Any, emulator: Emulator, path: str, body: Any, status: int
) -> None:
    client.time_series.create([TimeSeriesWrite(external_id="v"), TimeSeriesWrite(external_id="s", is_string=True)])

    answer_status, answer = send(emulator, "POST", path, body)

    assert_cdf_error(answer_status, answer, status)


def test_advanced_filter(client: Any, emulator: Emulator) -> None:
    client.time_series.create(
        [
            TimeSeriesWrite(external_id="a", metadata={"kind": "pump"}, unit="bar"),
            TimeSeriesWrite(external_id="b", metadata={"kind": "valve"}, unit="bar"),
            TimeSeriesWrite(external_id="c", metadata={"kind": "pump"}, unit="C"),
        ]
    )
    body = {
        "advancedFilter": {
            "and": [
                {"equals": {"property": ["metadata", "kind"], "value": "pump"}},
                {"not": {"in": {"property": ["unit"], "values": ["C"]}}},
            ]
        }
    }

    status, answer = send(emulator, "POST", "/timeseries/list", body)

    assert status == 200
    assert [item["externalId"] for item in answer["items"]] == ["a"]
