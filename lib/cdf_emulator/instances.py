"""The instance store: nodes and edges, soft deletes, and the change log that sync pages through.

Every change makes a new immutable :class:`Record` and appends it to an append-only log ordered by a
monotonic sequence number. The previous record of the key is marked stale, so a reader walking the
log from a position sees each instance once, at its latest version. Tombstones stay in the log until
the cursor TTL has passed on the emulator clock, then they are purged: a client that accepts expired
cursors really misses those deletes, as in CDF.
"""

from __future__ import annotations

import secrets
import threading
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar, cast

from cdf_emulator.changelog import ChangeLog
from cdf_emulator.clock import Clock
from cdf_emulator.errors import ApiError
from cdf_emulator.instance_writes import SchemaView, WritePlan, check_external_id, check_space, merge_data, plan_item
from cdf_emulator.records import NO_PROPERTIES, Key, Record, instance_dict
from cdf_emulator.schema_access import ShapeCache, compile_selection, require_view, view_containers

Predicate = Callable[[Record], bool]
T = TypeVar("T")


class InstanceStore:
    """All nodes and edges of the project, with soft deletes and a change log for sync."""

    def __init__(self, clock: Clock, schema: Any, cursor_ttl_s: float) -> None:
        self.clock = clock
        self.schema = schema
        self.ttl_ms = int(cursor_ttl_s * 1000)
        self.lock = threading.RLock()
        self.epoch = secrets.token_hex(4)
        self.shapes = ShapeCache()
        self.generation = 0
        self._by_key: dict[Key, Record] = {}
        self._ghosts: dict[Key, Record] = {}
        self._edges_by_node: dict[Key, set[Key]] = {}
        self._log = ChangeLog()
        self._tombstones: deque[Record] = deque()
        self._derived: dict[str, tuple[int, Any]] = {}
        self.render_slot = threading.Semaphore(1)  # sync renders at most one page ahead at a time

    # writes ------------------------------------------------------------------------------------
    def apply(
        self,
        items: list[dict[str, Any]],
        *,
        auto_create_direct_relations: bool = True,
        auto_create_start_nodes: bool = False,
        auto_create_end_nodes: bool = False,
        skip_on_version_conflict: bool = False,
        replace: bool = False,
    ) -> list[dict[str, Any]]:
        """Create or update instances (all or nothing); returns ``SlimNodeOrEdge`` dicts in item order."""
        schemas = SchemaView(self.schema)
        plans = [plan_item(item, index, schemas) for index, item in enumerate(items)]
        _reject_duplicates(plans)
        with self.lock:
            self._purge()
            results: list[dict[str, Any]] = []
            staged: list[tuple[WritePlan, Record | None, dict[Any, dict[str, Any]]]] = []
            for plan in plans:
                existing = self._live(plan.key)
                self._check_kind(plan)
                if self._version_conflict(plan, existing, skip_on_version_conflict):
                    continue
                _check_endpoints_unchanged(plan, existing)
                data = merge_data(plan, None if existing is None else existing.data, replace, schemas)
                staged.append((plan, existing, data))
            missing = self._missing_targets(
                plans, auto_create_direct_relations, auto_create_start_nodes, auto_create_end_nodes
            )
            now = self.clock.now_ms()
            for key in missing:
                self._commit(Record("node", key, self._next_version(key), now, now, {}))
            for plan, existing, data in staged:
                results.append(self._write(plan, existing, data, now))
            return results

    def delete(self, refs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Soft-delete instances (a node takes its edges along); returns the refs. Unknown ids are ignored."""
        checked: list[tuple[str, Key]] = []
        for index, ref in enumerate(refs):
            where = f"items[{index}]"
            if not isinstance(ref, dict) or ref.get("instanceType") not in ("node", "edge"):
                raise ApiError(400, f"Invalid instanceType at '{where}.instanceType': expected node or edge")
            space = check_space(self.schema, ref.get("space"), f"{where}.space")
            checked.append((ref["instanceType"], (space, check_external_id(ref.get("externalId"), where))))
        with self.lock:
            self._purge()
            now = self.clock.now_ms()
            for kind, key in checked:
                record = self._live(key)
                if record is not None and record.kind == kind:
                    self._tombstone(record, now)
        return [{"instanceType": kind, "space": key[0], "externalId": key[1]} for kind, key in checked]

    # reads ------------------------------------------------------------------------------------
    def get(self, key: Key) -> Record | None:
        """The live record of ``key`` (``None`` when absent or deleted)."""
        with self.lock:
            return self._live(key)

    def live_records(self, kind: str | None = None) -> list[Record]:
        """A snapshot of live records, optionally of one instance type."""
        with self.lock:
            self._purge()
            return [r for r in self._by_key.values() if r.deleted is None and (kind is None or r.kind == kind)]

    def known_records(self) -> list[Record]:
        """Live records, tombstones not yet purged, and tombstones displaced by a re-create."""
        with self.lock:
            self._purge()
            return [*self._by_key.values(), *self._ghosts.values()]

    def current(self, instance_type: str = "node", view: Any = None) -> list[dict[str, Any]]:
        """Live instances as API dicts, sorted by (space, externalId); with ``view`` (a ViewReference
        dict or ``(space, xid, version)``) only those with data in it, with its properties."""
        shape = NO_PROPERTIES
        records = self.live_records(instance_type)
        if view is not None:
            ref = view if isinstance(view, dict) else {"space": view[0], "externalId": view[1], "version": view[2]}
            definition = require_view(self.schema, {"type": "view", **ref}, "view")
            containers = view_containers(self.schema, definition)
            records = [r for r in records if all(c in r.data for c in containers)]
            shape = self.shapes.intern(compile_selection(self.schema, [{"source": {"type": "view", **ref}}], "view"))
        return [instance_dict(r, shape) for r in sorted(records, key=lambda r: r.key)]

    def head(self) -> int:
        """The sequence number of the latest change."""
        return self._log.head

    def scan(
        self, after: int, until: int | None, limit: int, predicate: Predicate | None, skip_deleted_upto: int
    ) -> tuple[list[Record], int, bool]:
        """Walk the change log (see :meth:`ChangeLog.scan`) after purging expired tombstones."""
        with self.lock:
            self._purge()
            return self._log.scan(after, until, limit, predicate, skip_deleted_upto)

    def cached(self, key: str, compute: Callable[[], T]) -> T:
        """A value derived from the whole store (for example a traversal), recomputed after any change."""
        with self.lock:
            self._purge()
            generation = self.generation
            hit = self._derived.get(key)
            if hit is not None and hit[0] == generation:
                return cast(T, hit[1])
            value = compute()
            if len(self._derived) >= 32:
                self._derived.clear()
            self._derived[key] = (generation, value)
            return value

    # internals --------------------------------------------------------------------------------
    def _live(self, key: Key) -> Record | None:
        record = self._by_key.get(key)
        return record if record is not None and record.deleted is None else None

    def _next_version(self, key: Key) -> int:
        previous = self._by_key.get(key)
        return 1 if previous is None else previous.version + 1

    def _check_kind(self, plan: WritePlan) -> None:
        previous = self._by_key.get(plan.key)
        if previous is not None and previous.deleted is None and previous.kind != plan.kind:
            raise ApiError(
                400, f"Instance {plan.key[0]}:{plan.key[1]} already exists as a {previous.kind}, not a {plan.kind}"
            )

    def _version_conflict(self, plan: WritePlan, existing: Record | None, skip: bool) -> bool:
        wanted = plan.existing_version
        current = 0 if existing is None else existing.version
        if wanted is None or wanted == current or (existing is None and wanted == 0):
            return False
        if skip:
            return True
        raise ApiError(
            409,
            f"Version conflict for {plan.kind} {plan.key[0]}:{plan.key[1]}: "
            f"existingVersion {wanted}, current version {current}",
        )

    def _missing_targets(self, plans: list[WritePlan], direct: bool, starts: bool, ends: bool) -> list[Key]:
        """Nodes that edges and direct relations point at but that do not exist: auto-created or 400."""
        planned = {plan.key: plan.kind for plan in plans}
        missing: dict[Key, None] = {}
        for plan in plans:
            wanted: list[tuple[Key, bool, str]] = [(key, direct, "direct relation target") for key in plan.direct]
            if plan.kind == "edge":
                assert plan.start is not None and plan.end is not None
                wanted += [(plan.start, starts, "startNode"), (plan.end, ends, "endNode")]
            for key, allowed, what in wanted:
                existing = self._live(key)
                kind = planned.get(key) or (existing.kind if existing is not None else None)
                if kind == "edge":
                    raise ApiError(400, f"The {what} {key[0]}:{key[1]} of {plan.key[1]} is an edge, not a node")
                if kind == "node":
                    continue
                if not allowed:
                    raise ApiError(
                        400, f"The {what} {key[0]}:{key[1]} of {plan.kind} {plan.key[0]}:{plan.key[1]} does not exist"
                    )
                check_space(self.schema, key[0], what)
                missing[key] = None
        return list(missing)

    def _write(self, plan: WritePlan, existing: Record | None, data: dict[Any, Any], now: int) -> dict[str, Any]:
        # an item without `type` keeps the node's type, as properties that are not written keep their values
        type_ = plan.type_ if plan.type_ is not None or existing is None else existing.type
        if existing is not None and existing.data == data and existing.type == type_:
            return _slim(existing, False)
        created = now if existing is None else existing.created
        record = Record(
            plan.kind, plan.key, self._next_version(plan.key), created, now, data, type_, plan.start, plan.end
        )
        self._commit(record)
        return _slim(record, True)

    def _commit(self, record: Record) -> None:
        """Make ``record`` the current version of its key and append it to the change log."""
        previous = self._by_key.get(record.key)
        if previous is not None:
            if previous.deleted is not None and record.deleted is None:
                # delete + re-create: the tombstone stays visible to sync beside the new version
                self._retire(self._ghosts.pop(record.key, None))
                self._ghosts[record.key] = previous
            else:
                self._retire(previous)
        if record.deleted is not None:
            self._retire(self._ghosts.pop(record.key, None))
        self._log.append(record)
        self._by_key[record.key] = record
        self.generation += 1
        if record.kind == "edge":
            self._index_edge(record)

    def _retire(self, record: Record | None) -> None:
        self._log.retire(record)

    def _index_edge(self, record: Record) -> None:
        assert record.start is not None and record.end is not None
        for node in (record.start, record.end):
            edges = self._edges_by_node.setdefault(node, set())
            if record.deleted is None:
                edges.add(record.key)
            else:
                edges.discard(record.key)
                if not edges:
                    del self._edges_by_node[node]

    def _tombstone(self, record: Record, now: int) -> None:
        if record.kind == "node":
            for edge_key in list(self._edges_by_node.get(record.key, ())):
                edge = self._live(edge_key)
                if edge is not None:
                    self._tombstone(edge, now)
        tomb = Record(
            record.kind, record.key, record.version + 1, record.created, now, record.data,
            record.type, record.start, record.end, deleted=now,
        )  # fmt: skip
        self._commit(tomb)
        self._tombstones.append(tomb)

    def _purge(self) -> None:
        """Forget tombstones older than the TTL: sync can no longer report those deletes."""
        horizon = self.clock.now_ms() - self.ttl_ms
        queue = self._tombstones
        while queue and (queue[0].deleted or 0) < horizon:
            tomb = queue.popleft()
            if self._by_key.get(tomb.key) is tomb:
                del self._by_key[tomb.key]
            if self._ghosts.get(tomb.key) is tomb:
                del self._ghosts[tomb.key]
            self._retire(tomb)
            self.generation += 1


def _slim(record: Record, modified: bool) -> dict[str, Any]:
    return {
        "instanceType": record.kind,
        "space": record.key[0],
        "externalId": record.key[1],
        "version": record.version,
        "wasModified": modified,
        "createdTime": record.created,
        "lastUpdatedTime": record.updated,
    }


def _check_endpoints_unchanged(plan: WritePlan, existing: Record | None) -> None:
    if existing is not None and plan.kind == "edge" and (existing.start, existing.end) != (plan.start, plan.end):
        raise ApiError(400, f"Cannot change startNode or endNode of edge {plan.key[0]}:{plan.key[1]}")


def _reject_duplicates(plans: list[WritePlan]) -> None:
    seen: set[Key] = set()
    duplicated: list[dict[str, str]] = []
    for plan in plans:
        if plan.key in seen:
            duplicated.append({"space": plan.key[0], "externalId": plan.key[1]})
        seen.add(plan.key)
    if duplicated:
        raise ApiError(400, "Duplicate instances in the request", duplicated=duplicated)


def register(router: Any, state: Any) -> None:
    """POST /models/instances, /delete, /list, /byids and /query."""
    from cdf_emulator import instance_api

    instance_api.register(router, state)
