"""POST /models/instances/query: result set expressions over live instances, paged per result set."""

from __future__ import annotations

from typing import Any

from cdf_emulator.bodies import check_fields
from cdf_emulator.cursors import decode_cursor, encode_cursor
from cdf_emulator.errors import ApiError
from cdf_emulator.filters import FilterContext
from cdf_emulator.graph import Universe, evaluate
from cdf_emulator.records import Record, instance_dict
from cdf_emulator.resultsets import Expression, parse_with
from cdf_emulator.routing import Request
from cdf_emulator.schema_access import typing_for
from cdf_emulator.selection import Selection, parse_select, sort_records

_FIELDS = ("with", "select", "cursors", "parameters", "includeTyping", "debug")


def parameters_of(body: dict[str, Any]) -> dict[str, Any]:
    parameters = body.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise ApiError(400, "'parameters' must be an object")
    return parameters


def cursors_of(body: dict[str, Any]) -> dict[str, Any]:
    cursors = body.get("cursors") or {}
    if not isinstance(cursors, dict) or len(cursors) > 50:
        raise ApiError(400, "'cursors' must be an object with at most 50 entries")
    return cursors


def handle_query(request: Request, state: Any) -> dict[str, Any]:
    """Evaluate every ``with`` expression (``from`` chains see the anchor's returned page) and return
    the selected result sets; ``nextCursor`` holds a cursor for each result set with more data."""
    body = check_fields(request.body(), _FIELDS, ("with", "select"))
    store = state.instances
    ctx = FilterContext(state.schema, parameters_of(body), lookup=store.get)
    expressions = parse_with(body["with"], ctx, "query")
    selections = parse_select(body["select"], set(expressions), state.schema, store.shapes, "query")
    offsets = {
        name: int(decode_cursor(cursor, store.epoch, "query").get("o", 0))
        for name, cursor in cursors_of(body).items()
        if cursor is not None and name in expressions
    }
    run = _QueryRun(expressions, Universe(store.live_records()), ctx, offsets)
    for name in expressions:
        run.result(name)
    items = {name: _render(run.result(name), selection, ctx, name) for name, selection in selections.items()}
    answer: dict[str, Any] = {
        "items": items,
        "nextCursor": {
            name: encode_cursor({"k": "query", "e": store.epoch, "o": offset})
            for name, offset in run.next_offsets.items()
        },
    }
    if body.get("includeTyping"):
        answer["typing"] = {
            name: typing_for(state.schema, selection.views) for name, selection in selections.items() if selection.views
        }
    return answer


def _render(records: list[Record], selection: Selection, ctx: FilterContext, name: str) -> list[dict[str, Any]]:
    if selection.sort:
        records = sort_records(records, selection.sort, ctx, f"select.{name}.sort")
    if selection.limit is not None:
        records = records[: selection.limit]
    return [instance_dict(record, selection.shape) for record in records]


class _QueryRun:
    """One query evaluation: results are computed once per result set, in dependency order."""

    def __init__(
        self, expressions: dict[str, Expression], universe: Universe, ctx: FilterContext, offsets: dict[str, int]
    ) -> None:
        self.expressions = expressions
        self.universe = universe
        self.ctx = ctx
        self.offsets = offsets
        self.results: dict[str, list[Record]] = {}
        self.next_offsets: dict[str, int] = {}

    def result(self, name: str) -> list[Record]:
        if name in self.results:
            return self.results[name]
        expression = self.expressions[name]
        if expression.set_operation is not None:
            records = self._set_operation(expression.set_operation)
        else:
            records = evaluate(expression, self.expressions, self.universe, self.result)
        records = sort_records(records, expression.sort, self.ctx, f"with.{name}.sort")
        offset = self.offsets.get(name, 0)
        page = records[offset : offset + expression.limit]
        if offset + expression.limit < len(records):
            self.next_offsets[name] = offset + expression.limit
        self.results[name] = page
        return page

    def _operand(self, operand: Any) -> list[Record]:
        if isinstance(operand, str):
            return self.result(operand)
        if isinstance(operand, dict):
            return self._set_operation(operand)
        raise ApiError(400, "Set operation operands must be result set names or set operations")

    def _set_operation(self, spec: dict[str, Any]) -> list[Record]:
        excluded = {record.key for operand in spec.get("except") or [] for record in self._operand(operand)}
        if "unionAll" in spec:
            merged = [record for operand in spec["unionAll"] for record in self._operand(operand)]
        elif "union" in spec:
            merged = list(
                {record.key: record for operand in spec["union"] for record in self._operand(operand)}.values()
            )
        elif "intersection" in spec:
            parts = [self._operand(operand) for operand in spec["intersection"]]
            common = set.intersection(*({record.key for record in part} for part in parts)) if parts else set()
            merged = [record for record in (parts[0] if parts else []) if record.key in common]
        else:
            raise ApiError(400, "A set operation needs union, unionAll or intersection")
        kinds = {record.kind for record in merged}
        if len(kinds) > 1:
            raise ApiError(400, "A set operation cannot mix nodes and edges")
        records = [record for record in merged if record.key not in excluded]
        limit = spec.get("limit")
        return records[:limit] if isinstance(limit, int) and limit > 0 else records
