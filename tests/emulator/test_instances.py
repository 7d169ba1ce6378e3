"""Instances through the real cognite-sdk: apply, list, byids, query, delete, and CDF's 400s."""

from __future__ import annotations

from typing import Any

import pytest
from cognite.client import data_modeling as dm
from cognite.client.data_classes import filters as f
from cognite.client.data_classes.data_modeling.query import (
    EdgeResultSetExpression,
    NodeResultSetExpression,
    Query,
    Select,
    SourceSelector,
)
from cognite.client.exceptions import CogniteAPIError

from tests.emulator.instance_support import (
    ITEM,
    ITEM_NAME,
    LINK,
    SPACE,
    api_error,
    build_model,
    ids,
    item,
    link,
    post,
    view_ref,
)

FULL = {
    "name": "pump",
    "count": 3,
    "big": 2**40,
    "ratio": 0.25,
    "small": 1.5,
    "active": True,
    "seen": "2020-03-14T15:09:26.535+00:00",
    "born": "2020-03-14",
    "meta": {"a": [1, 2], "b": None},
    "status": "open",
    "parent": {"space": SPACE, "externalId": "root"},
    "series": "ts-1",
    "tags": ["x", "y"],
    "scores": [1, 2, 3],
}


@pytest.fixture()
def model(client: Any) -> Any:
    build_model(client)
    return client


def test_apply_versions_and_was_modified(model: Any, emulator: Any) -> None:
    first = model.data_modeling.instances.apply(item("a", name="one")).nodes[0]
    again = model.data_modeling.instances.apply(item("a", name="one")).nodes[0]
    emulator.clock.advance("1s")
    changed = model.data_modeling.instances.apply(item("a", name="two")).nodes[0]
    assert (first.version, first.was_modified) == (1, True)
    assert (again.version, again.was_modified, again.last_updated_time) == (1, False, first.last_updated_time)
    assert (changed.version, changed.was_modified) == (2, True)
    assert changed.last_updated_time >= first.last_updated_time + 1000
    assert changed.created_time == first.created_time


def test_every_property_type_round_trips(model: Any) -> None:
    model.data_modeling.instances.apply(item("full", **FULL))
    node = model.data_modeling.instances.retrieve_nodes(dm.NodeId(SPACE, "full"), sources=[ITEM])
    assert node is not None
    assert node.properties[ITEM] == {**FULL, "meta": {"a": [1, 2], "b": None}}


def test_timestamps_are_normalized_to_cdf_form(model: Any) -> None:
    model.data_modeling.instances.apply(item("t", seen="2021-01-02T03:04:05Z"))
    node = model.data_modeling.instances.retrieve_nodes(dm.NodeId(SPACE, "t"), sources=[ITEM])
    assert node is not None and node.properties[ITEM]["seen"] == "2021-01-02T03:04:05.000+00:00"


def test_properties_live_in_containers_and_show_through_every_view(model: Any) -> None:
    model.data_modeling.instances.apply(item("a", view=ITEM_NAME, name="via name view"))
    through_item = model.data_modeling.instances.retrieve_nodes(dm.NodeId(SPACE, "a"), sources=[ITEM])
    assert through_item is not None
    assert through_item.properties[ITEM] == {"name": "via name view"}


def test_merge_keeps_other_values_and_replace_drops_them(model: Any) -> None:
    model.data_modeling.instances.apply(item("a", name="n", count=1))
    model.data_modeling.instances.apply(item("a", count=2))
    merged = model.data_modeling.instances.retrieve_nodes(dm.NodeId(SPACE, "a"), sources=[ITEM])
    model.data_modeling.instances.apply(item("a", count=3), replace=True)
    replaced = model.data_modeling.instances.retrieve_nodes(dm.NodeId(SPACE, "a"), sources=[ITEM])
    assert merged is not None and replaced is not None
    assert merged.properties[ITEM] == {"name": "n", "count": 2}
    assert replaced.properties[ITEM] == {"count": 3}


