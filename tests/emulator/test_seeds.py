"""Seed data sets: deterministic, consistent with their own schema, and readable through the SDK."""

from __future__ import annotations

import re
from typing import Any

import pytest
from cognite.client import data_modeling as dm

from cdf_emulator.clock import Clock
from cdf_emulator.schema import SchemaStore
from cdf_emulator.seeds import SEEDS, demo, demo_instances, load_seed, movies

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:\d{2})$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SCALAR_CHECKS: dict[str, Any] = {
    "text": lambda v, t: isinstance(v, str),
    "boolean": lambda v, t: isinstance(v, bool),
    "int32": lambda v, t: isinstance(v, int) and not isinstance(v, bool) and -(2**31) <= v < 2**31,
    "int64": lambda v, t: isinstance(v, int) and not isinstance(v, bool) and -(2**63) <= v < 2**63,
    "float32": lambda v, t: isinstance(v, float) and v * 4 == int(v * 4),  # exact in float32
    "float64": lambda v, t: isinstance(v, (int, float)) and not isinstance(v, bool),
    "timestamp": lambda v, t: isinstance(v, str) and bool(TIMESTAMP.match(v)),
    "date": lambda v, t: isinstance(v, str) and bool(DATE.match(v)),
    "json": lambda v, t: isinstance(v, dict),
    "timeseries": lambda v, t: isinstance(v, str) and v != "",
    "file": lambda v, t: isinstance(v, str) and v != "",
    "sequence": lambda v, t: isinstance(v, str) and v != "",
    "direct": lambda v, t: isinstance(v, dict) and set(v) == {"space", "externalId"},
    "enum": lambda v, t: v in t["values"],
}


def schema_store(module: Any) -> SchemaStore:
    """The seed's schema applied to a fresh store (no instances needed)."""
    store = SchemaStore(Clock())
    items = module.schema_items()
    store.apply_spaces(items["spaces"])
    store.apply_containers(items["containers"])
    store.apply_views(items["views"])
    store.apply_data_models(items["data_models"])
    return store


def check_value(value: Any, prop_type: dict[str, Any]) -> bool:
    check = SCALAR_CHECKS[prop_type["type"]]
    if value is None:
        return True
    if prop_type.get("list"):
        return isinstance(value, list) and all(check(v, prop_type) for v in value)
    return bool(check(value, prop_type))


def check_instances(store: SchemaStore, items: list[dict[str, Any]]) -> set[str]:
    """Every written property exists in its view and has the right encoding; returns the types written."""
    written: set[str] = set()
    nodes = {(i["space"], i["externalId"]) for i in items if i["instanceType"] == "node"}
    for item in items:
        assert store.space_exists(item["space"]), item["space"]
        if item["instanceType"] == "edge":
            assert (item["startNode"]["space"], item["startNode"]["externalId"]) in nodes
            assert (item["endNode"]["space"], item["endNode"]["externalId"]) in nodes
        for source in item.get("sources", []):
            ref = source["source"]
            view = store.get_view(ref["space"], ref["externalId"], ref["version"])
            assert view is not None and view["usedFor"] in (item["instanceType"], "all"), ref
            mappings = store.view_properties(ref["space"], ref["externalId"], ref["version"]) or {}
            for name, value in source["properties"].items():
                assert name in mappings, f"{ref['externalId']}.{name}"
                assert check_value(value, mappings[name].type), (item["externalId"], name, value)
                written.add(mappings[name].type["type"] + ("[]" if mappings[name].type.get("list") else ""))
    return written


def test_registry_rejects_unknown_seeds() -> None:
    assert SEEDS == ("none", "movies", "demo")
    with pytest.raises(ValueError, match="unknown seed 'films'"):
        load_seed("films", None)


def test_seed_content_is_deterministic() -> None:
    assert movies.instance_items() == movies.instance_items()
    assert demo_instances.instance_items(demo.INSTANCE_SPACES) == demo_instances.instance_items(demo.INSTANCE_SPACES)
    assert demo.schema_items() == demo.schema_items()


