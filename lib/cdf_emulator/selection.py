"""The ``select`` part of /query and /sync, and sorting of records by property references."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from cdf_emulator.bodies import check_fields
from cdf_emulator.errors import ApiError
from cdf_emulator.filter_properties import compile_property
from cdf_emulator.filters import FilterContext
from cdf_emulator.records import Record, Shape, ViewSelection
from cdf_emulator.schema_access import ShapeCache, compile_selection


@dataclass
class Selection:
    """What to return for one result set: a property shape, plus /query's post-sort and limit."""

    shape: Shape
    views: tuple[ViewSelection, ...]
    sort: list[dict[str, Any]] = field(default_factory=list)
    limit: int | None = None


def parse_select(body: Any, names: set[str], schema: Any, shapes: ShapeCache, endpoint: str) -> dict[str, Selection]:
    """Parse ``select``; every key must name a ``with`` result set. An empty entry selects no properties."""
    if not isinstance(body, dict) or not 1 <= len(body) <= 50:
        raise ApiError(400, "'select' must be an object with 1 to 50 entries")
    allowed = ("sources",) if endpoint == "sync" else ("sources", "sort", "limit")
    out: dict[str, Selection] = {}
    for name, spec in body.items():
        where = f"select.{name}"
        if name not in names:
            raise ApiError(400, f"'{where}' refers to result set '{name}', which is not in 'with'")
        check_fields(spec, allowed, (), where)
        views = compile_selection(schema, spec.get("sources"), f"{where}.sources")
        limit = spec.get("limit")
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
            raise ApiError(400, f"'{where}.limit' must be a positive integer")
        out[name] = Selection(shapes.intern(views), views, list(spec.get("sort") or []), limit)
    return out


def sort_records(records: list[Record], specs: list[dict[str, Any]], ctx: FilterContext, where: str) -> list[Record]:
    """Records ordered by ``[{property, direction, nullsFirst}]``, then by (space, externalId)."""
    ordered = sorted(records, key=lambda record: record.key)
    for index in range(len(specs) - 1, -1, -1):
        spec = specs[index]
        if not isinstance(spec, dict) or "property" not in spec:
            raise ApiError(400, f"Missing required field '{where}[{index}].property'")
        get = compile_property(spec["property"], ctx.schema, f"{where}[{index}].property").get
        descending = spec.get("direction", "ascending") == "descending"
        nulls_first = bool(spec.get("nullsFirst", False))
        present = [record for record in ordered if get(record) is not None]
        missing = [record for record in ordered if get(record) is None]
        present.sort(key=lambda record: sortable(get(record)), reverse=descending)
        ordered = missing + present if nulls_first else present + missing
    return ordered


def sortable(value: Any) -> tuple[int, Any]:
    """A key that orders mixed JSON values without TypeError: numbers, then text, then the rest."""
    if isinstance(value, bool):
        return (0, int(value))
    if isinstance(value, (int, float)):
        return (1, value)
    if isinstance(value, str):
        return (2, value)
    if isinstance(value, tuple):
        return (3, value)
    return (4, json.dumps(value, sort_keys=True, default=str))
