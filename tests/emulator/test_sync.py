"""Sync through the real cognite-sdk: backfill, changes, tombstones, modes, traversal and cursor errors."""

from __future__ import annotations

from typing import Any

import pytest
from cognite.client import data_modeling as dm
from cognite.client.data_classes import filters as f
from cognite.client.data_classes.data_modeling.query import (
    EdgeResultSetExpressionSync,
    NodeResultSetExpressionSync,
    QuerySync,
    SelectSync,
    SourceSelector,
)
from cognite.client.exceptions import CogniteAPIError

from tests.emulator.instance_support import (
    ITEM,
    LINK,
    LINK_TYPE,
    SPACE,
    api_error,
    build_model,
    ids,
    item,
    link,
    nodes_sync_body,
    sync,
    view_ref,
)

EXPIRED = "Cursor has expired. Try again with a new cursor."
INVALID = "Invalid cursor provided."


@pytest.fixture()
def model(client: Any) -> Any:
    build_model(client)
    return client


def sdk_query(limit: int = 100, mode: str = "two_phase") -> QuerySync:
    return QuerySync(
        with_={"items": NodeResultSetExpressionSync(filter=f.HasData(views=[ITEM]), limit=limit, sync_mode=mode)},
        select={"items": SelectSync([SourceSelector(ITEM, ["*"])])},
    )


