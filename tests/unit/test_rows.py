"""Pages of raw sync JSON -> Arrow batch tables, compared whole."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pyarrow as pa
import pytest

from cdf_replicator.errors import SchemaMappingError
from cdf_replicator.rows import page_to_arrow
from cdf_replicator.schema_mapping import build_batch_arrow_schema
from cdf_replicator.sync_query import ViewRef
from cdf_replicator.views import EdgeConnectionSpec, PropertySpec, ViewSpec

AT = datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=timezone.utc)
ROLE = ViewRef("sp", "Role", "v1")
CREDIT = ViewRef("other", "Credit", "v2")

MOVIE = ViewSpec(
    "sp",
    "Movie",
    "v1",
    "node",
    (
        PropertySpec("title", "text"),
        PropertySpec("genre", "enum"),
        PropertySpec("runtime", "int32"),
        PropertySpec("views", "int64"),
        PropertySpec("rating", "float32"),
        PropertySpec("budget", "float64"),
        PropertySpec("released", "boolean"),
        PropertySpec("premiere", "timestamp"),
        PropertySpec("day", "date"),
        PropertySpec("meta", "json"),
        PropertySpec("director", "direct"),
        PropertySpec("series", "timeseries"),
        PropertySpec("poster", "file"),
        PropertySpec("log", "sequence"),
        PropertySpec("tags", "text", is_list=True),
        PropertySpec("scores", "int64", is_list=True),
        PropertySpec("shows", "timestamp", is_list=True),
        PropertySpec("cast", "direct", is_list=True),
    ),
    (EdgeConnectionSpec("actors", ("sp", "Movie.actors"), "outwards", ViewRef("sp", "Person", "v1"), ROLE),),
)
NULL_PROPERTIES = {prop.name: None for prop in MOVIE.properties}


def ref(xid: str, space: str = "sp") -> dict[str, str]:
    return {"space": space, "externalId": xid}


def node(xid: str, properties: dict[str, Any] | None, space: str = "sp", **fields: Any) -> dict[str, Any]:
    item = {
        "instanceType": "node",
        "space": space,
        "externalId": xid,
        "version": 1,
        "createdTime": 1700000000000,
        "lastUpdatedTime": 1700000005000,
        **fields,
    }
    if properties is not None:
        item["properties"] = {"sp": {"Movie/v1": properties}}
    return item


def node_row(xid: str, space: str = "sp", deleted: bool = False, **values: Any) -> dict[str, Any]:
    """The expected batch row of a node: system columns as ``node`` makes them, then the given property values."""
    return {
        "space": space,
        "externalId": xid,
        "instanceType": "node",
        "version": values.pop("version", 1),
        "createdTime": 1700000000000,
        "lastUpdatedTime": 1700000005000,
        "type": values.pop("type", None),
        **NULL_PROPERTIES,
        **values,
        "_replicatedAt": AT,
        "_deleted": deleted,
    }


def convert(items: list[dict[str, Any]], spec: ViewSpec = MOVIE, kind: str = "nodes", **options: Any) -> pa.Table:
    """Round-trip the items through JSON text first: the converter gets exactly what an HTTP response decodes to."""
    decoded = json.loads(json.dumps(items))
    return page_to_arrow(decoded, spec, kind, AT, **options)  # type: ignore[arg-type]


def test_a_node_page_becomes_a_table_with_every_property_type() -> None:
    items = [
        node(
            "m1",
            {
                "title": "Heat",
                "genre": "crime",
                "runtime": 170,
                "views": 12,
                "rating": 8.5,
                "budget": 6e7,
                "released": True,
                "premiere": "1995-12-15T20:00:00.000+00:00",
                "day": "1995-12-15",
                "meta": {"b": [1, 2.5, None], "a": {"ü": "✓"}},
                "director": ref("mann"),
                "series": "ts_heat",
                "poster": "file_heat",
                "log": "seq_heat",
                "tags": ["crime", "la"],
                "scores": [1, 2],
                "shows": ["1995-12-15T20:00:00Z", "1996-01-01T00:00:00+01:00"],
                "cast": [ref("pacino"), ref("deniro", space="people")],
            },
            type=ref("Film", space="types"),
            version=7,
        ),
        node("m2", {"title": "Empty lists", "tags": [], "cast": [], "budget": 3}),
        node("m3", None),
    ]

    table = convert(items)

    assert table.schema == build_batch_arrow_schema(MOVIE, "nodes")
    assert table.to_pylist() == [
        node_row(
            "m1",
            version=7,
            type=ref("Film", space="types"),
            title="Heat",
            genre="crime",
            runtime=170,
            views=12,
            rating=8.5,
            budget=6e7,
            released=True,
            premiere=datetime(1995, 12, 15, 20, tzinfo=timezone.utc),
            day=date(1995, 12, 15),
            meta='{"b":[1,2.5,null],"a":{"ü":"✓"}}',
            director=ref("mann"),
            series="ts_heat",
            poster="file_heat",
            log="seq_heat",
            tags=["crime", "la"],
            scores=[1, 2],
            shows=[datetime(1995, 12, 15, 20, tzinfo=timezone.utc), datetime(1995, 12, 31, 23, tzinfo=timezone.utc)],
            cast=[ref("pacino"), ref("deniro", space="people")],
        ),
        node_row("m2", title="Empty lists", tags=[], cast=[], budget=3.0),
        node_row("m3"),
    ]


def test_explicit_nulls_missing_properties_and_other_views_are_all_null() -> None:
    explicit_nulls = node("n1", {name: None for name in NULL_PROPERTIES})
    other_view = node("n2", None)
    other_view["properties"] = {
        "sp": {"Movie/v2": {"title": "wrong version"}},
        "x": {"Movie/v1": {"title": "wrong space"}},
    }
    empty_bags = node("n3", None)
    empty_bags["properties"] = {}

    table = convert([explicit_nulls, other_view, empty_bags])

    assert table.to_pylist() == [node_row("n1"), node_row("n2"), node_row("n3")]


def test_tombstones_become_deleted_rows_with_or_without_properties() -> None:
    items = [
        node("gone", None, deletedTime=1700000009000, version=3),
        node("gone_with_props", {"title": "last known", "tags": ["x"]}, deletedTime=1700000009000),
        node("alive", {"title": "still here"}),
    ]

    table = convert(items)

    assert table.to_pylist() == [
        node_row("gone", version=3, deleted=True),
        node_row("gone_with_props", deleted=True, title="last known", tags=["x"]),
        node_row("alive", title="still here"),
    ]


def test_quotes_and_unicode_in_ids_and_text_survive_unchanged() -> None:
    odd_ids = ['it\'s "quoted"', "ünïcødé/🚀", "back\\slash", "tab\there", "x" * 256]
    items = [node(xid, {"title": f"{xid} – ✓", "director": ref(xid, space="sp-2")}, space="sp_1") for xid in odd_ids]

    table = convert(items)

    assert table.to_pylist() == [
        node_row(xid, space="sp_1", title=f"{xid} – ✓", director=ref(xid, space="sp-2")) for xid in odd_ids
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2020-03-14T15:09:26.535+00:00", datetime(2020, 3, 14, 15, 9, 26, 535000, tzinfo=timezone.utc)),
        ("2020-03-14T15:09:26.535Z", datetime(2020, 3, 14, 15, 9, 26, 535000, tzinfo=timezone.utc)),
        ("2020-03-14T15:09:26Z", datetime(2020, 3, 14, 15, 9, 26, tzinfo=timezone.utc)),
        ("2020-03-14T15:09:26", datetime(2020, 3, 14, 15, 9, 26, tzinfo=timezone.utc)),
        ("2020-03-14T15:09:26.5+05:30", datetime(2020, 3, 14, 9, 39, 26, 500000, tzinfo=timezone.utc)),
        ("2020-03-14T20:09:26.535-08:00", datetime(2020, 3, 15, 4, 9, 26, 535000, tzinfo=timezone.utc)),
        ("2020-03-14T15:09:26.123456789Z", datetime(2020, 3, 14, 15, 9, 26, 123456, tzinfo=timezone.utc)),
        ("2020-03-14T15:09:26.535", datetime(2020, 3, 14, 15, 9, 26, 535000, tzinfo=timezone.utc)),
        ("0001-01-01T00:00:00Z", datetime(1, 1, 1, tzinfo=timezone.utc)),
        ("9999-12-31T23:59:59.999Z", datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=timezone.utc)),
    ],
)
def test_timestamps_in_every_form_cdf_writes_become_utc(text: str, expected: datetime) -> None:
    """Each form is mixed with a canonical one, so both the vectorized and the normalizing path are exercised."""
    items = [node("a", {"premiere": text}), node("b", {"premiere": "2000-01-01T00:00:00Z", "shows": [text]})]

    rows = convert(items).select(["premiere", "shows"]).to_pylist()

    assert rows == [
        {"premiere": expected, "shows": None},
        {"premiere": datetime(2000, 1, 1, tzinfo=timezone.utc), "shows": [expected]},
    ]


def test_integer_extremes_are_kept_exactly() -> None:
    extremes = {"runtime": -(2**31), "views": 2**63 - 1, "scores": [-(2**63), 2**63 - 1, 0]}
    items = [node("lo", extremes), node("hi", {"runtime": 2**31 - 1, "views": -(2**63)})]

    table = convert(items)

    assert table.select(["runtime", "views", "scores"]).to_pylist() == [
        {"runtime": -(2**31), "views": 2**63 - 1, "scores": [-(2**63), 2**63 - 1, 0]},
        {"runtime": 2**31 - 1, "views": -(2**63), "scores": None},
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"z": 1, "a": [True, None]}, '{"z":1,"a":[true,null]}'),
        ("just text", '"just text"'),
        ([1, "two"], '[1,"two"]'),
        (3.25, "3.25"),
        ({"quote": 'say "hi"', "nl": "a\nb", "emoji": "🚀"}, '{"quote":"say \\"hi\\"","nl":"a\\nb","emoji":"🚀"}'),
    ],
)
def test_json_values_become_compact_json_text(value: Any, expected: str) -> None:
    table = convert([node("j", {"meta": value})])

    assert table.column("meta").to_pylist() == [expected]
    assert json.loads(expected) == value


def test_edges_carry_endpoints_type_and_properties_of_every_edge_source() -> None:
    spec = ViewSpec(
        "sp",
        "Movie",
        "v1",
        "node",
        (PropertySpec("title", "text"),),
        (
            EdgeConnectionSpec("actors", ("sp", "Movie.actors"), "outwards", ViewRef("sp", "Person", "v1"), ROLE),
            EdgeConnectionSpec("writers", ("sp", "Movie.writers"), "outwards", ViewRef("sp", "Person", "v1"), CREDIT),
        ),
    )
    edge_properties = (PropertySpec("role", "text"), PropertySpec("order", "int32"), PropertySpec("note", "json"))

    def edge(xid: str, edge_type: str, properties: dict[str, Any], **fields: Any) -> dict[str, Any]:
        return {
            "instanceType": "edge",
            "space": "sp",
            "externalId": xid,
            "version": 2,
            "createdTime": 10,
            "lastUpdatedTime": 20,
            "type": ref(edge_type),
            "startNode": ref("heat"),
            "endNode": ref(f"person_{xid}", space="people"),
            "properties": properties,
            **fields,
        }

    items = [
        edge("e1", "Movie.actors", {"sp": {"Role/v1": {"role": "Hanna", "order": 1}}}),
        edge("e2", "Movie.writers", {"other": {"Credit/v2": {"order": 5, "note": {"k": "v"}}}}),
        # Data in both edge sources: the first source in connection order wins for a shared property.
        edge(
            "e3", "Movie.actors", {"sp": {"Role/v1": {"order": 2}}, "other": {"Credit/v2": {"order": 9, "role": "x"}}}
        ),
        edge("e4", "Movie.actors", {}, deletedTime=30),
    ]

    table = convert(items, spec, "edges", edge_properties=edge_properties)

    def row(xid: str, edge_type: str, deleted: bool = False, **values: Any) -> dict[str, Any]:
        return {
            "space": "sp",
            "externalId": xid,
            "instanceType": "edge",
            "version": 2,
            "createdTime": 10,
            "lastUpdatedTime": 20,
            "type": ref(edge_type),
            "startNode": ref("heat"),
            "endNode": ref(f"person_{xid}", space="people"),
            "role": None,
            "order": None,
            "note": None,
            **values,
            "_replicatedAt": AT,
            "_deleted": deleted,
        }

    assert table.schema == build_batch_arrow_schema(spec, "edges", edge_properties)
    assert table.to_pylist() == [
        row("e1", "Movie.actors", role="Hanna", order=1),
        row("e2", "Movie.writers", order=5, note='{"k":"v"}'),
        row("e3", "Movie.actors", role="x", order=2),
        row("e4", "Movie.actors", deleted=True),
    ]
    explicit = convert(items, spec, "edges", edge_properties=edge_properties, edge_source_refs=(CREDIT, ROLE))
    assert explicit.column("order").to_pylist() == [1, 5, 9, None]


def test_edges_of_an_edge_view_carry_its_own_properties() -> None:
    spec = ViewSpec("sp", "Role", "v1", "edge", (PropertySpec("role", "text"),))
    item = {
        "instanceType": "edge",
        "space": "sp",
        "externalId": "e",
        "version": 1,
        "createdTime": 1,
        "lastUpdatedTime": 2,
        "type": ref("t"),
        "startNode": ref("a"),
        "endNode": ref("b"),
        "properties": {"sp": {"Role/v1": {"role": "lead"}}},
    }

    assert convert([item], spec, "edges").to_pylist() == [
        {
            **{key: item[key] for key in ("space", "externalId", "instanceType", "version", "createdTime")},
            "lastUpdatedTime": 2,
            "type": ref("t"),
            "startNode": ref("a"),
            "endNode": ref("b"),
            "role": "lead",
            "_replicatedAt": AT,
            "_deleted": False,
        }
    ]


def test_a_property_named_type_does_not_clobber_the_node_type() -> None:
    spec = ViewSpec("sp", "Movie", "v1", "node", (PropertySpec("type", "enum"),))

    table = convert([node("n", {"type": "feature"}, type=ref("Film"))], spec)

    assert table.select(["type", "type_"]).to_pylist() == [{"type": ref("Film"), "type_": "feature"}]


def test_an_empty_page_is_an_empty_table_with_the_full_schema() -> None:
    table = convert([])

    assert table.equals(build_batch_arrow_schema(MOVIE, "nodes").empty_table())


def test_replicated_at_is_stored_in_utc_and_must_be_aware() -> None:
    oslo = timezone(timedelta(hours=2))

    table = page_to_arrow([node("n", None)], MOVIE, "nodes", datetime(2024, 5, 6, 9, 8, 9, 123000, tzinfo=oslo))

    assert table.column("_replicatedAt").to_pylist() == [AT]
    assert table.schema.field("_replicatedAt").type == pa.timestamp("us", tz="UTC")
    with pytest.raises(ValueError, match="timezone-aware"):
        page_to_arrow([node("n", None)], MOVIE, "nodes", datetime(2024, 5, 6))


@pytest.mark.parametrize(
    ("prop", "value", "reason"),
    [
        ("views", "12", "expected an int64, got string"),
        ("views", 1.5, "expected an int64, got number"),
        ("views", 2.0, "expected an int64, got number"),
        ("views", True, "expected an int64, got boolean"),
        ("views", 2**63, "expected an int64 in range, got integer"),
        ("runtime", 2**31, "expected an int32 in range, got integer"),
        ("rating", 1e39, "a number too large for float32"),
        ("budget", True, "expected a float64, got boolean"),
        ("budget", "1.0", "expected a float64, got string"),
        ("released", 1, "expected a boolean, got integer"),
        ("released", "true", "expected a boolean, got string"),
        ("title", 5, "expected a string, got integer"),
        ("title", {"a": 1}, "expected a string, got object"),
        ("genre", ["a"], "expected a string, got array"),
        ("premiere", 1584198566535, "expected a timestamp string, got integer"),
        ("premiere", "2020-03-14", "expected a timestamp YYYY-MM-DDTHH:MM:SS"),
        ("premiere", "2020-13-14T00:00:00Z", "expected a valid timestamp, got a string in another format"),
        ("premiere", "14/03/2020 15:09", "expected a timestamp YYYY-MM-DDTHH:MM:SS"),
        ("day", "2020-03-14T00:00:00Z", "expected a date YYYY-MM-DD, got a string in another format"),
        ("day", "2021-02-29", "expected a valid date"),
        ("day", 20200314, "expected a date string, got integer"),
        ("director", "mann", "expected an object {space, externalId}, got string"),
        ("director", {"space": "sp"}, "expected an object {space, externalId} of strings, got object"),
        ("director", {"space": "sp", "externalId": 5}, "expected an object {space, externalId} of strings"),
        ("series", 17, "expected a string, got integer"),
        ("tags", "abc", "expected an array of text, got string"),
        ("tags", ["a", 1], "element 1: expected a string, got integer"),
        ("scores", [1, 2.5], "element 1: expected an int64, got number"),
        ("shows", ["2020-03-14T15:09:26Z", "soon"], "element 1: expected a timestamp YYYY-MM-DDTHH:MM:SS"),
        ("cast", [{"space": "sp", "externalId": "a"}, "b"], "element 1: expected an object {space, externalId}"),
    ],
)
def test_a_value_of_the_wrong_type_raises_naming_instance_property_and_type(prop: str, value: Any, reason: str) -> None:
    items = [node("fine", {prop: None}), node('bad "one" ✗', {prop: value}, space="sp_9")]

    with pytest.raises(SchemaMappingError) as error:
        convert(items)

    message = str(error.value)
    assert message.startswith(f"view sp:Movie/v1, node 'sp_9'/'bad \"one\" ✗', property '{prop}': "), message
    assert reason in message


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("version", None, "property 'version': the value is missing"),
        ("version", "3", "property 'version': expected an int64, got string"),
        ("externalId", None, "property 'externalId': the value is missing"),
        ("createdTime", 1.5, "property 'createdTime': expected an int64, got number"),
        ("type", "Film", "property 'type': expected an object {space, externalId}, got string"),
        ("instanceType", "edge", "property 'instanceType': expected 'node' in a nodes page"),
    ],
)
def test_bad_system_fields_raise_naming_the_instance(field: str, value: Any, reason: str) -> None:
    bad = node("bad", None)
    bad[field] = value

    with pytest.raises(SchemaMappingError, match=f"view sp:Movie/v1, .*'sp'/.*, {reason}"):
        convert([node("ok", None), bad])


def test_edges_without_endpoints_raise() -> None:
    spec = ViewSpec("sp", "Role", "v1", "edge", ())
    item = {
        "instanceType": "edge",
        "space": "sp",
        "externalId": "e",
        "version": 1,
        "createdTime": 1,
        "lastUpdatedTime": 2,
        "type": ref("t"),
        "startNode": ref("a"),
    }

    with pytest.raises(SchemaMappingError, match="edge 'sp'/'e', property 'endNode': the value is missing"):
        convert([item], spec, "edges")
