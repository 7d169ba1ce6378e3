"""View definitions (API JSON) -> ViewSpec, and identifier validation."""

from __future__ import annotations

from typing import Any

import pytest

from cdf_replicator.errors import SchemaMappingError
from cdf_replicator.sync_query import ViewRef
from cdf_replicator.views import (
    EdgeConnectionSpec,
    PropertySpec,
    ViewSpec,
    edge_source_refs_for,
    validate_identifier,
    view_spec_from_definition,
)

CONTAINER = {"type": "container", "space": "sp", "externalId": "Movie"}


def mapped(type_: dict[str, Any], nullable: bool = True) -> dict[str, Any]:
    return {
        "container": CONTAINER,
        "containerPropertyIdentifier": "x",
        "type": type_,
        "nullable": nullable,
        "immutable": False,
        "autoIncrement": False,
    }


def view_ref(xid: str, version: str = "v1") -> dict[str, str]:
    return {"type": "view", "space": "sp", "externalId": xid, "version": version}


def view(properties: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    definition = {
        "space": "sp",
        "externalId": "Movie",
        "version": "v1",
        "usedFor": "node",
        "writable": True,
        "queryable": True,
        "isGlobal": False,
        "createdTime": 1,
        "lastUpdatedTime": 2,
        "implements": [],
        "properties": properties,
    }
    definition.update(overrides)
    return definition


def test_view_definition_becomes_spec_in_definition_order() -> None:
    definition = view(
        {
            "title": mapped({"type": "text", "list": False, "collation": "ucs_basic"}, nullable=False),
            "tags": mapped({"type": "text", "list": True}),
            "director": mapped({"type": "direct", "source": view_ref("Person")}),
            "genre": mapped({"type": "enum", "values": {"drama": {}, "comedy": {}}}),
            "actors": {
                "connectionType": "multi_edge_connection",
                "type": {"space": "sp", "externalId": "Movie.actors"},
                "source": view_ref("Person"),
                "edgeSource": view_ref("Role"),
                "direction": "outwards",
            },
            "reviews": {
                "connectionType": "multi_reverse_direct_relation",
                "source": view_ref("Review"),
                "through": {"source": view_ref("Review"), "identifier": "movie"},
                "targetsList": False,
            },
            "runtime": mapped({"type": "int32", "list": False, "unit": {"externalId": "time:min"}}),
            "sequel": {
                "connectionType": "single_edge_connection",
                "type": {"space": "types", "externalId": "sequel"},
                "source": view_ref("Movie"),
                "direction": "inwards",
            },
        }
    )

    assert view_spec_from_definition(definition) == ViewSpec(
        space="sp",
        external_id="Movie",
        version="v1",
        used_for="node",
        properties=(
            PropertySpec("title", "text", is_list=False, nullable=False),
            PropertySpec("tags", "text", is_list=True, nullable=True),
            PropertySpec("director", "direct", is_list=False, nullable=True),
            PropertySpec("genre", "enum", is_list=False, nullable=True),
            PropertySpec("runtime", "int32", is_list=False, nullable=True),
        ),
        edge_connections=(
            EdgeConnectionSpec(
                "actors", ("sp", "Movie.actors"), "outwards", ViewRef("sp", "Person", "v1"), ViewRef("sp", "Role", "v1")
            ),
            EdgeConnectionSpec("sequel", ("types", "sequel"), "inwards", ViewRef("sp", "Movie", "v1"), None),
        ),
    )


def test_edge_view_keeps_used_for_and_unknown_types_pass_through_to_the_mapping() -> None:
    spec = view_spec_from_definition(
        view({"role": mapped({"type": "text", "list": False}), "shape": mapped({"type": "geometry"})}, usedFor="edge")
    )

    assert spec.used_for == "edge"
    assert spec.properties == (PropertySpec("role", "text"), PropertySpec("shape", "geometry"))
    assert spec.ref == ViewRef("sp", "Movie", "v1")
    assert spec.label == "sp:Movie/v1"


def test_edge_source_refs_are_distinct_and_in_definition_order() -> None:
    def connection(name: str, edge_source: str | None) -> dict[str, Any]:
        return {
            "connectionType": "multi_edge_connection",
            "type": {"space": "sp", "externalId": name},
            "source": view_ref("Person"),
            "edgeSource": None if edge_source is None else view_ref(edge_source),
            "direction": "outwards",
        }

    spec = view_spec_from_definition(
        view(
            {
                "a": connection("a", "Role"),
                "b": connection("b", None),
                "c": connection("c", "Credit"),
                "d": connection("d", "Role"),
            }
        )
    )

    assert edge_source_refs_for(spec) == (ViewRef("sp", "Role", "v1"), ViewRef("sp", "Credit", "v1"))


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("space", "sp"),
        ("space", "my-space_1"),
        ("space", "a" * 43),
        ("externalId", "Movie"),
        ("externalId", "Cognite360Image_v2"),
        ("externalId", "a" * 255),
        ("version", "v1"),
        ("version", "2024.01.15-rc_1"),
        ("property", "releaseYear"),
        ("property", "x"),
    ],
)
def test_valid_identifiers_are_returned(kind: str, value: str) -> None:
    assert validate_identifier(kind, value) == value


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("space", ""),
        ("space", "1space"),
        ("space", "my space"),
        ("space", "a/b"),
        ("space", "a" * 44),
        ("externalId", "Movie-View"),
        ("externalId", "../etc"),
        ("externalId", "Movie/v1"),
        ("externalId", "a" * 256),
        ("externalId", "Movie_"),
        ("version", ".."),
        ("version", "v1/x"),
        ("version", "v1 "),
        ("property", "bad-name"),
        ("property", "_private"),
        ("property", "dotted.name"),
        ("property", "ünïcode"),
        ("property", 5),
        ("space", None),
    ],
)
def test_invalid_identifiers_raise(kind: str, value: object) -> None:
    with pytest.raises(SchemaMappingError, match=f"invalid {kind} identifier"):
        validate_identifier(kind, value)


