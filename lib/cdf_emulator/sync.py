"""POST /models/instances/sync: change streams over the instance store's change log.

Each ``with`` result set has its own cursor: ``{phase, position, start, issued}`` where ``start`` is
the log head when the sync began. ``onePhase`` walks the whole log from the beginning and keeps going;
``twoPhase`` walks the log up to ``start`` (the backfill, which ends with a page shorter than
``limit``) and then the changes after it; ``noBackfill`` starts at ``start``. Tombstones at or before
``start`` are skipped unless ``skipAlreadyDeleted`` is false. Only selected result sets are returned;
a result set chained with ``from`` matches the instances its chain reaches in the current graph
(tombstones are matched against the graph including deleted instances).
"""

from __future__ import annotations

import json
import threading
from typing import Any

from cdf_emulator.backfill import BackfillOrder
from cdf_emulator.bodies import check_fields
from cdf_emulator.cursors import EXPIRED_CURSOR, INVALID_CURSOR, decode_cursor, encode_cursor
from cdf_emulator.errors import ApiError
from cdf_emulator.filters import FilterContext, Predicate
from cdf_emulator.graph import Universe, evaluate
from cdf_emulator.instances import InstanceStore
from cdf_emulator.query import cursors_of, parameters_of
from cdf_emulator.records import Key, Record, encode_json, instance_json
from cdf_emulator.resultsets import Expression, dependencies, parse_with
from cdf_emulator.routing import Request, Response, Router
from cdf_emulator.schema_access import typing_for
from cdf_emulator.selection import Selection, parse_select

_FIELDS = (
    "with",
    "select",
    "cursors",
    "parameters",
    "includeTyping",
    "allowExpiredCursorsAndAcceptMissedDeletes",
    "debug",
)
CursorState = dict[str, Any]


def register(router: Router, state: Any) -> None:
    router.add("POST", "/models/instances/sync", lambda request: handle_sync(request, state))


def handle_sync(request: Request, state: Any) -> Response:
    """One sync call: a page per selected result set and a fresh cursor for every ``with`` key."""
    body = check_fields(request.body(), _FIELDS, ("with", "select"))
    store: InstanceStore = state.instances
    ctx = FilterContext(state.schema, parameters_of(body), lookup=store.get)
    expressions = parse_with(body["with"], ctx, "sync")
    selections = parse_select(body["select"], set(expressions), state.schema, store.shapes, "sync")
    allow_expired = body.get("allowExpiredCursorsAndAcceptMissedDeletes") is True
    now = store.clock.now_ms()
    head = store.head()
    states = {
        name: _check_state(decode_cursor(cursor, store.epoch, "sync"), now, store.ttl_ms, allow_expired, head)
        for name, cursor in cursors_of(body).items()
        if cursor is not None and name in expressions
    }
    pages: dict[str, list[Record]] = {}
    next_cursors: dict[str, str] = {}
    for name, expression in expressions.items():
        current = states.get(name) or _initial_state(expression, head)
        if name in selections:
            predicate = _predicate(name, expressions, store, body)
            pages[name], current = _page(store, expression, current, predicate, ctx)
            if len(pages[name]) == expression.limit and not expression.backfill_sort:
                _render_ahead(store, expression, current, predicate, ctx, selections[name])
        next_cursors[name] = encode_cursor({**current, "k": "sync", "e": store.epoch, "t": now})
    typing = None
    if body.get("includeTyping"):
        typing = {name: typing_for(state.schema, sel.views) for name, sel in selections.items() if sel.views}
    return Response(body=render_page(pages, selections, next_cursors, typing))


def _initial_state(expression: Expression, head: int) -> CursorState:
    if expression.mode == "twoPhase":
        return {"ph": "b", "p": 0, "s": head}
    if expression.mode == "noBackfill":
        return {"ph": "c", "p": head, "s": head}
    return {"ph": "c", "p": 0, "s": head}


def _check_state(state: CursorState, now: int, ttl_ms: int, allow_expired: bool, head: int) -> CursorState:
    """A decoded cursor that is well formed, not from the future, and (unless allowed) not expired."""
    position, start, issued = state.get("p"), state.get("s"), state.get("t")
    if state.get("ph") not in ("b", "c") or not all(isinstance(v, int) for v in (position, start, issued)):
        raise ApiError(400, INVALID_CURSOR)
    assert isinstance(position, int) and isinstance(start, int) and isinstance(issued, int)
    if not 0 <= position <= head or not 0 <= start <= head:
        raise ApiError(400, INVALID_CURSOR)
    if now - issued > ttl_ms and not allow_expired:
        raise ApiError(400, EXPIRED_CURSOR)
    return {key: value for key, value in state.items() if key in ("ph", "p", "s", "sk")}