def drain(client: Any, body: dict[str, Any], name: str = "items") -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Page a sync body until a page is shorter than its limit; returns every item and the last answer."""
    limit = body["with"][name].get("limit", 100)
    seen: list[dict[str, Any]] = []
    for _ in range(1000):
        answer = sync(client, body)
        seen += answer["items"][name]
        body["cursors"] = dict(answer["nextCursor"])
        if len(answer["items"][name]) < limit:
            return seen, answer
    raise AssertionError("sync never returned a short page")


def test_backfill_then_changes_through_the_sdk(model: Any, emulator: Any) -> None:
    model.data_modeling.instances.apply([item(f"n{i}", count=i) for i in range(5)])
    query = sdk_query(limit=2)
    pages = []
    for _ in range(4):
        result = model.data_modeling.instances.sync(query)
        pages.append([n.external_id for n in result["items"]])
        query.cursors = result.cursors
    assert pages == [["n0", "n1"], ["n2", "n3"], ["n4"], []]
    emulator.clock.advance("1s")
    model.data_modeling.instances.apply([item("n1", count=10), item("n9", count=9)])
    changes = model.data_modeling.instances.sync(query)
    assert [(n.external_id, n.version, n.properties[ITEM]["count"]) for n in changes["items"]] == [
        ("n1", 2, 10),
        ("n9", 1, 9),
    ]


def test_an_instance_changed_many_times_appears_once_at_its_latest_version(model: Any) -> None:
    model.data_modeling.instances.apply([item("a", count=0), item("b", count=0)])
    _, answer = drain(model, nodes_sync_body(limit=10))
    for value in range(1, 4):
        model.data_modeling.instances.apply(item("a", count=value))
    body = nodes_sync_body(limit=10)
    body["cursors"] = answer["nextCursor"]
    page = sync(model, body)["items"]["items"]
    assert [(n["externalId"], n["version"], n["properties"][SPACE]["Item/v1"]["count"]) for n in page] == [("a", 4, 3)]


def test_delete_is_a_tombstone_with_the_last_properties(model: Any) -> None:
    model.data_modeling.instances.apply([item("a", name="alpha"), item("b", name="beta")])
    _, answer = drain(model, nodes_sync_body())
    model.data_modeling.instances.delete(nodes=[(SPACE, "a")])
    body = nodes_sync_body()
    body["cursors"] = answer["nextCursor"]
    (tombstone,) = sync(model, body)["items"]["items"]
    assert tombstone["externalId"] == "a" and tombstone["version"] == 2
    assert tombstone["deletedTime"] >= tombstone["createdTime"]
    assert tombstone["properties"] == {SPACE: {"Item/v1": {"name": "alpha"}}}


def test_delete_and_recreate_within_one_page_shows_both_in_order(model: Any) -> None:
    model.data_modeling.instances.apply(item("a", name="old"))
    _, answer = drain(model, nodes_sync_body())
    model.data_modeling.instances.delete(nodes=[(SPACE, "a")])
    model.data_modeling.instances.apply(item("a", name="new"))
    query = sdk_query()
    query.cursors = {"items": answer["nextCursor"]["items"]}
    page = model.data_modeling.instances.sync(query)["items"]
    assert [(n.external_id, n.version, n.deleted_time is not None, n.properties[ITEM]["name"]) for n in page] == [
        ("a", 2, True, "old"),
        ("a", 3, False, "new"),
    ]


def test_two_phase_backfill_covers_the_start_and_ends_with_a_short_page(model: Any) -> None:
    model.data_modeling.instances.apply([item(f"n{i}", count=i) for i in range(4)])
    body = nodes_sync_body(limit=2, mode="twoPhase")
    first = sync(model, body)
    model.data_modeling.instances.apply(item("late", count=99))  # created after the sync started
    body["cursors"] = first["nextCursor"]
    second = sync(model, body)
    body["cursors"] = second["nextCursor"]
    third = sync(model, body)  # exactly 4 = 2 * limit: the backfill ends with an empty page
    body["cursors"] = third["nextCursor"]
    fourth = sync(model, body)
    assert [ids(a["items"]["items"]) for a in (first, second, third, fourth)] == [
        ["n0", "n1"],
        ["n2", "n3"],
        [],
        ["late"],
    ]


def test_no_backfill_only_streams_changes(model: Any) -> None:
    model.data_modeling.instances.apply(item("before", count=1))
    body = nodes_sync_body(mode="noBackfill")
    first = sync(model, body)
    model.data_modeling.instances.apply([item("after", count=2), item("before", count=3)])
    body["cursors"] = first["nextCursor"]
    assert ids(first["items"]["items"]) == []
    assert ids(sync(model, body)["items"]["items"]) == ["after", "before"]


def test_skip_already_deleted(model: Any) -> None:
    model.data_modeling.instances.apply([item("kept", count=1), item("gone", count=2)])
    model.data_modeling.instances.delete(nodes=[(SPACE, "gone")])
    skipping, _ = drain(model, nodes_sync_body())
    including, _ = drain(model, nodes_sync_body(skipAlreadyDeleted=False))
    assert ids(skipping) == ["kept"]
    assert [(n["externalId"], "deletedTime" in n) for n in including] == [("kept", False), ("gone", True)]


def test_edges_traversed_from_an_unselected_node_set(model: Any) -> None:
    model.data_modeling.instances.apply(
        [item("a", name="a"), item("b", name="b"), dm.NodeApply(SPACE, "plain")],
        [link("ab", "a", "b", weight=0.5), link("pa", "plain", "a")],
    )
    query = QuerySync(
        with_={
            "nodes": NodeResultSetExpressionSync(filter=f.HasData(views=[ITEM])),
            "edges": EdgeResultSetExpressionSync(
                from_="nodes", filter=f.Equals(["edge", "type"], LINK_TYPE.dump()), direction="outwards"
            ),
        },
        select={"edges": SelectSync([SourceSelector(LINK, ["*"])])},
    )
    result = model.data_modeling.instances.sync(query)
    assert list(result.keys()) == ["edges"]
    assert [(e.external_id, e.properties[LINK]["weight"]) for e in result["edges"]] == [("ab", 0.5)]
    model.data_modeling.instances.delete(nodes=[(SPACE, "a")])
    query.cursors = result.cursors
    tombstones = model.data_modeling.instances.sync(query)["edges"]
    assert [(e.external_id, e.deleted_time is not None) for e in tombstones] == [("ab", True)]


def test_every_with_key_gets_a_cursor_and_empty_select_has_no_properties(model: Any) -> None:
    model.data_modeling.instances.apply(item("a", name="x"))
    body = {
        "with": {"all": {"nodes": {}}, "anchor": {"nodes": {"filter": {"matchAll": {}}}}},
        "select": {"all": {}},
    }
    answer = sync(model, body)
    assert set(answer["nextCursor"]) == {"all", "anchor"} and set(answer["items"]) == {"all"}
    assert [sorted(n) for n in answer["items"]["all"]] == [
        ["createdTime", "externalId", "instanceType", "lastUpdatedTime", "space", "version"]
    ]


def test_selected_property_list_and_typing(model: Any) -> None:
    model.data_modeling.instances.apply(item("a", name="x", count=1))
    body = nodes_sync_body()
    body["select"]["items"]["sources"][0]["properties"] = ["count"]
    body["includeTyping"] = True
    answer = sync(model, body)
    assert answer["items"]["items"][0]["properties"] == {SPACE: {"Item/v1": {"count": 1}}}
    assert answer["typing"]["items"][SPACE]["Item/v1"]["count"]["type"] == {"type": "int32", "list": False}


def test_expired_cursor_is_400_with_cdf_message(model: Any, emulator: Any) -> None:
    model.data_modeling.instances.apply(item("a", count=1))
    query = sdk_query()
    query.cursors = model.data_modeling.instances.sync(query).cursors
    emulator.clock.advance(emulator.cursor_ttl_s + 1)
    with pytest.raises(CogniteAPIError) as caught:
        model.data_modeling.instances.sync(query)
    assert (caught.value.code, caught.value.message) == (400, EXPIRED)


@pytest.mark.parametrize("cursor", ["garbage", "eyJrIjoic3luYyJ9.000000000000", ""])
def test_invalid_cursor_is_400_with_cdf_message(model: Any, cursor: str) -> None:
    query = sdk_query()
    query.cursors = {"items": cursor}
    with pytest.raises(CogniteAPIError) as caught:
        model.data_modeling.instances.sync(query)
    assert (caught.value.code, caught.value.message) == (400, INVALID)


def test_allowing_expired_cursors_misses_purged_deletes(model: Any, emulator: Any) -> None:
    model.data_modeling.instances.apply([item("a", count=1), item("b", count=2)])
    _, answer = drain(model, nodes_sync_body())
    model.data_modeling.instances.delete(nodes=[(SPACE, "a")])
    emulator.clock.advance(emulator.cursor_ttl_s + 1)  # the tombstone of "a" is purged
    model.data_modeling.instances.apply(item("c", count=3))
    body = nodes_sync_body()
    body["cursors"] = answer["nextCursor"]
    body["allowExpiredCursorsAndAcceptMissedDeletes"] = True
    assert ids(sync(model, body)["items"]["items"]) == ["c"]


def test_tombstones_stay_visible_until_the_ttl(model: Any, emulator: Any) -> None:
    model.data_modeling.instances.apply(item("a", count=1))
    model.data_modeling.instances.delete(nodes=[(SPACE, "a")])
    emulator.clock.advance(emulator.cursor_ttl_s - 5)
    visible, _ = drain(model, nodes_sync_body(skipAlreadyDeleted=False))
    emulator.clock.advance(10)
    purged, _ = drain(model, nodes_sync_body(skipAlreadyDeleted=False))
    assert ids(visible) == ["a"] and ids(purged) == []


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"limit": 2001}, "limit"),
        ({"mode": "threePhase"}, "mode"),
        (
            {
                "nodes": {
                    "filter": {"hasData": [{"type": "view", "space": SPACE, "externalId": "Nope", "version": "v1"}]}
                }
            },
            "Nope",
        ),
        ({"nodes": {"filter": {"equals": {"property": ["node", "externalId"]}}}}, "value"),
        ({"nodes": {"filter": {"fuzzy": {}}}}, "fuzzy"),
        ({"nodes": {"filter": {"and": []}}}, "and"),
        ({"nodes": {"filter": {"equals": {"property": [SPACE, "Item/v1", "nope"], "value": 1}}}}, "nope"),
        ({"nodes": {"from": "missing"}}, "missing"),
    ],
)
def test_bad_sync_requests_are_400(model: Any, change: dict[str, Any], fragment: str) -> None:
    body = nodes_sync_body()
    body["with"]["items"].update(change)
    error = api_error(model, "/models/instances/sync", body)
    assert error.code == 400 and fragment in error.message


def test_unknown_view_in_select_is_400(model: Any) -> None:
    body = nodes_sync_body()
    body["select"]["items"]["sources"][0]["source"] = view_ref(dm.ViewId(SPACE, "Nope", "v1"))
    error = api_error(model, "/models/instances/sync", body)
    assert error.code == 400 and "Nope" in error.message


def test_two_phase_backfill_sort_orders_the_backfill(model: Any) -> None:
    model.data_modeling.instances.apply([item(f"n{i}", count=(i * 7) % 5) for i in range(5)])
    sort = [{"property": [SPACE, "Item/v1", "count"], "direction": "descending"}]
    backfill, _ = drain(model, nodes_sync_body(limit=2, mode="twoPhase", backfillSort=sort))
    counts = [n["properties"][SPACE]["Item/v1"]["count"] for n in backfill]
    assert counts == [4, 3, 2, 1, 0]
    error = api_error(model, "/models/instances/sync", nodes_sync_body(mode="onePhase", backfillSort=sort))
    assert error.code == 400 and "backfillSort" in error.message


def test_nodes_chained_to_the_source_side_of_edges(model: Any) -> None:
    model.data_modeling.instances.apply([item("a", name="a"), item("b", name="b")], [link("ab", "a", "b")])
    body = {
        "with": {
            "edges": {"edges": {"filter": {"equals": {"property": ["edge", "type"], "value": LINK_TYPE.dump()}}}},
            "ends": {"nodes": {"from": "edges", "chainTo": "destination"}},
            "starts": {"nodes": {"from": "edges", "chainTo": "source"}},
        },
        "select": {"ends": {}, "starts": {}},
    }
    answer = sync(model, body)
    assert (ids(answer["items"]["ends"]), ids(answer["items"]["starts"])) == (["b"], ["a"])
