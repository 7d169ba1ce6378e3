"""The benchmark's data: one node view with 12 properties of mixed types, an edge connection with an edge-source
view, and the writes of an incremental cycle (updates and deletes). Everything goes straight into the emulator's
instance store (the same validation as an HTTP write, without JSON or HTTP), so seeding a million nodes is quick.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from cdf_emulator.seeds._build import container, cprop, direct, edge, edge_connection, mapped, node, view_ref

SPACE = "bench"
MODEL = "Bench"
VERSION = "v1"
NODE_VIEW = "Item"
EDGE_VIEW = "Link"
EDGE_TYPE = (SPACE, "Item.links")
ITEM = view_ref(SPACE, NODE_VIEW, VERSION)
LINK = view_ref(SPACE, EDGE_VIEW, VERSION)
WRITE_BATCH = 5000
STATUS = {"ok": {"name": "OK"}, "warn": {"name": "Warning"}, "fail": {"name": "Failed"}}

ITEM_PROPERTIES: dict[str, dict[str, Any]] = {
    "name": cprop("text"),
    "count": cprop("int32"),
    "serial": cprop("int64"),
    "weight": cprop("float64"),
    "active": cprop("boolean"),
    "installedAt": cprop("timestamp"),
    "commissioned": cprop("date"),
    "spec": cprop("json"),
    "status": cprop("enum", values=STATUS),
    "parent": cprop("direct"),
    "tags": cprop("text", is_list=True),
    "ratio": cprop("float32"),
}
LINK_PROPERTIES: dict[str, dict[str, Any]] = {
    "role": cprop("text"),
    "rank": cprop("int32"),
    "linkedAt": cprop("timestamp"),
}


@dataclass(frozen=True)
class Sizes:
    """How many nodes and edges the benchmark seeds."""

    nodes: int
    edges: int

    @property
    def instances(self) -> int:
        return self.nodes + self.edges


def node_xid(i: int) -> str:
    return f"item-{i:08d}"


def edge_xid(j: int) -> str:
    return f"link-{j:08d}"


def seed(state: Any, sizes: Sizes) -> None:
    """The schema, ``sizes.nodes`` nodes with data in ``Item`` and ``sizes.edges`` edges with data in ``Link``."""
    schema = state.schema
    schema.apply_spaces([{"space": SPACE}])
    schema.apply_containers(
        [
            container(SPACE, "ItemData", ITEM_PROPERTIES),
            container(SPACE, "LinkData", LINK_PROPERTIES, used_for="edge"),
        ]
    )
    item_props: dict[str, Any] = {name: mapped(SPACE, "ItemData", name) for name in ITEM_PROPERTIES}
    item_props["parent"] = mapped(SPACE, "ItemData", "parent", ITEM)
    item_props["links"] = edge_connection(EDGE_TYPE, ITEM, edge_source=LINK)
    link_props = {name: mapped(SPACE, "LinkData", name) for name in LINK_PROPERTIES}
    schema.apply_views(
        [
            {"space": SPACE, "externalId": NODE_VIEW, "version": VERSION, "properties": item_props},
            {"space": SPACE, "externalId": EDGE_VIEW, "version": VERSION, "properties": link_props},
        ]
    )
    schema.apply_data_models([{"space": SPACE, "externalId": MODEL, "version": VERSION, "views": [ITEM, LINK]}])
    _write(state, (node_item(i) for i in range(sizes.nodes)))
    _write(state, (edge_item(j, sizes.nodes) for j in range(sizes.edges)))


def node_item(i: int, generation: int = 0) -> dict[str, Any]:
    """Node ``i`` as a NodeWrite item; ``generation`` > 0 changes some values (an update)."""
    values: dict[str, Any] = {
        "name": f"item {i} g{generation}",
        "count": (i * 7 + generation) % 100_000,
        "serial": 10_000_000_000 + i,
        "weight": i * 0.25 + generation,
        "active": (i + generation) % 2 == 0,
        "installedAt": f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00.{i % 1000:03d}+00:00",
        "commissioned": f"20{10 + i % 15}-{1 + i % 12:02d}-{1 + i % 28:02d}",
        "spec": {"rating": i % 5, "kind": "pump" if i % 3 else "valve", "g": generation},
        "status": ("ok", "warn", "fail")[i % 3],
        "tags": ["bench", f"t{i % 7}"] + ([f"g{generation}"] if generation else []),
        "ratio": (i % 1000) / 8.0,
    }
    if i > 0:
        values["parent"] = direct(SPACE, node_xid(i // 2))
    return node(SPACE, node_xid(i), ITEM, values)


def edge_item(j: int, nodes: int) -> dict[str, Any]:
    """Edge ``j`` between two of the ``nodes`` nodes, with data in ``Link``."""
    start = (SPACE, node_xid(j % nodes))
    end = (SPACE, node_xid((j * 7919 + 1) % nodes))
    values = {
        "role": ("feeds", "drains", "controls")[j % 3],
        "rank": j % 10,
        "linkedAt": "2024-05-01T12:00:00.000+00:00",
    }
    return edge(SPACE, edge_xid(j), EDGE_TYPE, start, end, LINK, values)


@dataclass(frozen=True)
class Changes:
    """What an incremental cycle has to bring over: node indexes updated and deleted."""

    updated: tuple[int, ...]
    deleted: tuple[int, ...]


def plan_changes(nodes: int, update_share: float = 0.01, delete_share: float = 0.001) -> Changes:
    """Spread ``update_share`` of the nodes as updates and ``delete_share`` as deletes (disjoint, deterministic)."""
    update_step = max(1, round(1 / update_share))
    delete_step = max(1, round(1 / delete_share))
    deleted = tuple(range(delete_step // 2 + 1, nodes, delete_step))
    gone = set(deleted)
    updated = tuple(i for i in range(0, nodes, update_step) if i not in gone)
    return Changes(updated, deleted)


def apply_changes(state: Any, changes: Changes) -> None:
    """Update and delete nodes in the store (deleting a node also deletes its edges, as CDF does)."""
    _write(state, (node_item(i, generation=1) for i in changes.updated))
    refs = [{"instanceType": "node", "space": SPACE, "externalId": node_xid(i)} for i in changes.deleted]
    for start in range(0, len(refs), WRITE_BATCH):
        state.instances.delete(refs[start : start + WRITE_BATCH])


def _write(state: Any, items: Iterator[dict[str, Any]]) -> None:
    batch: list[dict[str, Any]] = []
    for item in items:
        batch.append(item)
        if len(batch) >= WRITE_BATCH:
            state.instances.apply(batch)
            batch = []
    if batch:
        state.instances.apply(batch)