@pytest.mark.parametrize(
    ("prop", "value"),
    [
        ("count", 2**31),
        ("count", "3"),
        ("active", 1),
        ("seen", "yesterday"),
        ("born", "2020-13-01"),
        ("status", "pending"),
        ("parent", "root"),
        ("tags", "x"),
        ("tags", ["x", None]),
        ("ratio", True),
    ],
)
def test_wrong_value_is_400_naming_instance_and_property(model: Any, prop: str, value: Any) -> None:
    with pytest.raises(CogniteAPIError) as caught:
        model.data_modeling.instances.apply(item("bad", **{prop: value}))
    assert caught.value.code == 400
    assert f"'{prop}'" in caught.value.message and f"{SPACE}:bad" in caught.value.message


def test_unknown_view_space_and_property_are_400(model: Any) -> None:
    missing_view = dm.NodeApply(SPACE, "a", sources=[dm.NodeOrEdgeData(dm.ViewId(SPACE, "Nope", "v1"), {"x": 1})])
    missing_space = dm.NodeApply("nospace", "a")
    unknown_prop = item("a", nope=1)
    messages = []
    for node in (missing_view, missing_space, unknown_prop):
        with pytest.raises(CogniteAPIError) as caught:
            model.data_modeling.instances.apply(node)
        assert caught.value.code == 400
        messages.append(caught.value.message)
    assert "Nope" in messages[0] and "nospace" in messages[1] and "nope" in messages[2]
    assert model.data_modeling.instances.list(limit=-1) == dm.NodeList([])


def test_a_failing_item_stores_nothing(model: Any) -> None:
    with pytest.raises(CogniteAPIError):
        model.data_modeling.instances.apply([item("good", count=1), item("bad", count="x")])
    assert len(model.data_modeling.instances.list(limit=-1)) == 0


def test_direct_relation_targets_are_created_unless_disabled(model: Any) -> None:
    model.data_modeling.instances.apply(item("child", parent={"space": SPACE, "externalId": "mother"}))
    with pytest.raises(CogniteAPIError) as caught:
        model.data_modeling.instances.apply(
            item("orphan", parent={"space": SPACE, "externalId": "nobody"}), auto_create_direct_relations=False
        )
    assert caught.value.code == 400 and "nobody" in caught.value.message
    assert sorted(n.external_id for n in model.data_modeling.instances.list(limit=-1)) == ["child", "mother"]


def test_edges_need_their_nodes_unless_auto_created(model: Any) -> None:
    with pytest.raises(CogniteAPIError) as caught:
        model.data_modeling.instances.apply(edges=link("e", "a", "b"))
    assert caught.value.code == 400 and "startNode" in caught.value.message
    model.data_modeling.instances.apply(
        edges=link("e", "a", "b"), auto_create_start_nodes=True, auto_create_end_nodes=True
    )
    assert sorted(n.external_id for n in model.data_modeling.instances.list(limit=-1)) == ["a", "b"]
    edges = model.data_modeling.instances.list(instance_type="edge", limit=-1)
    assert [(e.external_id, e.start_node.external_id, e.end_node.external_id) for e in edges] == [("e", "a", "b")]


def test_version_conflict_is_409_or_skipped(model: Any) -> None:
    model.data_modeling.instances.apply(item("a", name="v1"))
    stale = dm.NodeApply(SPACE, "a", existing_version=7, sources=[dm.NodeOrEdgeData(ITEM, {"name": "x"})])
    with pytest.raises(CogniteAPIError) as caught:
        model.data_modeling.instances.apply(stale)
    skipped = model.data_modeling.instances.apply(stale, skip_on_version_conflict=True)
    assert caught.value.code == 409
    assert list(skipped.nodes) == []


def test_more_than_1000_items_is_400(model: Any) -> None:
    body = {"items": [{"instanceType": "node", "space": SPACE, "externalId": f"n{i}"} for i in range(1001)]}
    error = api_error(model, "/models/instances", body)
    assert error.code == 400