def _page(
    store: InstanceStore, expression: Expression, state: CursorState, predicate: Predicate | None, ctx: FilterContext
) -> tuple[list[Record], CursorState]:
    """The next page of one result set and the state after it."""
    limit = expression.limit
    skip_upto = state["s"] if expression.skip_deleted else 0
    if state["ph"] == "c":
        records, position, _ = store.scan(state["p"], None, limit, predicate, skip_upto)
        return records, {**state, "p": position}
    if expression.backfill_sort:
        order = BackfillOrder(expression.backfill_sort, ctx, f"with.{expression.name}.backfillSort")
        candidates, _, _ = store.scan(0, state["s"], 2**62, predicate, skip_upto)
        records, last_key = order.page(candidates, state.get("sk"), limit)
        following: CursorState = {**state, "sk": last_key}
    else:
        records, position, _ = store.scan(state["p"], state["s"], limit, predicate, skip_upto)
        following = {**state, "p": position}
    if len(records) < limit:  # the backfill ends with a short page; the changes since the start follow
        following = {"ph": "c", "p": state["s"], "s": state["s"]}
    return records, following


def _render_ahead(
    store: InstanceStore,
    expression: Expression,
    state: CursorState,
    predicate: Predicate | None,
    ctx: FilterContext,
    selection: Selection,
) -> None:
    """Render the next page's JSON fragments in the background while the client reads this page.

    A client that pages through a large backfill then finds the next page already serialized; at most
    one such render runs per store, and fragments belong to immutable record versions, so a render
    racing with writes is harmless.
    """
    if not store.render_slot.acquire(blocking=False):
        return

    def render() -> None:
        try:
            records, _ = _page(store, expression, state, predicate, ctx)
            for record in records:
                instance_json(record, selection.shape)
        finally:
            store.render_slot.release()

    threading.Thread(target=render, name="cdf-emulator-render-ahead", daemon=True).start()


def _predicate(
    name: str, expressions: dict[str, Expression], store: InstanceStore, body: dict[str, Any]
) -> Predicate | None:
    """Root result sets use their filter; chained ones test membership of the evaluated chain."""
    expression = expressions[name]
    if expression.source is None:
        return expression.filter
    chain = _chain(name, expressions)
    cache_key = json.dumps(
        [name, {member: expressions[member].raw for member in chain}, body.get("parameters")],
        sort_keys=True,
        default=str,
    )
    live_keys, deleted_keys = store.cached(cache_key, lambda: _members(name, expressions, store))
    return lambda record: record.key in (deleted_keys if record.deleted is not None else live_keys)


def _chain(name: str, expressions: dict[str, Expression]) -> list[str]:
    out = [name]
    for needed in dependencies(expressions[name]):
        out.extend(_chain(needed, expressions))
    return out


def _members(
    name: str, expressions: dict[str, Expression], store: InstanceStore
) -> tuple[frozenset[Key], frozenset[Key]]:
    """Keys of live members, and keys of tombstones reachable in the graph that still has them."""
    live = _evaluate_chain(name, expressions, Universe(store.live_records()))
    known = _evaluate_chain(name, expressions, Universe(store.known_records()))
    return (
        frozenset(record.key for record in live),
        frozenset(record.key for record in known if record.deleted is not None),
    )


def _evaluate_chain(name: str, expressions: dict[str, Expression], universe: Universe) -> list[Record]:
    results: dict[str, list[Record]] = {}

    def result(member: str) -> list[Record]:
        if member not in results:
            results[member] = evaluate(expressions[member], expressions, universe, result)
        return results[member]

    return result(name)


def render_page(
    pages: dict[str, list[Record]],
    selections: dict[str, Selection],
    cursors: dict[str, str],
    typing: dict[str, Any] | None,
) -> bytes:
    """The response body, assembled from each record's cached JSON fragment."""
    parts: list[bytes] = []
    for name, records in pages.items():
        shape = selections[name].shape
        parts.append(encode_json(name) + b":[" + b",".join([instance_json(r, shape) for r in records]) + b"]")
    body = b'{"items":{' + b",".join(parts) + b'},"nextCursor":' + encode_json(cursors)
    if typing is not None:
        body += b',"typing":' + encode_json(typing)
    return body + b"}"
