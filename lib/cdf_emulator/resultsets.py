"""Result set expressions (the ``with`` of /query and /sync): parsing and validation.

Evaluation over records lives in :mod:`cdf_emulator.graph`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cdf_emulator.bodies import check_fields, check_limit
from cdf_emulator.errors import ApiError
from cdf_emulator.filters import FilterContext, Predicate, optional_filter
from cdf_emulator.records import ContainerKey
from cdf_emulator.schema_access import mapped_properties, require_view

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