def test_list_filters_sorts_and_pages(model: Any) -> None:
    model.data_modeling.instances.apply([item(f"n{i}", count=i, name=f"name {i % 2}") for i in range(7)])
    model.data_modeling.instances.apply(dm.NodeApply(SPACE, "plain"))
    listed = model.data_modeling.instances.list(
        sources=[ITEM],
        filter=f.And(f.Range(ITEM.as_property_ref("count"), gte=2), f.Equals(ITEM.as_property_ref("name"), "name 0")),
        sort=[dm.InstanceSort(ITEM.as_property_ref("count"), "descending")],
        limit=-1,
    )
    assert [(n.external_id, n.properties[ITEM]["count"]) for n in listed] == [("n6", 6), ("n4", 4), ("n2", 2)]
    first = post(model, "/models/instances/list", {"limit": 3, "sources": [{"source": view_ref()}]})
    second = post(
        model,
        "/models/instances/list",
        {"limit": 3, "sources": [{"source": view_ref()}], "cursor": first["nextCursor"]},
    )
    third = post(
        model,
        "/models/instances/list",
        {"limit": 3, "sources": [{"source": view_ref()}], "cursor": second["nextCursor"]},
    )
    assert ids(first["items"]) + ids(second["items"]) + ids(third["items"]) == [f"n{i}" for i in range(7)]
    assert "nextCursor" not in third


def test_deleted_instances_leave_list_byids_and_query_and_take_edges(model: Any) -> None:
    model.data_modeling.instances.apply([item("a", name="a"), item("b", name="b")], [link("ab", "a", "b")])
    deleted = model.data_modeling.instances.delete(nodes=[(SPACE, "a"), (SPACE, "ghost")])
    assert sorted(n.external_id for n in deleted.nodes) == ["a", "ghost"]
    assert [n.external_id for n in model.data_modeling.instances.list(limit=-1)] == ["b"]
    assert list(model.data_modeling.instances.list(instance_type="edge", limit=-1)) == []
    found = model.data_modeling.instances.retrieve(nodes=[(SPACE, "a"), (SPACE, "b")], edges=[(SPACE, "ab")])
    assert [n.external_id for n in found.nodes] == ["b"] and list(found.edges) == []
    result = model.data_modeling.instances.query(
        Query(with_={"n": NodeResultSetExpression(filter=f.MatchAll())}, select={"n": Select()})
    )
    assert [n.external_id for n in result["n"]] == ["b"]


def test_byids_leaves_out_instances_without_data_in_the_sources(model: Any) -> None:
    model.data_modeling.instances.apply([item("with", name="x"), dm.NodeApply(SPACE, "without")])
    found = model.data_modeling.instances.retrieve(nodes=[(SPACE, "with"), (SPACE, "without")], sources=[ITEM])
    plain = model.data_modeling.instances.retrieve(nodes=[(SPACE, "with"), (SPACE, "without")])
    assert [n.external_id for n in found.nodes] == ["with"]
    assert sorted(n.external_id for n in plain.nodes) == ["with", "without"]


def test_query_traverses_edges_and_returns_only_selected_sets(model: Any) -> None:
    model.data_modeling.instances.apply(
        [item("a", name="a"), item("b", name="b"), item("c", name="c"), item("d", name="d")],
        [link("ab", "a", "b", weight=1.0), link("bc", "b", "c", weight=2.0), link("dc", "d", "c")],
    )
    query = Query(
        with_={
            "start": NodeResultSetExpression(filter=f.Equals(["node", "externalId"], "a")),
            "hops": EdgeResultSetExpression(from_="start", direction="outwards", max_distance=2),
            "ends": NodeResultSetExpression(from_="hops"),
        },
        select={"hops": Select([SourceSelector(LINK, ["weight"])]), "ends": Select([SourceSelector(ITEM, ["name"])])},
    )
    result = model.data_modeling.instances.query(query)
    assert set(result.keys()) == {"hops", "ends"}
    assert sorted((e.external_id, e.properties.get(LINK, {}).get("weight")) for e in result["hops"]) == [
        ("ab", 1.0),
        ("bc", 2.0),
    ]
    assert sorted((n.external_id, n.properties[ITEM]["name"]) for n in result["ends"]) == [("b", "b"), ("c", "c")]


