"""Schema endpoints (spaces, containers, views, data models) driven through the real cognite-sdk."""

from __future__ import annotations

from typing import Any

from cognite.client import data_modeling as dm
from cognite.client.data_classes.data_modeling.views import SingleEdgeConnection, SingleEdgeConnectionApply

from tests.emulator.schema_support import SPACE, person_view, raw_call, setup_person

ALL_TYPES = {
    "text": dm.Text(collation="ucs_basic"),
    "texts": dm.Text(is_list=True, max_list_size=10),
    "boolean": dm.Boolean(),
    "int32": dm.Int32(),
    "int64": dm.Int64(is_list=True),
    "float32": dm.Float32(),
    "float64": dm.Float64(),
    "timestamp": dm.Timestamp(),
    "date": dm.Date(is_list=True),
    "json": dm.Json(),
    "ts": dm.TimeSeriesReference(),
    "file": dm.FileReference(is_list=True),
    "sequence": dm.SequenceReference(),
    "ref": dm.DirectRelation(),
    "kind": dm.data_types.Enum({"a": dm.data_types.EnumValue("A"), "b": dm.data_types.EnumValue()}, "b"),
}


def test_spaces_apply_list_retrieve_delete_and_keep_times_when_unchanged(emulator: Any, client: Any) -> None:
    first = client.data_modeling.spaces.apply([dm.SpaceApply("alpha", name="Alpha"), dm.SpaceApply("beta")])
    assert [(s.space, s.name, s.is_global) for s in first] == [("alpha", "Alpha", False), ("beta", None, False)]
    emulator.clock.advance("1s")
    same = client.data_modeling.spaces.apply(dm.SpaceApply("alpha", name="Alpha"))
    assert (same.created_time, same.last_updated_time) == (first[0].created_time, first[0].last_updated_time)
    emulator.clock.advance("1s")
    renamed = client.data_modeling.spaces.apply(dm.SpaceApply("alpha", name="Alpha 2"))
    assert renamed.created_time == first[0].created_time
    assert renamed.last_updated_time >= first[0].last_updated_time + 2000

    assert [s.space for s in client.data_modeling.spaces.list(limit=-1)] == ["alpha", "beta"]
    assert client.data_modeling.spaces.retrieve("alpha").name == "Alpha 2"
    assert client.data_modeling.spaces.retrieve("nope") is None
    assert client.data_modeling.spaces.delete("beta") == ["beta"]
    assert [s.space for s in client.data_modeling.spaces.list()] == ["alpha"]


def test_list_pages_with_opaque_cursors_in_stable_order(emulator: Any, client: Any) -> None:
    names = [f"space{i:02d}" for i in range(25)]
    client.data_modeling.spaces.apply([dm.SpaceApply(name) for name in reversed(names)])
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 10, **({"cursor": cursor} if cursor else {})}
        status, body = raw_call(emulator, "GET", "/models/spaces", params=params)
        assert status == 200
        seen += [item["space"] for item in body["items"]]
        pages += 1
        cursor = body.get("nextCursor")
        if cursor is None:
            break
        assert isinstance(cursor, str) and "space" not in cursor
    assert (seen, pages) == (names, 3)
    assert [s.space for s in client.data_modeling.spaces.list(limit=-1)] == names


def test_container_round_trip_with_every_type_constraints_and_indexes(client: Any) -> None:
    client.data_modeling.spaces.apply(dm.SpaceApply(SPACE))
    container = dm.ContainerApply(
        SPACE,
        "Everything",
        properties={pid: dm.ContainerPropertyApply(t, name=pid) for pid, t in ALL_TYPES.items()}
        | {"must": dm.ContainerPropertyApply(dm.Text(), nullable=False, default_value="x")},
        constraints={"uniq": dm.UniquenessConstraintApply(["text"])},
        indexes={"byText": dm.BTreeIndexApply(["text"], cursorable=True), "inv": dm.InvertedIndexApply(["texts"])},
        used_for="all",
    )
    created = client.data_modeling.containers.apply(container)
    assert created.as_apply().dump() == container.dump()
    assert created.used_for == "all" and created.is_global is False
    assert created.properties["must"].constraint_state.nullability == "current"
    assert created.constraints["uniq"].state == "current"

    fetched = client.data_modeling.containers.retrieve((SPACE, "Everything"))
    assert fetched.dump() == created.dump()
    assert [c.external_id for c in client.data_modeling.containers.list(space=SPACE)] == ["Everything"]
    assert client.data_modeling.containers.list(space="other") == []
    assert client.data_modeling.containers.delete((SPACE, "Everything")) == [dm.ContainerId(SPACE, "Everything")]
    assert client.data_modeling.containers.retrieve((SPACE, "Everything")) is None


