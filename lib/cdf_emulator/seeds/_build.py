"""Small builders for seed data: API-shaped container, view and instance items."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

INSTANCE_BATCH = 1000  # POST /models/instances takes at most 1000 items


def prop_type(kind: str, *, is_list: bool = False, **extra: Any) -> dict[str, Any]:
    """A container property type such as ``{"type": "int32", "list": false}``."""
    if kind == "enum":
        return {"type": "enum", **extra}
    return {"type": kind, "list": is_list, **extra}


def cprop(kind: str, *, nullable: bool = True, is_list: bool = False, **type_extra: Any) -> dict[str, Any]:
    """A container property definition."""
    return {"type": prop_type(kind, is_list=is_list, **type_extra), "nullable": nullable}


def container(space: str, external_id: str, properties: dict[str, Any], used_for: str = "node") -> dict[str, Any]:
    return {"space": space, "externalId": external_id, "usedFor": used_for, "properties": properties}


def view_ref(space: str, external_id: str, version: str) -> dict[str, str]:
    return {"type": "view", "space": space, "externalId": external_id, "version": version}


def mapped(space: str, container_xid: str, prop: str, source: dict[str, str] | None = None) -> dict[str, Any]:
    """A view property mapping a container property (``source`` for direct relations)."""
    result: dict[str, Any] = {
        "container": {"type": "container", "space": space, "externalId": container_xid},
        "containerPropertyIdentifier": prop,
    }
    if source is not None:
        result["source"] = source
    return result


def edge_connection(
    edge_type: tuple[str, str],
    source: dict[str, str],
    *,
    direction: str = "outwards",
    single: bool = False,
    edge_source: dict[str, str] | None = None,
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "connectionType": "single_edge_connection" if single else "multi_edge_connection",
        "type": {"space": edge_type[0], "externalId": edge_type[1]},
        "source": source,
        "direction": direction,
    }
    if edge_source is not None:
        result["edgeSource"] = edge_source
    return result


def reverse_relation(source: dict[str, str], through_prop: str, *, single: bool = False) -> dict[str, Any]:
    """A reverse direct relation through ``source``'s direct relation property ``through_prop``."""
    return {
        "connectionType": "single_reverse_direct_relation" if single else "multi_reverse_direct_relation",
        "source": source,
        "through": {"source": source, "identifier": through_prop},
    }


def node(space: str, external_id: str, view: dict[str, str], properties: dict[str, Any]) -> dict[str, Any]:
    """A NodeWrite item with one source."""
    return {
        "instanceType": "node",
        "space": space,
        "externalId": external_id,
        "sources": [{"source": view, "properties": properties}],
    }


def edge(
    space: str,
    external_id: str,
    edge_type: tuple[str, str],
    start: tuple[str, str],
    end: tuple[str, str],
    view: dict[str, str] | None = None,
    properties: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An EdgeWrite item, with edge properties when ``view`` is given."""
    result: dict[str, Any] = {
        "instanceType": "edge",
        "space": space,
        "externalId": external_id,
        "type": {"space": edge_type[0], "externalId": edge_type[1]},
        "startNode": {"space": start[0], "externalId": start[1]},
        "endNode": {"space": end[0], "externalId": end[1]},
    }
    if view is not None:
        result["sources"] = [{"source": view, "properties": properties or {}}]
    return result


def direct(space: str, external_id: str) -> dict[str, str]:
    return {"space": space, "externalId": external_id}


def timestamp(moment: datetime) -> str:
    """CDF's timestamp form, as the SDK writes it: ``2020-03-14T15:09:26.535+00:00``."""
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")


def day(moment: date) -> str:
    return moment.isoformat()


def apply_instances(state: Any, items: list[dict[str, Any]]) -> None:
    """Write instances through the instance store in API-sized batches."""
    for start in range(0, len(items), INSTANCE_BATCH):
        state.instances.apply(items[start : start + INSTANCE_BATCH])
