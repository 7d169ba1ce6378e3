"""Bad input on the schema endpoints: CDF's error body and status, never a 500."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from cognite.client import data_modeling as dm
from cognite.client.exceptions import CogniteAPIError, CogniteNotFoundError

from cdf_emulator import Emulator
from tests.emulator.schema_support import SPACE, raw_call, setup_person
from tests.openapi_validator import ResponseValidator

PERSON_PROP = {"container": {"type": "container", "space": SPACE, "externalId": "Person"},
               "containerPropertyIdentifier": "name"}  # fmt: skip


def view_item(**changes: Any) -> dict[str, Any]:
    item = {"space": SPACE, "externalId": "Named", "version": "1", "properties": {"name": dict(PERSON_PROP)}}
    item.update(changes)
    return item


def assert_error(response: tuple[int, Any], status: int, fragment: str) -> dict[str, Any]:
    code, body = response
    assert code == status, body
    assert set(body) == {"error"} and body["error"]["code"] == status
    assert fragment in body["error"]["message"], body["error"]["message"]
    return dict(body["error"])


@pytest.fixture(scope="module")
def shared_emulator() -> Iterator[Emulator]:
    """One validated emulator for the requests below that all fail and so change nothing (saves start-ups)."""
    validator = ResponseValidator()
    with Emulator(on_response=validator.check) as emulator:
        yield emulator
    assert not validator.violations, "\n".join(validator.violations)


@pytest.mark.parametrize(
    ("path", "body", "fragment"),
    [
        ("/models/spaces", {"items": [{"space": "ok", "colour": "red"}]}, "Unrecognized field 'items[0].colour'"),
        ("/models/spaces", {"items": [{"space": "ok"}], "extra": 1}, "Unrecognized field 'extra'"),
        ("/models/spaces", {"items": [{"space": "1bad"}]}, "Invalid space identifier '1bad'"),
        ("/models/spaces", {"items": [{"space": "system"}]}, "is reserved"),
        ("/models/spaces", {"items": [{"space": "ok", "name": "n" * 256}]}, "at most 255"),
        ("/models/spaces", {"items": []}, "between 1 and 100"),
        ("/models/spaces", {"items": [{"space": f"s{i}"} for i in range(101)]}, "between 1 and 100"),
        ("/models/spaces", {"items": [{"space": "twice"}, {"space": "twice"}]}, "Duplicate"),
        ("/models/spaces/byids", {"items": [{"space": "a", "externalId": "b"}]}, "Unrecognized field"),
        ("/models/views/byids", {"items": [{"space": "a", "externalId": "has space"}]}, "Invalid externalId"),
        ("/models/views/delete", {"items": [{"space": "a", "externalId": "b"}]}, "Missing required field"),
        ("/models/datamodels/byids", {"items": [{"space": "a", "externalId": "b", "version": "bad/v"}]}, "version"),
    ],
)
def test_malformed_requests_are_400(shared_emulator: Emulator, path: str, body: Any, fragment: str) -> None:
    assert_error(raw_call(shared_emulator, "POST", path, body), 400, fragment)


@pytest.mark.parametrize(
    ("path", "params", "fragment"),
    [
        ("/models/spaces", {"limit": 1001}, "between 1 and 1000"),
        ("/models/views", {"limit": 0}, "between 1 and 1000"),
        ("/models/containers", {"limit": "ten"}, "Invalid integer"),
        ("/models/datamodels", {"cursor": "not-a-cursor"}, "Invalid cursor provided."),
        ("/models/views", {"space": "no spaces"}, "Invalid space identifier"),
        ("/models/views", {"allVersions": "maybe"}, "Invalid boolean"),
    ],
)
def test_bad_list_parameters_are_400(
    shared_emulator: Emulator, path: str, params: dict[str, Any], fragment: str
) -> None:
    assert_error(raw_call(shared_emulator, "GET", path, params=params), 400, fragment)


def test_schema_in_a_missing_space_is_rejected_with_missing(emulator: Any, client: Any) -> None:
    body = {"items": [{"space": "ghost", "externalId": "C", "properties": {"p": {"type": {"type": "text"}}}}]}
    error = assert_error(raw_call(emulator, "POST", "/models/containers", body), 400, "spaces do not exist: ghost")
    assert error["missing"] == [{"space": "ghost"}]
    with pytest.raises(CogniteNotFoundError):
        client.data_modeling.views.apply(dm.ViewApply("ghost", "V", "1"))


def test_container_property_rules(emulator: Any, client: Any) -> None:
    client.data_modeling.spaces.apply(dm.SpaceApply(SPACE))

    def container(props: Any, **extra: Any) -> tuple[int, Any]:
        item = {"space": SPACE, "externalId": "C", "properties": props, **extra}
        return raw_call(emulator, "POST", "/models/containers", {"items": [item]})

    assert_error(container({"externalId": {"type": {"type": "text"}}}), 400, "is reserved")
    assert_error(container({"bad id": {"type": {"type": "text"}}}), 400, "Invalid property identifier")
    assert_error(container({"p": {"type": {"type": "decimal"}}}), 400, "Unknown property type 'decimal'")
    assert_error(container({"p": {"type": {"type": "int32", "collation": "x"}}}), 400, "Unrecognized field")
    assert_error(container({"p": {"type": {"type": "enum", "values": {}}}}), 400, "1 to 32 values")
    assert_error(container({"p": {"type": {"type": "text"}, "autoIncrement": True}}), 400, "autoIncrement")
    assert_error(container({}), 400, "1 to 100 properties")
    assert_error(container({"p": {"type": {"type": "text"}}}, usedFor="record"), 400, "usedFor")
    too_many = {f"p{i}": {"type": {"type": "text"}} for i in range(101)}
    assert_error(container(too_many), 400, "1 to 100 properties")
    index = {"ix": {"properties": ["nope"]}}
    assert_error(container({"p": {"type": {"type": "text"}}}, indexes=index), 400, "unknown container property 'nope'")
    assert_error(raw_call(emulator, "POST", "/models/containers", {"items": [{"space": SPACE, "externalId": "Query",
                 "properties": {"p": {"type": {"type": "text"}}}}]}), 400, "reserved")  # fmt: skip

    assert container({"p": {"type": {"type": "text"}}})[0] == 200
    assert_error(container({"p": {"type": {"type": "int64"}}}), 400, "Cannot change the type")


def test_views_referring_to_missing_things_are_rejected(emulator: Any, client: Any) -> None:
    setup_person(client)

    def apply(item: dict[str, Any]) -> tuple[int, Any]:
        return raw_call(emulator, "POST", "/models/views", {"items": [item]})

    missing_container = dict(PERSON_PROP, container={"type": "container", "space": SPACE, "externalId": "Nope"})
    error = assert_error(apply(view_item(properties={"p": missing_container})), 400, "Container schema_test:Nope")
    assert error["missing"] == [{"type": "container", "space": SPACE, "externalId": "Nope"}]
    unknown_prop = dict(PERSON_PROP, containerPropertyIdentifier="shoeSize")
    assert_error(apply(view_item(properties={"p": unknown_prop})), 400, "has no property 'shoeSize'")
    parent = {"type": "view", "space": SPACE, "externalId": "Ghost", "version": "1"}
    error = assert_error(apply(view_item(implements=[parent])), 400, "View schema_test:Ghost/1 does not exist")
    assert error["missing"] == [parent]
    edge = {"type": {"space": SPACE, "externalId": "t"}, "source": parent}
    assert_error(apply(view_item(properties={"e": edge})), 400, "does not exist")
    person = parent | {"externalId": "Person", "version": "v1"}
    through = {
        "connectionType": "multi_reverse_direct_relation",
        "source": person,
        "through": {"source": person, "identifier": "name"},
    }
    assert_error(apply(view_item(properties={"r": through})), 400, "must point at a direct relation")
    assert_error(apply(view_item(properties={"createdTime": dict(PERSON_PROP)})), 400, "is reserved")
    assert_error(apply(view_item(externalId="String")), 400, "reserved")
    assert_error(apply(view_item(properties={"p": {"direction": "outwards"}})), 400, "Missing required field")
    assert_error(apply(view_item(filter=[1])), 400, "Expected an object")
    with pytest.raises(CogniteAPIError) as raised:
        client.data_modeling.views.apply(dm.ViewApply(SPACE, "Named", "1", implements=[dm.ViewId(SPACE, "G", "1")]))
    assert raised.value.code == 400


def test_implements_cycles_are_rejected(emulator: Any, client: Any) -> None:
    setup_person(client)
    ref_a = {"type": "view", "space": SPACE, "externalId": "A", "version": "1"}
    ref_b = dict(ref_a, externalId="B")
    items = [view_item(externalId="A", implements=[ref_b]), view_item(externalId="B", implements=[ref_a])]
    assert_error(raw_call(emulator, "POST", "/models/views", {"items": items}), 400, "Circular 'implements'")
    assert client.data_modeling.views.retrieve((SPACE, "A")) == []


def test_data_model_with_a_missing_view_is_rejected_and_nothing_is_stored(emulator: Any, client: Any) -> None:
    setup_person(client)
    ghost = {"type": "view", "space": SPACE, "externalId": "Ghost", "version": "1"}
    item = {"space": SPACE, "externalId": "M", "version": "1", "views": [view_item(), ghost]}
    error = assert_error(raw_call(emulator, "POST", "/models/datamodels", {"items": [item]}), 400, "views do not exist")
    assert error["missing"] == [ghost]
    assert client.data_modeling.views.retrieve((SPACE, "Named")) == []
    assert client.data_modeling.data_models.retrieve((SPACE, "M")) == []


def test_non_json_and_wrong_methods(emulator: Any) -> None:
    assert_error(raw_call(emulator, "POST", "/models/spaces", ["not", "an", "object"]), 400, "JSON object")
    assert_error(raw_call(emulator, "PUT", "/models/spaces", {"items": []}), 405, "not allowed")
