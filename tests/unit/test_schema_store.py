"""The SchemaStore methods the instance store calls directly (no HTTP)."""

from __future__ import annotations

from typing import Any

import pytest

from cdf_emulator.clock import Clock
from cdf_emulator.errors import ApiError
from cdf_emulator.schema import PropertyMapping, SchemaStore
from cdf_emulator.schema_common import decode_cursor, encode_cursor, paginate

SP = "sp"


def mapped(container: str, prop: str) -> dict[str, Any]:
    return {
        "container": {"type": "container", "space": SP, "externalId": container},
        "containerPropertyIdentifier": prop,
    }


@pytest.fixture()
def store() -> SchemaStore:
    clock = Clock()
    store = SchemaStore(clock)
    store.apply_spaces([{"space": SP}])
    store.apply_containers(
        [
            {"space": SP, "externalId": "Base", "properties": {"name": {"type": {"type": "text"}}}},
            {"space": SP, "externalId": "Pump", "properties": {"power": {"type": {"type": "float32", "list": True}}}},
        ]
    )
    store.apply_views(
        [{"space": SP, "externalId": "Base", "version": "1", "properties": {"name": mapped("Base", "name")}}]
    )
    clock.advance("1s")
    pump = {"space": SP, "externalId": "Pump", "implements": [{"type": "view", "space": SP, "externalId": "Base",
            "version": "1"}], "properties": {"kw": mapped("Pump", "power")}}  # fmt: skip
    store.apply_views([dict(pump, version="1")])
    clock.advance("1s")
    store.apply_views([dict(pump, version="2")])
    return store


def test_view_property_resolves_own_and_inherited_properties(store: SchemaStore) -> None:
    assert store.view_property(SP, "Pump", "1", "kw") == PropertyMapping(
        SP, "Pump", "power", {"type": "float32", "list": True}
    )
    assert store.view_property(SP, "Pump", "1", "name") == PropertyMapping(
        SP, "Base", "name", {"type": "text", "list": False, "collation": "ucs_basic"}
    )
    assert store.view_property(SP, "Pump", "1", "nope") is None
    assert store.view_property(SP, "Ghost", "1", "kw") is None
    assert set(store.view_properties(SP, "Pump", "2") or {}) == {"name", "kw"}


def test_get_view_defaults_to_the_latest_version(store: SchemaStore) -> None:
    latest = store.get_view(SP, "Pump")
    assert latest is not None and latest["version"] == "2"
    assert store.view_containers(latest) == [(SP, "Base"), (SP, "Pump")]
    assert store.get_view(SP, "Pump", "1", include_inherited=False)["properties"].keys() == {"kw"}  # type: ignore[index]
    assert store.get_view(SP, "Pump", "3") is None
    assert [v["version"] for v in store.list_views(SP, all_versions=False)] == ["1", "2"]  # Base/1 and Pump/2
    assert len(store.list_views()) == 3


def test_returned_definitions_are_copies(store: SchemaStore) -> None:
    view = store.get_view(SP, "Base", "1")
    assert view is not None
    view["properties"]["name"]["type"]["type"] = "int32"
    mapping = store.view_property(SP, "Base", "1", "name")
    assert mapping is not None
    mapping.type["list"] = True
    assert store.get_view(SP, "Base", "1")["properties"]["name"]["type"] == {  # type: ignore[index]
        "type": "text",
        "list": False,
        "collation": "ucs_basic",
    }


def test_deleting_a_container_drops_the_properties_mapped_to_it(store: SchemaStore) -> None:
    store.delete_containers([(SP, "Pump")])
    pump = store.get_view(SP, "Pump", "2")
    assert pump is not None and set(pump["properties"]) == {"name"}
    assert store.view_property(SP, "Pump", "2", "kw") is None


def test_space_guard_blocks_deleting_a_space(store: SchemaStore) -> None:
    store.apply_spaces([{"space": "empty"}])
    store.add_space_guard(lambda space: "3 instances" if space == "empty" else None)
    with pytest.raises(ApiError, match="3 instances"):
        store.delete_spaces(["empty"])
    assert store.space_exists("empty")


def test_cursors_are_opaque_and_resume_after_the_last_item() -> None:
    items = [{"k": k} for k in "dacb"]
    page, cursor = paginate(items, lambda i: [i["k"]], 2, None)
    assert [i["k"] for i in page] == ["a", "b"] and cursor is not None and not set(cursor) & set('[]",')
    assert decode_cursor(cursor) == ["b"]
    page, cursor = paginate(items, lambda i: [i["k"]], 2, cursor)
    assert ([i["k"] for i in page], cursor) == (["c", "d"], None)
    with pytest.raises(ApiError, match=r"Invalid cursor provided\."):
        paginate(items, lambda i: [i["k"]], 2, encode_cursor(["b"])[:-3] + "!!!")
