"""Helpers for the schema fidelity tests: raw HTTP calls and a small reusable model."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlencode

from cognite.client import data_modeling as dm

from cdf_emulator import Emulator

SPACE = "schema_test"


def raw_call(
    emulator: Emulator, method: str, path: str, body: Any = None, params: dict[str, Any] | None = None
) -> tuple[int, Any]:
    """Call a project endpoint without the SDK (to send what the SDK would refuse); returns (status, JSON)."""
    url = f"{emulator.base_url}/api/v1/projects/{emulator.project}{path}"
    if params:
        url += "?" + urlencode(params)
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Authorization", "Bearer test-token")
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def person_container(space: str = SPACE) -> dm.ContainerApply:
    return dm.ContainerApply(
        space,
        "Person",
        properties={
            "name": dm.ContainerPropertyApply(dm.Text(), nullable=False),
            "birthYear": dm.ContainerPropertyApply(dm.Int32()),
            "bestFriend": dm.ContainerPropertyApply(dm.DirectRelation()),
            "friends": dm.ContainerPropertyApply(dm.DirectRelation(is_list=True)),
        },
    )


def person_view(space: str = SPACE, version: str = "v1") -> dm.ViewApply:
    me = dm.ViewId(space, "Person", version)
    container = dm.ContainerId(space, "Person")
    return dm.ViewApply(
        space,
        "Person",
        version,
        properties={
            "name": dm.MappedPropertyApply(container, "name"),
            "birthYear": dm.MappedPropertyApply(container, "birthYear"),
            "bestFriend": dm.MappedPropertyApply(container, "bestFriend", source=me),
            "friends": dm.MappedPropertyApply(container, "friends", source=me),
            "bestFriendOf": dm.MultiReverseDirectRelationApply(source=me, through=dm.PropertyId(me, "bestFriend")),
            "friendOf": dm.MultiReverseDirectRelationApply(source=me, through=dm.PropertyId(me, "friends")),
            "knows": dm.MultiEdgeConnectionApply(type=dm.DirectRelationReference(space, "knows"), source=me),
        },
    )


def setup_person(client: Any, space: str = SPACE) -> None:
    """Space, the Person container and view ``Person/v1``."""
    client.data_modeling.spaces.apply(dm.SpaceApply(space))
    client.data_modeling.containers.apply(person_container(space))
    client.data_modeling.views.apply(person_view(space))
