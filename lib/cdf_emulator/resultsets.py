"""Result set expressions (the ``with`` of /query and /sync): parsing and graph evaluation.

Evaluation works on a universe of records (live ones, or live ones plus tombstones) and follows
``from`` chains: edges are traversed from a node set (or from the chained end of an edge set) in the
given direction up to ``maxDistance`` hops; nodes are reached from an edge set (``chainTo``) or through
a direct relation property (``through``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cdf_emulator.bodies import check_fields, check_limit
from cdf_emulator.errors import ApiError
from cdf_emulator.filters import FilterContext, Predicate, optional_filter
from cdf_emulator.records import ContainerKey, Key, Record
from cdf_emulator.schema_access import mapped_properties, require_view

MAX_HOPS = 100
_MODES = ("onePhase", "twoPhase", "noBackfill")
_NODE_FIELDS = ("from", "chainTo", "through", "direction", "filter")
_EDGE_FIELDS = ("from", "chainTo", "maxDistance", "direction", "filter", "nodeFilter", "terminationFilter")


@dataclass
class Expression:
    """One named result set expression."""

    name: str
    kind: str  # "node", "edge" or "set"
    source: str | None = None
    filter: Predicate | None = None
    direction: str = "outwards"
    chain_to: str = "destination"
    through: tuple[ContainerKey, str] | None = None
    max_distance: int | None = None
    node_filter: Predicate | None = None
    termination_filter: Predicate | None = None
    limit_each: int | None = None
    limit: int = 100
    sort: list[dict[str, Any]] = field(default_factory=list)
    mode: str = "onePhase"
    skip_deleted: bool = True
    backfill_sort: list[dict[str, Any]] = field(default_factory=list)
    set_operation: dict[str, Any] | None = None
    raw: Any = None


def parse_with(body: Any, ctx: FilterContext, endpoint: str) -> dict[str, Expression]:
    """Parse ``with``; ``endpoint`` is ``query`` (limit ≤ 10000, sort, set operations) or ``sync``."""
    if not isinstance(body, dict) or not 1 <= len(body) <= 50:
        raise ApiError(400, "'with' must be an object with 1 to 50 result set expressions")
    expressions: dict[str, Expression] = {}
    for name, spec in body.items():
        expressions[name] = _parse_expression(name, spec, ctx, endpoint)
    for expression in expressions.values():
        for needed in dependencies(expression):
            if needed not in expressions:
                raise ApiError(400, f"Result set '{expression.name}' refers to unknown result set '{needed}'")
    for name in expressions:
        _check_acyclic(expressions, name, ())
    return expressions


def dependencies(expression: Expression) -> list[str]:
    if expression.set_operation is not None:
        return _set_operands(expression.set_operation)
    return [] if expression.source is None else [expression.source]


def _check_acyclic(expressions: dict[str, Expression], name: str, path: tuple[str, ...]) -> None:
    if name in path:
        raise ApiError(400, f"Result set expressions form a cycle: {' -> '.join((*path, name))}")
    for needed in dependencies(expressions[name]):
        _check_acyclic(expressions, needed, (*path, name))


def _parse_expression(name: str, spec: Any, ctx: FilterContext, endpoint: str) -> Expression:
    where = f"with.{name}"
    if not isinstance(spec, dict):
        raise ApiError(400, f"'{where}' must be an object")
    sync = endpoint == "sync"
    common = ("limit", "mode", "skipAlreadyDeleted", "backfillSort") if sync else ("limit", "sort")
    maximum = 2000 if sync else 10000
    if "nodes" in spec:
        check_fields(spec, ("nodes", *common), (), where)
        expression = _parse_nodes(name, spec["nodes"], ctx, f"{where}.nodes")
    elif "edges" in spec:
        check_fields(spec, ("edges", *common, *(() if sync else ("postSort",))), (), where)
        expression = _parse_edges(name, spec["edges"], ctx, f"{where}.edges", sync)
    elif not sync and any(op in spec for op in ("union", "unionAll", "intersection")):
        check_fields(spec, ("union", "unionAll", "intersection", "except", "limit"), (), where)
        expression = Expression(name=name, kind="set", set_operation=spec)
    else:
        raise ApiError(400, f"'{where}' must hold 'nodes' or 'edges'")
    expression.raw = spec
    expression.limit = check_limit(spec.get("limit"), 100, maximum, field=f"{where}.limit")
    if sync:
        _parse_sync_options(expression, spec, where)
    else:
        expression.sort = _sort_list(spec.get("sort"), f"{where}.sort")
    return expression


def _parse_sync_options(expression: Expression, spec: dict[str, Any], where: str) -> None:
    mode = spec.get("mode") or "onePhase"
    if mode not in _MODES:
        raise ApiError(400, f"Invalid mode '{mode}' at '{where}.mode': expected one of {', '.join(_MODES)}")
    expression.mode = mode
    skip = spec.get("skipAlreadyDeleted", True)
    if not isinstance(skip, bool):
        raise ApiError(400, f"'{where}.skipAlreadyDeleted' must be a boolean")
    expression.skip_deleted = skip
    expression.backfill_sort = _sort_list(spec.get("backfillSort"), f"{where}.backfillSort")
    if expression.backfill_sort and mode != "twoPhase":
        raise ApiError(400, f"'{where}.backfillSort' is only allowed with mode twoPhase")


def _sort_list(value: Any, where: str) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > 5:
        raise ApiError(400, f"'{where}' must be a list of at most 5 sort specifications")
    for index, item in enumerate(value):
        check_fields(item, ("property", "direction", "nullsFirst"), ("property",), f"{where}[{index}]")
        if item.get("direction", "ascending") not in ("ascending", "descending"):
            raise ApiError(400, f"Invalid direction at '{where}[{index}].direction'")
    return list(value)


def _direction(spec: dict[str, Any], where: str) -> str:
    direction = spec.get("direction") or "outwards"
    if direction not in ("outwards", "inwards"):
        raise ApiError(400, f"Invalid direction '{direction}' at '{where}.direction'")
    return str(direction)


def _chain_to(spec: dict[str, Any], where: str) -> str:
    chain_to = spec.get("chainTo") or "destination"
    if chain_to not in ("source", "destination"):
        raise ApiError(400, f"Invalid chainTo '{chain_to}' at '{where}.chainTo'")
    return str(chain_to)


def _source(spec: dict[str, Any], where: str) -> str | None:
    source = spec.get("from")
    if source is not None and not isinstance(source, str):
        raise ApiError(400, f"'{where}.from' must be the name of a result set")
    return source


def _parse_nodes(name: str, spec: Any, ctx: FilterContext, where: str) -> Expression:
    check_fields(spec, _NODE_FIELDS, (), where)
    expression = Expression(
        name=name,
        kind="node",
        source=_source(spec, where),
        filter=optional_filter(spec.get("filter"), ctx, f"{where}.filter"),
        direction=_direction(spec, where),
        chain_to=_chain_to(spec, where),
    )
    if spec.get("through") is not None:
        expression.through = _through(spec["through"], ctx, f"{where}.through")
    return expression


def _through(spec: Any, ctx: FilterContext, where: str) -> tuple[ContainerKey, str]:
    if not isinstance(spec, dict) or not isinstance(spec.get("identifier"), str):
        raise ApiError(400, f"'{where}' must be {{source, identifier}}")
    source = spec.get("source", spec.get("view"))
    identifier = spec["identifier"]
    if isinstance(source, dict) and source.get("type") == "container":
        container = ctx.schema.get_container(source.get("space"), source.get("externalId"))
        definition = None if container is None else (container.get("properties") or {}).get(identifier)
        if definition is None or (definition.get("type") or {}).get("type") != "direct":
            raise ApiError(400, f"'{where}' must name a direct relation property of an existing container")
        return (source["space"], source["externalId"]), identifier
    view = require_view(ctx.schema, {"type": "view", **(source or {})}, f"{where}.source")
    mapped = mapped_properties(view).get(identifier)
    if mapped is None or (mapped[2].get("type") or {}).get("type") != "direct":
        raise ApiError(400, f"'{where}' must name a direct relation property of view {view['externalId']}")
    return mapped[0], mapped[1]


def _parse_edges(name: str, spec: Any, ctx: FilterContext, where: str, sync: bool) -> Expression:
    check_fields(spec, _EDGE_FIELDS if sync else (*_EDGE_FIELDS, "limitEach"), (), where)
    distance = spec.get("maxDistance")
    if distance is not None and (isinstance(distance, bool) or not isinstance(distance, int) or distance < 1):
        raise ApiError(400, f"'{where}.maxDistance' must be a positive integer")
    return Expression(
        name=name,
        kind="edge",
        source=_source(spec, where),
        filter=optional_filter(spec.get("filter"), ctx, f"{where}.filter"),
        direction=_direction(spec, where),
        chain_to=_chain_to(spec, where),
        max_distance=distance,
        node_filter=optional_filter(spec.get("nodeFilter"), ctx, f"{where}.nodeFilter"),
        termination_filter=optional_filter(spec.get("terminationFilter"), ctx, f"{where}.terminationFilter"),
        limit_each=check_limit(spec.get("limitEach"), 0, 2000, field=f"{where}.limitEach") or None,
    )


def _set_operands(spec: dict[str, Any]) -> list[str]:
    names: list[str] = []
    for key in ("union", "unionAll", "intersection", "except"):
        for operand in spec.get(key) or []:
            names.extend([operand] if isinstance(operand, str) else _set_operands(operand))
    return names


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