def test_container_apply_accepts_read_form_properties_sent_by_the_sdk(client: Any) -> None:
    """The SDK's own examples apply ``ContainerProperty`` (the read class), which sends ``constraintState``."""
    client.data_modeling.spaces.apply(dm.SpaceApply(SPACE))
    read_form = dm.ContainerProperty(dm.Int64(), nullable=False)
    created = client.data_modeling.containers.apply(
        dm.ContainerApply(SPACE, "Counter", properties={"n": read_form})  # type: ignore[dict-item]
    )
    assert created.properties["n"].type == dm.Int64() and created.properties["n"].nullable is False


def test_view_resolves_container_types_connections_and_reverse_relations(emulator: Any, client: Any) -> None:
    setup_person(client)
    view = client.data_modeling.views.retrieve((SPACE, "Person", "v1"))[0]
    props = view.properties
    assert isinstance(props["name"], dm.MappedProperty)
    assert (props["name"].type, props["name"].nullable) == (dm.Text(), False)
    assert props["birthYear"].type == dm.Int32() and props["birthYear"].nullable is True
    assert props["bestFriend"].source == dm.ViewId(SPACE, "Person", "v1")
    assert props["friends"].type == dm.DirectRelation(is_list=True)
    assert isinstance(props["knows"], dm.MultiEdgeConnection)
    assert (props["knows"].type, props["knows"].direction) == (dm.DirectRelationReference(SPACE, "knows"), "outwards")
    reverse = props["bestFriendOf"]
    assert isinstance(reverse, dm.MultiReverseDirectRelation)
    assert reverse.through == dm.PropertyId(dm.ViewId(SPACE, "Person", "v1"), "bestFriend")
    raw = raw_view(emulator, "Person")
    assert raw["properties"]["bestFriendOf"]["targetsList"] is False
    assert raw["properties"]["friendOf"]["targetsList"] is True
    assert (view.writable, view.used_for, view.is_global) == (True, "node", False)
    assert view.referenced_containers() == {dm.ContainerId(SPACE, "Person")}


def raw_view(emulator: Any, external_id: str) -> dict[str, Any]:
    """The view as JSON, for fields the SDK does not keep (targetsList, mappedContainers, queryable)."""
    status, body = raw_call(
        emulator,
        "POST",
        "/models/views/byids",
        {"items": [{"space": SPACE, "externalId": external_id, "version": "v1"}]},
    )
    assert status == 200
    return dict(body["items"][0])


