"""The data-modeling filter language, compiled once per request into a predicate over records.

Properties are ``["node"|"edge"|"instance", base]``, ``[space, "viewXid/version", prop]`` (through the
view's mapping to a container property) or ``[space, containerXid, prop]``. Values may be literals or
``{"parameter": name}``. Malformed or unknown filters answer 400, as CDF does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cdf_emulator.errors import ApiError
from cdf_emulator.filter_properties import compile_property
from cdf_emulator.records import Key, Record
from cdf_emulator.schema_access import require_view, view_containers

Predicate = Callable[[Record], bool]


@dataclass
class FilterContext:
    """What compiling a filter needs: the schema, request parameters, and a node lookup for ``nested``."""

    schema: Any
    parameters: dict[str, Any] = field(default_factory=dict)
    lookup: Callable[[Key], Record | None] | None = None


def compile_filter(spec: Any, ctx: FilterContext, where: str = "filter") -> Predicate:
    """A predicate for one filter definition; 400 for anything CDF would reject."""
    if not isinstance(spec, dict) or len(spec) != 1:
        raise ApiError(400, f"Invalid filter at '{where}': expected an object with exactly one filter type")
    ((name, body),) = spec.items()
    compiler = _COMPILERS.get(name)
    if compiler is None:
        raise ApiError(400, f"Unknown filter type '{name}' at '{where}'")
    return compiler(body, ctx, f"{where}.{name}")


def optional_filter(spec: Any, ctx: FilterContext, where: str) -> Predicate | None:
    return None if spec is None else compile_filter(spec, ctx, where)


def _and(body: Any, ctx: FilterContext, where: str) -> Predicate:
    parts = _filter_list(body, ctx, where)
    return lambda record: all(part(record) for part in parts)


def _or(body: Any, ctx: FilterContext, where: str) -> Predicate:
    parts = _filter_list(body, ctx, where)
    return lambda record: any(part(record) for part in parts)


def _not(body: Any, ctx: FilterContext, where: str) -> Predicate:
    inner = compile_filter(body, ctx, where)
    return lambda record: not inner(record)


def _filter_list(body: Any, ctx: FilterContext, where: str) -> list[Predicate]:
    if not isinstance(body, list) or not body:
        raise ApiError(400, f"'{where}' must be a non-empty list of filters")
    return [compile_filter(item, ctx, f"{where}[{index}]") for index, item in enumerate(body)]


def _match_all(body: Any, ctx: FilterContext, where: str) -> Predicate:
    if body not in ({}, None):
        raise ApiError(400, f"'{where}' must be an empty object")
    return lambda record: True


def _leaf(body: Any, where: str, required: tuple[str, ...], allowed: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(400, f"'{where}' must be an object")
    for key in body:
        if key not in allowed:
            raise ApiError(400, f"Unrecognized field '{where}.{key}'")
    for key in required:
        if key not in body:
            raise ApiError(400, f"Missing required field '{where}.{key}'")
    return body


def _value(raw: Any, ctx: FilterContext, where: str) -> Any:
    if isinstance(raw, dict) and len(raw) == 1 and "parameter" in raw:
        name = raw["parameter"]
        if name not in ctx.parameters:
            raise ApiError(400, f"Missing parameter '{name}' used at '{where}'")
        return ctx.parameters[name]
    if isinstance(raw, dict) and len(raw) == 1 and "property" in raw:
        raise ApiError(400, f"Property references as filter values are not supported by the emulator ('{where}')")
    return raw


def _equals(body: Any, ctx: FilterContext, where: str) -> Predicate:
    body = _leaf(body, where, ("property", "value"), ("property", "value"))
    accessor = compile_property(body["property"], ctx.schema, f"{where}.property")
    expected = accessor.canon(_value(body["value"], ctx, f"{where}.value"))
    get = accessor.get
    return lambda record: _same(get(record), expected)


def _same(actual: Any, expected: Any) -> bool:
    if isinstance(actual, bool) != isinstance(expected, bool):
        return False
    return bool(actual == expected) and actual is not None


def _in(body: Any, ctx: FilterContext, where: str) -> Predicate:
    body = _leaf(body, where, ("property", "values"), ("property", "values"))
    accessor = compile_property(body["property"], ctx.schema, f"{where}.property")
    values = _value(body["values"], ctx, f"{where}.values")
    if not isinstance(values, list):
        raise ApiError(400, f"'{where}.values' must be a list")
    expected = [accessor.canon(value) for value in values]
    get = accessor.get
    return lambda record: any(_same(get(record), value) for value in expected)


def _range(body: Any, ctx: FilterContext, where: str) -> Predicate:
    body = _leaf(body, where, ("property",), ("property", "gt", "gte", "lt", "lte"))
    accessor = compile_property(body["property"], ctx.schema, f"{where}.property")
    bounds = [
        (op, accessor.canon(_value(body[op], ctx, f"{where}.{op}"))) for op in ("gt", "gte", "lt", "lte") if op in body
    ]
    if not bounds:
        raise ApiError(400, f"'{where}' needs at least one of gt, gte, lt, lte")
    get = accessor.get
    return lambda record: _within(get(record), bounds)


def _within(value: Any, bounds: list[tuple[str, Any]]) -> bool:
    if value is None or isinstance(value, (list, dict, bool)):
        return False
    try:
        for op, bound in bounds:
            if (
                (op == "gt" and not value > bound)
                or (op == "gte" and not value >= bound)
                or (op == "lt" and not value < bound)
                or (op == "lte" and not value <= bound)
            ):
                return False
    except TypeError:
        return False
    return True


def _prefix(body: Any, ctx: FilterContext, where: str) -> Predicate:
    body = _leaf(body, where, ("property", "value"), ("property", "value"))
    accessor = compile_property(body["property"], ctx.schema, f"{where}.property")
    prefix = accessor.canon(_value(body["value"], ctx, f"{where}.value"))
    if not isinstance(prefix, (str, list)):
        raise ApiError(400, f"'{where}.value' must be a string or a list")
    get = accessor.get

    def matches(record: Record) -> bool:
        value = get(record)
        if isinstance(prefix, str):
            return isinstance(value, str) and value.startswith(prefix)
        return isinstance(value, list) and value[: len(prefix)] == prefix

    return matches


def _exists(body: Any, ctx: FilterContext, where: str) -> Predicate:
    body = _leaf(body, where, ("property",), ("property",))
    get = compile_property(body["property"], ctx.schema, f"{where}.property").get
    return lambda record: get(record) is not None


def _contains(every: bool) -> Callable[[Any, FilterContext, str], Predicate]:
    def compile_contains(body: Any, ctx: FilterContext, where: str) -> Predicate:
        body = _leaf(body, where, ("property", "values"), ("property", "values"))
        accessor = compile_property(body["property"], ctx.schema, f"{where}.property")
        values = _value(body["values"], ctx, f"{where}.values")
        if not isinstance(values, list):
            raise ApiError(400, f"'{where}.values' must be a list")
        expected = [accessor.canon(value) for value in values]
        get = accessor.get

        def matches(record: Record) -> bool:
            value = get(record)
            if value is None:
                return False
            items = value if isinstance(value, list) else [value]
            test = all if every else any
            return test(any(_same(item, wanted) for item in items) for wanted in expected)

        return matches

    return compile_contains


def _overlaps(body: Any, ctx: FilterContext, where: str) -> Predicate:
    allowed = ("startProperty", "endProperty", "gt", "gte", "lt", "lte")
    body = _leaf(body, where, ("startProperty", "endProperty"), allowed)
    start = compile_property(body["startProperty"], ctx.schema, f"{where}.startProperty")
    end = compile_property(body["endProperty"], ctx.schema, f"{where}.endProperty")
    low = [(op, start.canon(_value(body[op], ctx, where))) for op in ("gt", "gte") if op in body]
    high = [(op, start.canon(_value(body[op], ctx, where))) for op in ("lt", "lte") if op in body]

    def matches(record: Record) -> bool:
        # [begins, ends] overlaps the range when it starts before the range ends and ends after it starts;
        # without a start value an instance has no period, a missing end is open-ended
        begins, ends = start.get(record), end.get(record)
        if begins is None:
            return False
        return (not high or _within(begins, high)) and (not low or ends is None or _within(ends, low))

    return matches


def _has_data(body: Any, ctx: FilterContext, where: str) -> Predicate:
    """Containers: data in all of them. Views: data in at least one (a view has data when the instance
    has data in every container it maps, or matches the view's own filter when it has one)."""
    if not isinstance(body, list):
        raise ApiError(400, f"'{where}' must be a list of view or container references")
    containers: list[Key] = []
    views: list[Predicate] = []
    for index, ref in enumerate(body):
        at = f"{where}[{index}]"
        if isinstance(ref, dict) and ref.get("type") == "container":
            space, xid = ref.get("space"), ref.get("externalId")
            if not isinstance(space, str) or not isinstance(xid, str) or ctx.schema.get_container(space, xid) is None:
                raise ApiError(400, f"Container {space}:{xid} does not exist ({at})")
            containers.append((space, xid))
        else:
            views.append(view_data_predicate(ctx, require_view(ctx.schema, ref, at), at))
    required = tuple(containers)
    if not required and len(views) == 1:
        return views[0]

    def matches(record: Record) -> bool:
        data = record.data
        for container in required:
            if container not in data:
                return False
        return not views or any(view(record) for view in views)

    return matches


def view_data_predicate(ctx: FilterContext, view: dict[str, Any], where: str) -> Predicate:
    """Whether a record has data in ``view``."""
    if view.get("filter"):
        return compile_filter(view["filter"], ctx, f"{where}.filter")
    needed = tuple(view_containers(ctx.schema, view))
    if len(needed) == 1:
        only = needed[0]
        return lambda record: only in record.data
    return lambda record: all(container in record.data for container in needed)


def _instance_references(body: Any, ctx: FilterContext, where: str) -> Predicate:
    if not isinstance(body, list):
        raise ApiError(400, f"'{where}' must be a list of {{space, externalId}}")
    keys: set[Key] = set()
    for index, ref in enumerate(body):
        if (
            not isinstance(ref, dict)
            or not isinstance(ref.get("space"), str)
            or not isinstance(ref.get("externalId"), str)
        ):
            raise ApiError(400, f"Invalid instance reference at '{where}[{index}]'")
        keys.add((ref["space"], ref["externalId"]))
    return lambda record: record.key in keys


def _nested(body: Any, ctx: FilterContext, where: str) -> Predicate:
    body = _leaf(body, where, ("scope", "filter"), ("scope", "filter"))
    scope = compile_property(body["scope"], ctx.schema, f"{where}.scope")
    inner = compile_filter(body["filter"], ctx, f"{where}.filter")
    lookup = ctx.lookup
    if lookup is None:
        raise ApiError(400, f"'{where}' is not supported here")

    def matches(record: Record) -> bool:
        target = scope.get(record)
        if not isinstance(target, tuple):
            return False
        node = lookup(target)
        return node is not None and inner(node)

    return matches


_COMPILERS: dict[str, Callable[[Any, FilterContext, str], Predicate]] = {
    "and": _and,
    "or": _or,
    "not": _not,
    "matchAll": _match_all,
    "equals": _equals,
    "in": _in,
    "range": _range,
    "prefix": _prefix,
    "exists": _exists,
    "containsAny": _contains(False),
    "containsAll": _contains(True),
    "overlaps": _overlaps,
    "hasData": _has_data,
    "instanceReferences": _instance_references,
    "nested": _nested,
}