def test_unknown_identifier_kind_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown identifier kind"):
        validate_identifier("model", "x")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"space": "bad space"}, r"view 'bad space':'Movie'/'v1': invalid space identifier"),
        ({"externalId": "Mo/vie"}, r"view 'sp':'Mo/vie'/'v1': invalid externalId identifier"),
        ({"version": "../v1"}, r"view 'sp':'Movie'/'\.\./v1': invalid version identifier"),
        ({"usedFor": "both"}, r"view sp:Movie/v1: usedFor must be node, edge or all"),
        ({"properties": {"bad-name": mapped({"type": "text", "list": False})}}, r"view sp:Movie/v1: invalid property"),
        (
            {"properties": {"x": {"connectionType": "hyper_edge"}}},
            r"view sp:Movie/v1, property 'x': unknown connection",
        ),
        ({"properties": {"x": {"direction": "outwards"}}}, r"view sp:Movie/v1, property 'x': neither a mapped"),
        ({"properties": {"x": {"container": CONTAINER}}}, r"view sp:Movie/v1, property 'x': the property has no type"),
        ({"properties": {"x": "text"}}, r"view sp:Movie/v1, property 'x': the definition is not an object"),
        (
            {
                "properties": {
                    "x": {
                        "connectionType": "single_edge_connection",
                        "type": {"space": "sp", "externalId": "t"},
                        "source": {"type": "view", "space": "sp", "externalId": "P/1", "version": "v1"},
                        "direction": "outwards",
                    }
                }
            },
            r"view sp:Movie/v1, edge connection 'x': source: invalid externalId",
        ),
        (
            {
                "properties": {
                    "x": {
                        "connectionType": "multi_edge_connection",
                        "type": "Movie.actors",
                        "source": view_ref("Person"),
                        "direction": "outwards",
                    }
                }
            },
            r"view sp:Movie/v1, edge connection 'x': the edge type must be",
        ),
        (
            {
                "properties": {
                    "x": {
                        "connectionType": "multi_edge_connection",
                        "type": {"space": "sp", "externalId": "t"},
                        "source": view_ref("Person"),
                        "direction": "sideways",
                    }
                }
            },
            r"view sp:Movie/v1, edge connection 'x': direction must be",
        ),
    ],
)
def test_bad_view_definitions_raise_naming_the_view(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(SchemaMappingError, match=message):
        view_spec_from_definition(view({"title": mapped({"type": "text", "list": False})}) | overrides)
