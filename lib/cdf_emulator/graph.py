"""Evaluating result set expressions over a universe of records: filters and graph traversal.

Edges are traversed from a node set (or from the chained end of an edge set) in the expression's
direction, breadth first, up to ``maxDistance`` hops (unbounded by default, capped at ``MAX_HOPS``);
nodes are reached from an edge set (``chainTo``) or through a direct relation property (``through``).
"""

from __future__ import annotations

from collections.abc import Callable

from cdf_emulator.records import ContainerKey, Key, Record
from cdf_emulator.resultsets import Expression

MAX_HOPS = 100


class Universe:
    """The records an evaluation sees, with the indexes traversal needs (built on demand)."""

    def __init__(self, records: list[Record]) -> None:
        self.records = records
        self._nodes: dict[Key, Record] | None = None
        self._adjacent: dict[tuple[Key, str], list[Record]] | None = None

    def of_kind(self, kind: str) -> list[Record]:
        return [record for record in self.records if record.kind == kind]

    def node(self, key: Key) -> Record | None:
        if self._nodes is None:
            self._nodes = {}
            for record in self.records:  # a live record wins over a displaced tombstone of the same key
                if record.kind == "node" and (record.deleted is None or record.key not in self._nodes):
                    self._nodes[record.key] = record
        return self._nodes.get(key)

    def edges_from(self, node: Key, direction: str) -> list[Record]:
        if self._adjacent is None:
            self._adjacent = {}
            for record in self.records:
                if record.kind == "edge":
                    assert record.start is not None and record.end is not None
                    self._adjacent.setdefault((record.start, "outwards"), []).append(record)
                    self._adjacent.setdefault((record.end, "inwards"), []).append(record)
        return self._adjacent.get((node, direction), [])


Anchors = Callable[[str], list[Record]]


def evaluate(
    expression: Expression, expressions: dict[str, Expression], universe: Universe, anchors: Anchors
) -> list[Record]:
    """The records of one node or edge expression; ``anchors(name)`` gives the result of a ``from`` set."""
    matches = expression.filter or (lambda record: True)
    if expression.kind == "node":
        if expression.source is None:
            return [record for record in universe.of_kind("node") if matches(record)]
        keys = _node_targets(expression, expressions, universe, anchors(expression.source))
        return [record for record in universe.of_kind("node") if record.key in keys and matches(record)]
    if expression.source is None:
        return [record for record in universe.of_kind("edge") if matches(record)]
    anchor = expressions[expression.source]
    starts = _anchor_nodes(anchor, expression.chain_to, anchors(expression.source))
    return traverse(expression, universe, starts)


def _anchor_nodes(anchor: Expression, chain_to: str, records: list[Record]) -> list[Key]:
    if anchor.kind != "edge":
        return [record.key for record in records]
    out: list[Key] = []
    for edge in records:
        assert edge.start is not None and edge.end is not None
        forward = anchor.direction == "outwards"
        out.append(
            (edge.end if forward else edge.start)
            if chain_to == "destination"
            else (edge.start if forward else edge.end)
        )
    return out


def _node_targets(
    expression: Expression, expressions: dict[str, Expression], universe: Universe, anchor_records: list[Record]
) -> set[Key]:
    anchor = expressions[expression.source or ""]
    if expression.through is None:
        return set(_anchor_nodes(anchor, expression.chain_to, anchor_records))
    container, prop = expression.through
    if expression.direction == "outwards":
        targets: set[Key] = set()
        for record in anchor_records:
            targets.update(_references(record, container, prop))
        return targets
    anchor_keys = {record.key for record in anchor_records}
    return {
        record.key
        for record in universe.of_kind("node")
        if any(target in anchor_keys for target in _references(record, container, prop))
    }


def _references(record: Record, container: ContainerKey, prop: str) -> list[Key]:
    value = (record.data.get(container) or {}).get(prop)
    items = value if isinstance(value, list) else [value]
    return [(item["space"], item["externalId"]) for item in items if isinstance(item, dict)]


def traverse(expression: Expression, universe: Universe, starts: list[Key]) -> list[Record]:
    """Edges reachable from ``starts``: breadth first, up to ``maxDistance`` hops (default unbounded)."""
    outwards = expression.direction == "outwards"
    hops = expression.max_distance or MAX_HOPS
    visited = set(starts)
    frontier = list(dict.fromkeys(starts))
    found: list[Record] = []
    seen: set[int] = set()
    for _ in range(hops):
        next_frontier: list[Key] = []
        for node in frontier:
            taken = 0
            for edge in universe.edges_from(node, expression.direction):
                if id(edge) in seen or (expression.filter is not None and not expression.filter(edge)):
                    continue
                far = edge.end if outwards else edge.start
                assert far is not None
                far_node = universe.node(far)
                if expression.node_filter is not None and (far_node is None or not expression.node_filter(far_node)):
                    continue
                if expression.limit_each and expression.max_distance == 1 and taken >= expression.limit_each:
                    break
                taken += 1
                seen.add(id(edge))
                found.append(edge)
                terminate = expression.termination_filter
                if terminate is not None and far_node is not None and terminate(far_node):
                    continue
                if far not in visited:
                    visited.add(far)
                    next_frontier.append(far)
        if not next_frontier:
            break
        frontier = next_frontier
    return found