def test_implements_inherits_parent_properties_and_own_ones_override(emulator: Any, client: Any) -> None:
    setup_person(client)
    actor_props = {"wonOscar": dm.ContainerPropertyApply(dm.Boolean()), "label": dm.ContainerPropertyApply(dm.Text())}
    client.data_modeling.containers.apply(dm.ContainerApply(SPACE, "Actor", properties=actor_props))
    actor = dm.ViewApply(
        SPACE,
        "Actor",
        "v1",
        implements=[dm.ViewId(SPACE, "Person", "v1")],
        properties={
            "wonOscar": dm.MappedPropertyApply(dm.ContainerId(SPACE, "Actor"), "wonOscar"),
            "name": dm.MappedPropertyApply(dm.ContainerId(SPACE, "Actor"), "label", name="Stage name"),
        },
    )
    client.data_modeling.views.apply(actor)
    full = client.data_modeling.views.retrieve((SPACE, "Actor", "v1"))[0]
    assert set(full.properties) == {"name", "birthYear", "bestFriend", "friends", "bestFriendOf", "friendOf",
                                    "knows", "wonOscar"}  # fmt: skip
    assert full.properties["name"].container == dm.ContainerId(SPACE, "Actor")
    assert full.properties["name"].name == "Stage name"
    assert full.properties["birthYear"].container == dm.ContainerId(SPACE, "Person")
    assert full.implements == [dm.ViewId(SPACE, "Person", "v1")]
    # Person.name (not nullable) is no longer mapped: Actor cannot write Person rows
    assert full.writable is False

    own = client.data_modeling.views.retrieve((SPACE, "Actor", "v1"), include_inherited_properties=False)[0]
    assert set(own.properties) == {"wonOscar", "name"}
    raw = raw_view(emulator, "Actor")
    assert sorted(raw["mappedContainers"], key=lambda ref: ref["externalId"]) == [
        {"type": "container", "space": SPACE, "externalId": "Actor"},
        {"type": "container", "space": SPACE, "externalId": "Person"},
    ]
    assert raw["queryable"] is True


def test_edge_views_are_used_for_edges_and_serve_as_edge_source(emulator: Any, client: Any) -> None:
    setup_person(client)
    client.data_modeling.containers.apply(
        dm.ContainerApply(SPACE, "Since", properties={"year": dm.ContainerPropertyApply(dm.Int32())}, used_for="edge")
    )
    since = dm.ViewApply(
        SPACE, "Since", "v1", properties={"year": dm.MappedPropertyApply(dm.ContainerId(SPACE, "Since"), "year")}
    )
    person = dm.ViewId(SPACE, "Person", "v1")
    knower = dm.ViewApply(
        SPACE,
        "Knower",
        "v1",
        properties={
            "knownBy": SingleEdgeConnectionApply(
                type=dm.DirectRelationReference(SPACE, "knows"),
                source=person,
                edge_source=dm.ViewId(SPACE, "Since", "v1"),
                direction="inwards",
            )
        },
    )
    created = client.data_modeling.views.apply([since, knower])
    by_id = {v.external_id: v for v in created}
    assert by_id["Since"].used_for == "edge"
    connection = by_id["Knower"].properties["knownBy"]
    assert isinstance(connection, SingleEdgeConnection)
    assert (connection.edge_source, connection.direction) == (dm.ViewId(SPACE, "Since", "v1"), "inwards")
    # a view without containers can be read through its connections but not written
    assert (by_id["Knower"].writable, raw_view(emulator, "Knower")["queryable"]) == (False, False)


def test_view_versions_times_and_latest_version_listing(emulator: Any, client: Any) -> None:
    setup_person(client)
    v1 = client.data_modeling.views.retrieve((SPACE, "Person", "v1"))[0]
    emulator.clock.advance("1s")
    again = client.data_modeling.views.apply(person_view())
    assert (again.created_time, again.last_updated_time) == (v1.created_time, v1.last_updated_time)
    changed = person_view()
    changed.name = "People"
    emulator.clock.advance("1s")
    updated = client.data_modeling.views.apply(changed)
    assert updated.created_time == v1.created_time and updated.last_updated_time > v1.last_updated_time
    emulator.clock.advance("1s")
    client.data_modeling.views.apply(person_view(version="v2"))

    assert [v.version for v in client.data_modeling.views.retrieve((SPACE, "Person"))] == ["v1", "v2"]
    assert [v.version for v in client.data_modeling.views.list(space=SPACE)] == ["v2"]
    assert [v.version for v in client.data_modeling.views.list(space=SPACE, all_versions=True)] == ["v1", "v2"]
    assert client.data_modeling.views.delete((SPACE, "Person", "v1")) == [dm.ViewId(SPACE, "Person", "v1")]
    assert [v.version for v in client.data_modeling.views.retrieve((SPACE, "Person"))] == ["v2"]