def test_movies_seed_is_consistent_and_has_a_quoted_external_id() -> None:
    store = schema_store(movies)
    items = movies.instance_items()
    assert check_instances(store, items) == {"text", "int32", "float32", "json", "boolean", "direct"}
    quoted = [i["externalId"] for i in items if "'" in i["externalId"] and '"' in i["externalId"]]
    assert movies.QUOTED_ACTOR in quoted
    edges = [i for i in items if i["instanceType"] == "edge"]
    assert {e["type"]["externalId"] for e in edges} == {"Movie.actors"} and len(edges) == 9
    actor = store.get_view("movies", "Actor", "1")
    assert actor is not None and actor["properties"]["movies"]["direction"] == "inwards"


def test_demo_seed_covers_every_property_type_and_is_consistent() -> None:
    store = schema_store(demo)
    items = demo_instances.instance_items(demo.INSTANCE_SPACES)
    written = check_instances(store, items)
    scalars = {"text", "int32", "int64", "float32", "float64", "boolean", "timestamp", "date", "json", "enum",
               "direct", "timeseries", "file", "sequence"}  # fmt: skip
    lists = {"text[]", "int32[]", "int64[]", "float32[]", "float64[]", "boolean[]", "timestamp[]", "date[]", "json[]",
             "direct[]", "timeseries[]", "file[]", "sequence[]"}  # fmt: skip
    assert written == scalars | lists
    assert 2000 <= len(items) <= 6000
    assert {i["space"] for i in items} == set(demo.INSTANCE_SPACES)
    nulls = [name for i in items for s in i.get("sources", []) for name, v in s["properties"].items() if v is None]
    assert {"description", "parent", "assignee", "serialNumber", "datasheet"} <= set(nulls)
    views = {v["externalId"]: v for v in store.list_views()}
    assert {k for k, v in views.items() if v["usedFor"] == "edge"} == {"WorkOrderAssetLink", "Flow"}
    assert views["Asset"]["properties"]["children"]["connectionType"] == "multi_reverse_direct_relation"
    assert views["WorkOrder"]["properties"]["assets"]["edgeSource"]["externalId"] == "WorkOrderAssetLink"
    assert views["Equipment"]["properties"]["name"]["container"]["externalId"] == "Describable"  # inherited


def test_schema_of_both_seeds_reads_back_through_the_sdk(emulator: Any, client: Any) -> None:
    for module in (movies, demo):
        items = module.schema_items()
        emulator.state.schema.apply_spaces(items["spaces"])
        emulator.state.schema.apply_containers(items["containers"])
        emulator.state.schema.apply_views(items["views"])
        emulator.state.schema.apply_data_models(items["data_models"])
    model = client.data_modeling.data_models.retrieve(("movies", "Movies", "1"), inline_views=True)[0]
    assert [v.external_id for v in model.views] == ["Person", "Actor", "Movie"]
    movie = model.views[2]
    assert isinstance(movie.properties["actors"], dm.MultiEdgeConnection)
    assert movie.properties["actors"].source == dm.ViewId("movies", "Actor", "1")
    plant = client.data_modeling.data_models.retrieve(("demo_model", "Plant", "v1"), inline_views=True)[0]
    assert len(plant.views) == 7 and all(isinstance(v, dm.View) for v in plant.views)
    assert {s.space for s in client.data_modeling.spaces.list(limit=-1)} == {
        "movies", "demo_model", "plant_north", "plant_south"}  # fmt: skip


@pytest.mark.parametrize(
    ("seed", "model", "spaces", "expected"),
    [
        ("movies", ("movies", "Movies", "1"), ["movies"], movies.instance_items),
        ("demo", ("demo_model", "Plant", "v1"), list(demo.INSTANCE_SPACES),
         lambda: demo_instances.instance_items(demo.INSTANCE_SPACES)),
    ],
)  # fmt: skip
def test_seed_loads_into_an_emulator_and_the_sdk_reads_it(
    validated_emulator: Any, seed: str, model: tuple[str, str, str], spaces: list[str], expected: Any
) -> None:
    emulator = validated_emulator(seed=seed)
    client = emulator.client()
    assert client.data_modeling.data_models.retrieve(model, inline_views=True)[0].views
    items = expected()
    for kind in ("node", "edge"):
        listed = client.data_modeling.instances.list(instance_type=kind, space=spaces, limit=-1)
        want = {(i["space"], i["externalId"]) for i in items if i["instanceType"] == kind}
        assert {(i.space, i.external_id) for i in listed} == want
