"""A small data model with every property type, and helpers for the instance and sync fidelity tests."""

from __future__ import annotations

from typing import Any

from cognite.client import data_modeling as dm
from cognite.client.data_classes.data_modeling.data_types import Enum, EnumValue
from cognite.client.exceptions import CogniteAPIError

SPACE = "inst"
ITEM = dm.ViewId(SPACE, "Item", "v1")
ITEM_NAME = dm.ViewId(SPACE, "ItemName", "v1")  # maps only `name` of the same container
LINK = dm.ViewId(SPACE, "Link", "v1")  # an edge view
CONTAINER = dm.ContainerId(SPACE, "Item")
LINK_TYPE = dm.DirectRelationReference(SPACE, "links")

ITEM_PROPERTIES = {
    "name": dm.ContainerPropertyApply(dm.Text()),
    "count": dm.ContainerPropertyApply(dm.Int32()),
    "big": dm.ContainerPropertyApply(dm.Int64()),
    "ratio": dm.ContainerPropertyApply(dm.Float64()),
    "small": dm.ContainerPropertyApply(dm.Float32()),
    "active": dm.ContainerPropertyApply(dm.Boolean()),
    "seen": dm.ContainerPropertyApply(dm.Timestamp()),
    "born": dm.ContainerPropertyApply(dm.Date()),
    "meta": dm.ContainerPropertyApply(dm.Json()),
    "status": dm.ContainerPropertyApply(Enum({"open": EnumValue(), "closed": EnumValue()})),
    "parent": dm.ContainerPropertyApply(dm.DirectRelation()),
    "series": dm.ContainerPropertyApply(dm.TimeSeriesReference()),
    "tags": dm.ContainerPropertyApply(dm.Text(is_list=True)),
    "scores": dm.ContainerPropertyApply(dm.Int64(is_list=True)),
}


def build_model(client: Any) -> None:
    """Space ``inst``; container ``Item``; views ``Item/v1`` (all properties + an edge connection),
    ``ItemName/v1`` (only ``name``) and the edge view ``Link/v1`` (``weight``)."""
    client.data_modeling.spaces.apply(dm.SpaceApply(SPACE))
    client.data_modeling.containers.apply(
        [
            dm.ContainerApply(SPACE, "Item", properties=ITEM_PROPERTIES),
            dm.ContainerApply(
                SPACE, "Link", properties={"weight": dm.ContainerPropertyApply(dm.Float64())}, used_for="edge"
            ),
        ]
    )
    mapped: dict[str, Any] = {name: dm.MappedPropertyApply(CONTAINER, name) for name in ITEM_PROPERTIES}
    mapped["parent"] = dm.MappedPropertyApply(CONTAINER, "parent", source=ITEM)
    mapped["links"] = dm.MultiEdgeConnectionApply(type=LINK_TYPE, source=ITEM, edge_source=LINK)
    client.data_modeling.views.apply(
        [
            dm.ViewApply(SPACE, "Item", "v1", properties=mapped),
            dm.ViewApply(SPACE, "ItemName", "v1", properties={"name": dm.MappedPropertyApply(CONTAINER, "name")}),
            dm.ViewApply(
                SPACE,
                "Link",
                "v1",
                properties={"weight": dm.MappedPropertyApply(dm.ContainerId(SPACE, "Link"), "weight")},
            ),
        ]
    )


def item(xid: str, view: dm.ViewId = ITEM, **values: Any) -> dm.NodeApply:
    """A node with data in ``view``."""
    return dm.NodeApply(SPACE, xid, sources=[dm.NodeOrEdgeData(view, values)] if values else None)


def link(xid: str, start: str, end: str, **values: Any) -> dm.EdgeApply:
    """A ``links`` edge between two nodes of the space."""
    return dm.EdgeApply(
        SPACE,
        xid,
        type=LINK_TYPE,
        start_node=(SPACE, start),
        end_node=(SPACE, end),
        sources=[dm.NodeOrEdgeData(LINK, values)] if values else None,
    )


def view_ref(view: dm.ViewId = ITEM) -> dict[str, str]:
    return {"type": "view", "space": view.space, "externalId": view.external_id, "version": str(view.version)}


def post(client: Any, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST a raw body through the SDK (gzip, auth, retries) to a project path; returns the JSON answer."""
    response = client.post(f"/api/v1/projects/{client.config.project}{path}", json=body)
    answer: dict[str, Any] = response.json()
    return answer


def sync(client: Any, body: dict[str, Any]) -> dict[str, Any]:
    return post(client, "/models/instances/sync", body)


def api_error(client: Any, path: str, body: dict[str, Any]) -> CogniteAPIError:
    """The ``CogniteAPIError`` a raw POST raises (fails the test when the call succeeds)."""
    try:
        post(client, path, body)
    except CogniteAPIError as error:
        return error
    raise AssertionError(f"POST {path} succeeded; expected an API error")


def nodes_sync_body(limit: int | None = None, mode: str | None = None, **expression: Any) -> dict[str, Any]:
    """A sync body over the nodes with data in ``Item/v1``, selecting all its properties."""
    with_expression: dict[str, Any] = {"nodes": {"filter": {"hasData": [view_ref()]}}, **expression}
    if limit is not None:
        with_expression["limit"] = limit
    if mode is not None:
        with_expression["mode"] = mode
    return {
        "with": {"items": with_expression},
        "select": {"items": {"sources": [{"source": view_ref(), "properties": ["*"]}]}},
    }


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [entry["externalId"] for entry in items]