def test_views_list_unlimited_follows_cursors_past_one_page(emulator: Any, client: Any) -> None:
    client.data_modeling.spaces.apply(dm.SpaceApply(SPACE))
    client.data_modeling.containers.apply(
        dm.ContainerApply(SPACE, "Thing", properties={"name": dm.ContainerPropertyApply(dm.Text())})
    )
    thing = dm.ContainerId(SPACE, "Thing")
    views = [dm.ViewApply(SPACE, f"View{i:04d}", "1", properties={"name": dm.MappedPropertyApply(thing, "name")})
             for i in range(1005)]  # fmt: skip
    emulator.state.schema.apply_views([view.dump() for view in views])
    listed = client.data_modeling.views.list(limit=-1, space=SPACE)
    assert [v.external_id for v in listed] == [v.external_id for v in views]
    status, body = raw_call(emulator, "GET", "/models/views", params={"space": SPACE, "limit": 1000})
    assert status == 200 and len(body["items"]) == 1000 and body["nextCursor"]


def test_data_models_with_referenced_and_inline_views(emulator: Any, client: Any) -> None:
    setup_person(client)
    inline = dm.ViewApply(SPACE, "Pet", "v1", properties={"owner": dm.MappedPropertyApply(
        dm.ContainerId(SPACE, "Person"), "bestFriend", source=dm.ViewId(SPACE, "Person", "v1"))})  # fmt: skip
    model = dm.DataModelApply(SPACE, "Zoo", "1", name="Zoo", views=[dm.ViewId(SPACE, "Person", "v1"), inline])
    created = client.data_modeling.data_models.apply(model)
    assert created.views == [dm.ViewId(SPACE, "Person", "v1"), dm.ViewId(SPACE, "Pet", "v1")]
    assert client.data_modeling.views.retrieve((SPACE, "Pet", "v1"))[0].properties["owner"].source == dm.ViewId(
        SPACE, "Person", "v1"
    )

    expanded = client.data_modeling.data_models.retrieve((SPACE, "Zoo", "1"), inline_views=True)[0]
    assert [type(v) for v in expanded.views] == [dm.View, dm.View]
    assert expanded.views[0].properties["knows"].source == dm.ViewId(SPACE, "Person", "v1")
    plain = client.data_modeling.data_models.retrieve((SPACE, "Zoo", "1"))[0]
    assert plain.views == created.views and plain.name == "Zoo"

    emulator.clock.advance("1s")
    client.data_modeling.data_models.apply(dm.DataModelApply(SPACE, "Zoo", "2", views=[dm.ViewId(SPACE, "Pet", "v1")]))
    assert [m.version for m in client.data_modeling.data_models.list(space=SPACE)] == ["2"]
    listed = client.data_modeling.data_models.list(space=SPACE, all_versions=True, inline_views=True)
    assert [(m.version, [v.external_id for v in m.views]) for m in listed] == [("1", ["Person", "Pet"]), ("2", ["Pet"])]
    assert [m.version for m in client.data_modeling.data_models.retrieve((SPACE, "Zoo"))] == ["1", "2"]
    assert client.data_modeling.data_models.delete((SPACE, "Zoo", "1")) == [dm.DataModelId(SPACE, "Zoo", "1")]
    assert [m.version for m in client.data_modeling.data_models.retrieve((SPACE, "Zoo"))] == ["2"]
    # deleting a data model leaves its views
    assert client.data_modeling.views.retrieve((SPACE, "Person", "v1"))


def test_space_with_schema_cannot_be_deleted(client: Any) -> None:
    setup_person(client)
    from cognite.client.exceptions import CogniteAPIError

    try:
        client.data_modeling.spaces.delete(SPACE)
    except CogniteAPIError as error:
        assert error.code == 400 and "containers" in error.message
    else:
        raise AssertionError("deleting a space that holds containers must fail")
    client.data_modeling.views.delete((SPACE, "Person", "v1"))
    client.data_modeling.containers.delete((SPACE, "Person"))
    assert client.data_modeling.spaces.delete(SPACE) == [SPACE]
