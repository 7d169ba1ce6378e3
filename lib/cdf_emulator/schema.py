"""The data-modeling schema store: spaces, containers, views and data models of one emulated project.

Inputs are API-shaped request items; outputs are API-shaped response items. Every public method takes
the store's lock, so HTTP handlers and the instance store can call it from any thread.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from cdf_emulator import schema_http
from cdf_emulator.bodies import check_fields
from cdf_emulator.clock import Clock
from cdf_emulator.errors import ApiError
from cdf_emulator.routing import Router
from cdf_emulator.schema_common import (
    DESCRIPTION_MAX,
    NAME_MAX,
    ContainerKey,
    ViewKey,
    check_space,
    check_text,
    copy_texts,
)
from cdf_emulator.schema_models import ModelsMixin
from cdf_emulator.schema_types import changed_property_types, normalize_container
from cdf_emulator.schema_views import ViewResolver, normalize_view, view_key

SpaceGuard = Callable[[str], "str | None"]


class PropertyMapping(NamedTuple):
    """Where a view property is stored: its container, the container property and its type."""

    container_space: str
    container_external_id: str
    container_property: str
    type: dict[str, Any]


class SchemaStore(ModelsMixin):
    """Spaces, containers, views and data models, with CDF's upsert and versioning rules."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._lock = threading.RLock()
        self._spaces: dict[str, dict[str, Any]] = {}
        self._containers: dict[ContainerKey, dict[str, Any]] = {}
        self._views: dict[ViewKey, dict[str, Any]] = {}
        self._models: dict[ViewKey, dict[str, Any]] = {}
        self._seq = 0
        self._definitions: dict[tuple[ViewKey, bool], dict[str, Any]] = {}
        self._mappings: dict[ViewKey, dict[str, PropertyMapping]] = {}
        self._resolver: ViewResolver | None = None  # lenient resolver over the current views, reset on change
        self._space_guards: list[SpaceGuard] = []

    # spaces ----------------------------------------------------------------------------------
    def apply_spaces(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Upsert spaces; an unchanged space keeps its times."""
        specs = []
        for i, item in enumerate(items):
            where = f"items[{i}]"
            check_fields(item, ("space", "name", "description"), ("space",), where)
            check_text(item, "name", NAME_MAX, where)
            check_text(item, "description", DESCRIPTION_MAX, where)
            specs.append(copy_texts(item, {"space": check_space(item["space"], f"{where}.space", creating=True)}))
        _reject_duplicates([spec["space"] for spec in specs], lambda s: {"space": s})
        with self._lock:
            now = self.clock.now_ms()
            for spec in specs:
                self._spaces[spec["space"]] = _upsert(self._spaces.get(spec["space"]), spec, now)
            return [copy.deepcopy(self._spaces[spec["space"]]) for spec in specs]

    def space_exists(self, space: str) -> bool:
        with self._lock:
            return space in self._spaces

    def list_spaces(self, include_global: bool = False) -> list[dict[str, Any]]:
        with self._lock:
            return [copy.deepcopy(s) for s in self._spaces.values() if include_global or not s["isGlobal"]]

    def retrieve_spaces(self, spaces: Iterable[str]) -> list[dict[str, Any]]:
        with self._lock:
            return [copy.deepcopy(self._spaces[s]) for s in dict.fromkeys(spaces) if s in self._spaces]

    def add_space_guard(self, guard: SpaceGuard) -> None:
        """Register ``guard(space) -> reason | None``; a reason blocks deleting the space (instances use this)."""
        self._space_guards.append(guard)

    def delete_spaces(self, spaces: Iterable[str]) -> list[str]:
        """Delete empty spaces; deleting an unknown space is a no-op. Returns the requested ids."""
        requested = list(dict.fromkeys(spaces))
        with self._lock:
            for space in requested:
                reason = self._space_in_use(space)
                if reason:
                    raise ApiError(400, f"Cannot delete space '{space}': it still holds {reason}")
            for space in requested:
                self._spaces.pop(space, None)
        return requested

    def _space_in_use(self, space: str) -> str | None:
        if space not in self._spaces:
            return None
        for kind, store in (("containers", self._containers), ("views", self._views), ("data models", self._models)):
            if any(key[0] == space for key in store):
                return kind
        for guard in self._space_guards:
            reason = guard(space)
            if reason:
                return reason
        return None

    def _require_spaces(self, spaces: Iterable[str]) -> None:
        missing = [space for space in dict.fromkeys(spaces) if space not in self._spaces]
        if missing:
            raise ApiError(
                400, f"One or more spaces do not exist: {', '.join(missing)}", missing=[{"space": s} for s in missing]
            )

    # containers ------------------------------------------------------------------------------
    def apply_containers(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Upsert containers; changing an existing property's type is rejected as CDF does."""
        specs = [normalize_container(item, f"items[{i}]") for i, item in enumerate(items)]
        keys = [(spec["space"], spec["externalId"]) for spec in specs]
        _reject_duplicates(keys, lambda k: {"space": k[0], "externalId": k[1]})
        with self._lock:
            self._require_spaces(key[0] for key in keys)
            for key, spec in zip(keys, specs, strict=True):
                old = self._containers.get(key)
                changed = changed_property_types(old, spec) if old else []
                if changed:
                    raise ApiError(400, f"Cannot change the type of properties {changed} of container {key[1]}")
            now = self.clock.now_ms()
            for key, spec in zip(keys, specs, strict=True):
                self._containers[key] = _upsert(self._containers.get(key), spec, now)
            self._invalidate()
            return [copy.deepcopy(self._containers[key]) for key in keys]

    def get_container(self, space: str, external_id: str) -> dict[str, Any] | None:
        with self._lock:
            container = self._containers.get((space, external_id))
            return copy.deepcopy(container) if container else None

    def list_containers(
        self, space: str | None = None, include_global: bool = False, used_for: Iterable[str] = ()
    ) -> list[dict[str, Any]]:
        wanted = set(used_for)
        with self._lock:
            return [
                copy.deepcopy(c)
                for c in self._containers.values()
                if (space is None or c["space"] == space)
                and (include_global or not c["isGlobal"])
                and (not wanted or c["usedFor"] in wanted)
            ]

    def retrieve_containers(self, keys: Iterable[ContainerKey]) -> list[dict[str, Any]]:
        with self._lock:
            return [copy.deepcopy(self._containers[k]) for k in dict.fromkeys(keys) if k in self._containers]

    def delete_containers(self, keys: Iterable[ContainerKey]) -> list[ContainerKey]:
        """Delete containers (views that map them lose those properties). Returns the requested ids."""
        requested = list(dict.fromkeys(keys))
        with self._lock:
            for key in requested:
                self._containers.pop(key, None)
            self._invalidate()
        return requested

    # views -----------------------------------------------------------------------------------
    def apply_views(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Upsert views (one version each); views in one request may refer to each other."""
        specs = [normalize_view(item, f"items[{i}]") for i, item in enumerate(items)]
        with self._lock:
            keys = self._stage_views(specs)
            self._commit_views(specs, self.clock.now_ms())
            return [self._definition(key, True) for key in keys]

    def _stage_views(self, specs: list[dict[str, Any]]) -> list[ViewKey]:
        """Check specs against the stored views plus the batch itself; nothing is stored yet."""
        keys = [view_key(spec) for spec in specs]
        _reject_duplicates(keys, lambda k: {"space": k[0], "externalId": k[1], "version": k[2]})
        self._require_spaces(key[0] for key in keys)
        staged = {key: record["spec"] for key, record in self._views.items()}
        staged.update(zip(keys, specs, strict=True))
        resolver = ViewResolver(staged, self._containers, strict=True)
        for spec in specs:
            resolver.definition(spec)
        return keys

    def _commit_views(self, specs: list[dict[str, Any]], now: int) -> None:
        for spec in specs:
            key = view_key(spec)
            old = self._views.get(key)
            if old is not None and old["spec"] == spec:
                continue
            self._seq += 1
            created, seq = (old["createdTime"], old["seq"]) if old else (now, self._seq)
            self._views[key] = {"spec": spec, "createdTime": created, "lastUpdatedTime": now, "seq": seq}
        self._invalidate()

    def get_view(
        self, space: str, external_id: str, version: str | None = None, include_inherited: bool = True
    ) -> dict[str, Any] | None:
        """The full view definition; ``version=None`` is the latest version by ``createdTime``."""
        with self._lock:
            key = (space, external_id, version) if version is not None else self._latest_view(space, external_id)
            if key is None or key not in self._views:
                return None
            return self._definition(key, include_inherited)

    def _latest_view(self, space: str, external_id: str) -> ViewKey | None:
        versions = [k for k in self._views if k[0] == space and k[1] == external_id]
        return max(versions, key=lambda k: (self._views[k]["createdTime"], self._views[k]["seq"]), default=None)

    def list_views(
        self,
        space: str | None = None,
        *,
        all_versions: bool = True,
        include_inherited: bool = True,
        include_global: bool = False,
    ) -> list[dict[str, Any]]:
        """View definitions, every version unless ``all_versions`` is false (then the latest of each view)."""
        with self._lock:
            keys = [k for k in self._views if space is None or k[0] == space]
            if not all_versions:
                keys = list(dict.fromkeys(self._latest_view(k[0], k[1]) for k in keys if k))  # type: ignore[misc]
            return [self._definition(k, include_inherited) for k in keys]

    def retrieve_views(
        self, refs: Iterable[tuple[str, str, str | None]], include_inherited: bool = True
    ) -> list[dict[str, Any]]:
        """Views by id; a reference without a version gives every version of that view."""
        with self._lock:
            found: dict[ViewKey, None] = {}
            for space, external_id, version in refs:
                if version is not None:
                    if (space, external_id, version) in self._views:
                        found[(space, external_id, version)] = None
                    continue
                versions = [k for k in self._views if k[0] == space and k[1] == external_id]
                for key in sorted(versions, key=lambda k: (self._views[k]["createdTime"], self._views[k]["seq"])):
                    found[key] = None
            return [self._definition(key, include_inherited) for key in found]

    def delete_views(self, keys: Iterable[ViewKey]) -> list[ViewKey]:
        """Delete view versions (data models keep their references). Returns the requested ids."""
        requested = list(dict.fromkeys(keys))
        with self._lock:
            for key in requested:
                self._views.pop(key, None)
            self._invalidate()
        return requested

    def view_containers(self, view: dict[str, Any]) -> list[tuple[str, str]]:
        """The containers a view definition maps, as ``(space, externalId)``."""
        return [(ref["space"], ref["externalId"]) for ref in view.get("mappedContainers", [])]

    def view_properties(self, space: str, external_id: str, version: str) -> dict[str, PropertyMapping] | None:
        """Every mapped (container-backed) property of a view, inherited ones included; None if no such view."""
        key = (space, external_id, version)
        with self._lock:
            if key not in self._views:
                return None
            if key not in self._mappings:
                definition = self._cached_definition(key, True)
                self._mappings[key] = {
                    pid: PropertyMapping(
                        prop["container"]["space"],
                        prop["container"]["externalId"],
                        prop["containerPropertyIdentifier"],
                        copy.deepcopy(prop["type"]),
                    )
                    for pid, prop in definition["properties"].items()
                    if "containerPropertyIdentifier" in prop
                }
            return dict(self._mappings[key])

    def view_property(self, space: str, external_id: str, version: str, prop: str) -> PropertyMapping | None:
        """Resolve one view property to its container property and type; None if unknown or not mapped."""
        mappings = self.view_properties(space, external_id, version)
        return None if mappings is None else mappings.get(prop)

    def _definition(self, key: ViewKey, include_inherited: bool) -> dict[str, Any]:
        return copy.deepcopy(self._cached_definition(key, include_inherited))

    def _cached_definition(self, key: ViewKey, include_inherited: bool) -> dict[str, Any]:
        cached = self._definitions.get((key, include_inherited))
        if cached is None:
            record = self._views[key]
            if self._resolver is None:
                specs = {k: r["spec"] for k, r in self._views.items()}
                self._resolver = ViewResolver(specs, self._containers, strict=False)
            cached = self._resolver.definition(record["spec"], include_inherited)
            cached["createdTime"] = record["createdTime"]
            cached["lastUpdatedTime"] = record["lastUpdatedTime"]
            self._definitions[(key, include_inherited)] = cached
        return cached

    def _invalidate(self) -> None:
        self._resolver = None
        self._definitions.clear()
        self._mappings.clear()


def _reject_duplicates(keys: list[Any], as_id: Callable[[Any], dict[str, str]]) -> None:
    seen: set[Any] = set()
    duplicated = []
    for key in keys:
        if key in seen:
            duplicated.append(as_id(key))
        seen.add(key)
    if duplicated:
        raise ApiError(400, "Duplicate items in the request", duplicated=duplicated)


def _upsert(old: dict[str, Any] | None, spec: dict[str, Any], now: int) -> dict[str, Any]:
    """The stored item after an upsert: unchanged content keeps both times, a change moves lastUpdatedTime."""
    if old is not None:
        content = {k: v for k, v in old.items() if k not in ("createdTime", "lastUpdatedTime", "isGlobal")}
        if content == {k: v for k, v in spec.items() if k != "isGlobal"}:
            return old
    created = old["createdTime"] if old else now
    return {**spec, "isGlobal": spec.get("isGlobal", False), "createdTime": created, "lastUpdatedTime": now}


def register(router: Router, state: Any) -> None:
    """Register the schema endpoints (``/models/spaces|containers|views|datamodels``) over ``state.schema``."""
    schema_http.register(router, state)
