"""Changes the end-to-end tests make to the emulator's data: updates, deletes, new instances, a new property.

Each function writes through the emulator's instance store and schema (what CDF's API would do) and returns
nothing: the tests compare the lake with whatever the emulator holds afterwards.
"""

from __future__ import annotations

from typing import Any

from cdf_emulator import Emulator
from cdf_emulator.seeds import demo, movies
from cdf_emulator.seeds._build import cprop, direct, edge, mapped, node

MOVIES_SPACE = movies.SPACE


def _delete(emulator: Emulator, kind: str, space: str, *external_ids: str) -> None:
    emulator.state.instances.delete([{"instanceType": kind, "space": space, "externalId": x} for x in external_ids])


def _person_schema() -> tuple[dict[str, Any], dict[str, Any]]:
    """The seed's ``Person`` container and view, the container with a ``nationality`` property added."""
    schema = movies.schema_items()
    container = next(c for c in schema["containers"] if c["externalId"] == "Person")
    container["properties"]["nationality"] = cprop("text")
    view = next(v for v in schema["views"] if v["externalId"] == "Person")
    return container, view


def prepare_movies(emulator: Emulator) -> None:
    """Data the ``Person`` view does not show yet: a new container property, written through the container."""
    container, _ = _person_schema()
    emulator.state.schema.apply_containers([container])
    person = {"type": "container", "space": MOVIES_SPACE, "externalId": "Person"}
    emulator.state.instances.apply(
        [
            {
                "instanceType": "node",
                "space": MOVIES_SPACE,
                "externalId": "person:laurence",
                "sources": [{"source": person, "properties": {"nationality": "American"}}],
            }
        ]
    )


def add_person_nationality(emulator: Emulator) -> None:
    """A new view property: view ``Person`` maps ``nationality``, which already holds data for some people."""
    container, view = _person_schema()
    view["properties"]["nationality"] = mapped(MOVIES_SPACE, "Person", "nationality")
    emulator.state.schema.apply_containers([container])
    emulator.state.schema.apply_views([view])


def mutate_movies(emulator: Emulator) -> None:
    """Updates, deletes (a node takes its edges along), new nodes and edges, and a new view property.

    Call :func:`prepare_movies` before the first replication: the new property then has a value for an
    instance that does not change afterwards, which only a backfill of the view can bring into its table.
    """
    add_person_nationality(emulator)
    s = MOVIES_SPACE
    person, actor, movie = movies.PERSON, movies.ACTOR, movies.MOVIE
    emulator.state.instances.apply(
        [
            node(s, "person:keanu", person, {"birthYear": 1965, "nationality": "Canadian"}),
            node(s, "person:hugo", person, {"name": "Hugo Weaving", "birthYear": 1960, "nationality": "Australian"}),
            node(s, "actor:hugo", actor, {"wonOscar": False, "person": direct(s, "person:hugo")}),
            node(s, "actor:carrie", actor, {"wonOscar": True}),
            node(s, "movie:matrix", movie, {"title": "The Matrix (1999)", "meta": {"genre": ["sci-fi"], "é": "ü"}}),
            node(s, "movie:v", movie, {"title": "V for Vendetta", "releaseYear": 2005, "runTimeMinutes": 132.25}),
            edge(s, "movie:v->actor:hugo", movies.ACTED_IN, (s, "movie:v"), (s, "actor:hugo")),
            edge(s, "movie:matrix->actor:hugo", movies.ACTED_IN, (s, "movie:matrix"), (s, "actor:hugo")),
        ]
    )
    _delete(emulator, "node", s, "person:david", "movie:matrix-reloaded")
    _delete(emulator, "edge", s, "movie:john-wick->actor:keanu")


def delete_before_expiry_movies(emulator: Emulator) -> None:
    """Deletes and an update made while the replicator's cursors are still valid (they expire afterwards)."""
    s = MOVIES_SPACE
    _delete(emulator, "node", s, "person:carrie", "actor:laurence")
    emulator.state.instances.apply([node(s, "movie:lawrence", movies.MOVIE, {"runTimeMinutes": 216.0})])


def change_after_expiry_movies(emulator: Emulator) -> None:
    """A delete (its tombstone is still there) and a new node after the clock passed the cursor TTL."""
    s = MOVIES_SPACE
    _delete(emulator, "node", s, "person:omar")
    emulator.state.instances.apply([node(s, "person:ridley", movies.PERSON, {"name": "Ridley Scott"})])


