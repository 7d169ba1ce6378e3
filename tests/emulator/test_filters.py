"""The filter language: each filter against stored records (a fake schema), and 400s through the SDK."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from cognite.client.data_classes import filters as f

from cdf_emulator.errors import ApiError
from cdf_emulator.filters import FilterContext, compile_filter
from cdf_emulator.records import Record
from tests.emulator.instance_support import ITEM, SPACE, api_error, build_model, item

C = ("sp", "C")
VIEW_REF = {"type": "view", "space": "sp", "externalId": "V", "version": "1"}
TYPES = {
    "name": {"type": "text", "list": False},
    "n": {"type": "int32", "list": False},
    "at": {"type": "timestamp", "list": False},
    "tags": {"type": "text", "list": True},
    "ref": {"type": "direct", "list": False},
    "start": {"type": "int64", "list": False},
    "end": {"type": "int64", "list": False},
}


class FakeSchema:
    """One container ``sp:C`` and one view ``sp:V/1`` mapping every property of it."""

    container: ClassVar[dict[str, Any]] = {
        "space": "sp",
        "externalId": "C",
        "properties": {k: {"type": t} for k, t in TYPES.items()},
    }
    view: ClassVar[dict[str, Any]] = {
        "space": "sp",
        "externalId": "V",
        "version": "1",
        "mappedContainers": [{"type": "container", "space": "sp", "externalId": "C"}],
        "properties": {
            name: {
                "container": {"type": "container", "space": "sp", "externalId": "C"},
                "containerPropertyIdentifier": name,
                "type": t,
            }
            for name, t in TYPES.items()
        },
    }

    def get_view(self, space: str, external_id: str, version: str | None = None) -> dict[str, Any] | None:
        return self.view if (space, external_id, version) == ("sp", "V", "1") else None

    def get_container(self, space: str, external_id: str) -> dict[str, Any] | None:
        return self.container if (space, external_id) == C else None

    def view_containers(self, view: dict[str, Any]) -> list[tuple[str, str]]:
        return [C]


def node(xid: str, space: str = "sp", **values: Any) -> Record:
    return Record("node", (space, xid), 1, 10, 20, {C: values} if values else {})


RECORDS = [
    node(
        "a",
        name="alpha",
        n=1,
        at="2020-01-01T00:00:00.000+00:00",
        tags=["x", "y"],
        ref={"space": "sp", "externalId": "b"},
    ),
    node("b", name="beta", n=5, at="2021-06-01T12:00:00.000+00:00", tags=["y"], start=1, end=5),
    node("c", name="alps", n=9, tags=[], start=10),
    node("d", space="other"),
    Record("edge", ("sp", "e"), 1, 10, 20, {}, ("sp", "T"), ("sp", "a"), ("sp", "b")),
]
LOOKUP = {record.key: record for record in RECORDS}


def matching(spec: dict[str, Any], parameters: dict[str, Any] | None = None) -> list[str]:
    ctx = FilterContext(FakeSchema(), parameters or {}, lookup=LOOKUP.get)
    predicate = compile_filter(spec, ctx)
    return [record.key[1] for record in RECORDS if predicate(record)]


def prop(name: str) -> list[str]:
    return ["sp", "V/1", name]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"matchAll": {}}, ["a", "b", "c", "d", "e"]),
        ({"not": {"matchAll": {}}}, []),
        ({"hasData": [VIEW_REF]}, ["a", "b", "c"]),
        ({"hasData": [{"type": "container", "space": "sp", "externalId": "C"}]}, ["a", "b", "c"]),
        ({"equals": {"property": ["node", "space"], "value": "other"}}, ["d"]),
        ({"equals": {"property": ["node", "externalId"], "value": "b"}}, ["b"]),
        ({"equals": {"property": ["edge", "type"], "value": {"space": "sp", "externalId": "T"}}}, ["e"]),
        ({"equals": {"property": ["edge", "startNode"], "value": {"space": "sp", "externalId": "a"}}}, ["e"]),
        ({"equals": {"property": prop("name"), "value": "beta"}}, ["b"]),
        ({"equals": {"property": ["sp", "C", "n"], "value": 9}}, ["c"]),
        ({"equals": {"property": prop("ref"), "value": {"space": "sp", "externalId": "b"}}}, ["a"]),
        ({"in": {"property": prop("n"), "values": [1, 9, 100]}}, ["a", "c"]),
        ({"range": {"property": prop("n"), "gt": 1, "lte": 9}}, ["b", "c"]),
        ({"range": {"property": prop("at"), "gte": "2021-01-01T00:00:00Z"}}, ["b"]),
        ({"range": {"property": ["node", "createdTime"], "lt": 11}}, ["a", "b", "c", "d", "e"]),
        ({"prefix": {"property": prop("name"), "value": "alp"}}, ["a", "c"]),
        ({"prefix": {"property": ["node", "externalId"], "value": "e"}}, ["e"]),
        ({"exists": {"property": prop("at")}}, ["a", "b"]),
        ({"containsAny": {"property": prop("tags"), "values": ["x", "z"]}}, ["a"]),
        ({"containsAll": {"property": prop("tags"), "values": ["y"]}}, ["a", "b"]),
        ({"and": [{"hasData": [VIEW_REF]}, {"not": {"prefix": {"property": prop("name"), "value": "al"}}}]}, ["b"]),
        (
            {"or": [{"equals": {"property": prop("n"), "value": 1}}, {"equals": {"property": prop("n"), "value": 9}}]},
            ["a", "c"],
        ),
        (
            {"instanceReferences": [{"space": "sp", "externalId": "c"}, {"space": "other", "externalId": "d"}]},
            ["c", "d"],
        ),
        ({"nested": {"scope": prop("ref"), "filter": {"equals": {"property": prop("name"), "value": "beta"}}}}, ["a"]),
        ({"overlaps": {"startProperty": prop("start"), "endProperty": prop("end"), "gte": 4, "lte": 12}}, ["b", "c"]),
    ],
)
def test_filter_matches(spec: dict[str, Any], expected: list[str]) -> None:
    assert matching(spec) == expected


def test_parameters_are_substituted() -> None:
    spec = {"equals": {"property": prop("name"), "value": {"parameter": "who"}}}
    assert matching(spec, {"who": "alps"}) == ["c"]


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ({"fuzzy": {}}, "Unknown filter type 'fuzzy'"),
        ({"equals": {}, "in": {}}, "exactly one"),
        ({"and": []}, "non-empty"),
        ({"equals": {"property": prop("name")}}, "value"),
        ({"equals": {"property": prop("name"), "value": 1, "extra": 2}}, "extra"),
        ({"range": {"property": prop("n")}}, "gt, gte, lt, lte"),
        ({"in": {"property": prop("n"), "values": 3}}, "list"),
        ({"equals": {"property": ["node", "colour"], "value": 1}}, "colour"),
        ({"equals": {"property": ["sp", "V/2", "n"], "value": 1}}, "V/2"),
        ({"equals": {"property": prop("nope"), "value": 1}}, "nope"),
        ({"equals": {"property": ["sp", "Nope", "n"], "value": 1}}, "Nope"),
        ({"equals": {"property": "sp", "value": 1}}, "list of strings"),
        ({"hasData": {"type": "view"}}, "list"),
        ({"matchAll": {"x": 1}}, "empty object"),
        ({"equals": {"property": prop("name"), "value": {"parameter": "absent"}}}, "absent"),
        ({"range": {"property": prop("at"), "gt": "not a time"}}, "timestamp"),
        ([], "exactly one"),
    ],
)
def test_malformed_filters_are_400(spec: Any, fragment: str) -> None:
    with pytest.raises(ApiError) as caught:
        matching(spec)
    assert caught.value.status == 400 and fragment in caught.value.message


def test_filters_through_the_sdk_list(client: Any) -> None:
    build_model(client)
    client.data_modeling.instances.apply([item("a", name="alpha", count=1), item("b", name="beta", count=2)])
    found = client.data_modeling.instances.list(
        filter=f.Or(f.Prefix(ITEM.as_property_ref("name"), "be"), f.In(["node", "externalId"], ["a"])), limit=-1
    )
    assert sorted(n.external_id for n in found) == ["a", "b"]
    error = api_error(client, "/models/instances/list", {"filter": {"equals": {"property": [SPACE, "Item/v1", "x"]}}})
    assert error.code == 400 and "value" in error.message