def test_query_pages_with_cursors(model: Any) -> None:
    model.data_modeling.instances.apply([item(f"n{i}", count=i) for i in range(5)])
    body = {"with": {"n": {"nodes": {}, "limit": 2}}, "select": {"n": {}}}
    seen: list[str] = []
    for _ in range(5):
        answer = post(model, "/models/instances/query", body)
        seen += ids(answer["items"]["n"])
        if "n" not in answer["nextCursor"]:
            break
        body["cursors"] = {"n": answer["nextCursor"]["n"]}
    assert seen == [f"n{i}" for i in range(5)]


def test_current_helper_reads_live_instances_through_a_view(model: Any, emulator: Any) -> None:
    model.data_modeling.instances.apply([item("a", name="x"), dm.NodeApply(SPACE, "b")])
    current = emulator.state.instances.current("node", view=(SPACE, "Item", "v1"))
    assert [(c["externalId"], c["properties"]) for c in current] == [("a", {SPACE: {"Item/v1": {"name": "x"}}})]


def test_reapply_without_type_keeps_the_node_type(model: Any) -> None:
    typed = dm.NodeApply(SPACE, "a", type=(SPACE, "Pump"), sources=[dm.NodeOrEdgeData(ITEM, {"name": "x"})])
    model.data_modeling.instances.apply(typed)
    again = model.data_modeling.instances.apply(item("a", name="x")).nodes[0]
    node = model.data_modeling.instances.retrieve_nodes(dm.NodeId(SPACE, "a"))
    assert (again.version, again.was_modified) == (1, False)
    assert node is not None and node.type == dm.DirectRelationReference(SPACE, "Pump")


def test_query_through_direct_relations_and_set_operations(model: Any) -> None:
    parent = {"space": SPACE, "externalId": "root"}
    model.data_modeling.instances.apply(
        [item("root", name="root"), item("k1", name="k1", parent=parent), item("k2", name="k2", parent=parent)]
    )
    through = {"source": view_ref(), "identifier": "parent"}
    body = {
        "with": {
            "kids": {"nodes": {"filter": {"prefix": {"property": ["node", "externalId"], "value": "k"}}}},
            "parents": {"nodes": {"from": "kids", "through": through, "direction": "outwards"}},
            "children": {"nodes": {"from": "parents", "through": through, "direction": "inwards"}},
            "everyone": {"union": ["parents", "children"]},
        },
        "select": {"parents": {}, "children": {}, "everyone": {}},
    }
    items = post(model, "/models/instances/query", body)["items"]
    assert (ids(items["parents"]), ids(items["children"]), ids(items["everyone"])) == (
        ["root"],
        ["k1", "k2"],
        ["k1", "k2", "root"],
    )


def test_delete_in_an_unknown_space_is_400_and_apply_can_delete(model: Any) -> None:
    error = api_error(
        model, "/models/instances/delete", {"items": [{"instanceType": "node", "space": "nope", "externalId": "a"}]}
    )
    model.data_modeling.instances.apply(item("old", name="x"))
    answer = post(
        model,
        "/models/instances",
        {
            "items": [{"instanceType": "node", "space": SPACE, "externalId": "new"}],
            "delete": [{"instanceType": "node", "space": SPACE, "externalId": "old"}],
        },
    )
    assert error.code == 400 and "nope" in error.message
    assert (ids(answer["items"]), ids(answer["deleted"])) == (["new"], ["old"])
    assert [n.external_id for n in model.data_modeling.instances.list(limit=-1)] == ["new"]