def _demo_containers(*names: str) -> dict[str, dict[str, Any]]:
    """The demo seed's containers of these names, each with its new property added."""
    added = {"WorkOrderAssetLinkData": ("note", cprop("text")), "EquipmentData": ("ratedFlow", cprop("float64"))}
    containers = {c["externalId"]: c for c in demo.schema_items()["containers"] if c["externalId"] in names}
    for name, container in containers.items():
        prop, definition = added[name]
        container["properties"][prop] = definition
    return containers


def prepare_demo(emulator: Emulator) -> None:
    """A new edge container property with a value on one existing edge, before any view maps it."""
    from cdf_emulator.seeds.demo_instances import WORK_ORDER_ASSETS

    emulator.state.schema.apply_containers(list(_demo_containers("WorkOrderAssetLinkData").values()))
    link = next(
        e for e in emulator.state.instances.current("edge")
        if (e["type"]["space"], e["type"]["externalId"]) == WORK_ORDER_ASSETS
    )  # fmt: skip
    container = {"type": "container", "space": demo.SPACE, "externalId": "WorkOrderAssetLinkData"}
    item = {key: link[key] for key in ("instanceType", "space", "externalId", "type", "startNode", "endNode")}
    emulator.state.instances.apply([item | {"sources": [{"source": container, "properties": {"note": "before"}}]}])


def add_link_and_equipment_properties(emulator: Emulator) -> None:
    """New properties on an edge-source container (``WorkOrderAssetLinkData.note``) and on ``Equipment``."""
    containers = _demo_containers("WorkOrderAssetLinkData", "EquipmentData")
    views = {"WorkOrderAssetLink": ("WorkOrderAssetLinkData", "note"), "Equipment": ("EquipmentData", "ratedFlow")}
    updated = []
    for view in demo.schema_items()["views"]:
        if view["externalId"] in views:
            container, prop = views[view["externalId"]]
            view["properties"][prop] = mapped(demo.SPACE, container, prop)
            updated.append(view)
    emulator.state.schema.apply_containers(list(containers.values()))
    emulator.state.schema.apply_views(updated)


def mutate_demo(emulator: Emulator) -> None:
    """Across both plant spaces: updates of every kind of column, deletes with their edges, new nodes and edges."""
    from cdf_emulator.seeds.demo_instances import (
        ASSET,
        CONNECTS_TO,
        EQUIPMENT,
        FLOW,
        WORK_ORDER,
        WORK_ORDER_ASSETS,
        WORK_ORDER_LINK,
    )

    add_link_and_equipment_properties(emulator)
    north, south = demo.INSTANCE_SPACES
    eq = f"{north}:equipment:0001"
    items: list[dict[str, Any]] = [
        node(north, eq, EQUIPMENT, {"ratedFlow": 12.5, "temperatures": [1.25, -3.5], "spec": {"ip": "IP68"}}),
        node(north, f"{north}:equipment:0002", EQUIPMENT, {"checkDates": ["2025-02-28"], "inService": False}),
        node(south, f"{south}:asset:0003", ASSET, {"status": "maintenance", "installedAt": "2025-06-01T12:00:00Z"}),
        node(south, f"{south}:workorder:0900", WORK_ORDER, {"name": "Work order 900", "title": "Inspect ø valve"}),
        edge(south, f"{south}:workorder:0900:assets:0003", WORK_ORDER_ASSETS,
             (south, f"{south}:workorder:0900"), (south, f"{south}:asset:0003"), WORK_ORDER_LINK,
             {"role": "inspect", "sequence": 0, "note": "new property on an edge"}),
        edge(north, f"{north}:flow:0900", CONNECTS_TO, (north, eq), (north, f"{north}:equipment:0003"), FLOW,
             {"medium": "hydrogen"}),
    ]  # fmt: skip
    emulator.state.instances.apply(items)
    _delete(emulator, "node", north, f"{north}:asset:0150", f"{north}:workorder:0005", f"{north}:equipment:0007")
    _delete(emulator, "edge", south, f"{south}:flow:0001")


def delete_before_expiry_demo(emulator: Emulator) -> None:
    """Deletes of nodes (and with them their edges) and edges while the cursors are still valid."""
    north, south = demo.INSTANCE_SPACES
    _delete(emulator, "node", south, f"{south}:workorder:0010", f"{south}:equipment:0042", f"{south}:asset:0199")
    _delete(emulator, "edge", north, f"{north}:flow:0002", f"{north}:workorder:0011:primary")
