"""Data models: upsert (with views given inline or by reference), listing, retrieval and delete.

A mixin of :class:`cdf_emulator.schema.SchemaStore`, kept apart to keep files small; it relies on the
store's lock, clock and view staging.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable
from typing import Any

from cdf_emulator.bodies import check_fields
from cdf_emulator.clock import Clock
from cdf_emulator.errors import ApiError
from cdf_emulator.schema_common import (
    DESCRIPTION_MAX,
    NAME_MAX,
    ViewKey,
    check_external_id,
    check_space,
    check_text,
    check_version,
    copy_texts,
    parse_view_ref,
    view_ref,
)
from cdf_emulator.schema_views import normalize_view, view_key

MAX_MODEL_VIEWS = 1000


class ModelsMixin:
    """Data-model methods of the schema store."""

    clock: Clock
    _lock: threading.RLock
    _views: dict[ViewKey, dict[str, Any]]
    _models: dict[ViewKey, dict[str, Any]]
    _seq: int

    def _require_spaces(self, spaces: Iterable[str]) -> None:
        raise NotImplementedError

    def _stage_views(self, specs: list[dict[str, Any]]) -> list[ViewKey]:
        raise NotImplementedError

    def _commit_views(self, specs: list[dict[str, Any]], now: int) -> None:
        raise NotImplementedError

    def _definition(self, key: ViewKey, include_inherited: bool) -> dict[str, Any]:
        raise NotImplementedError

    def apply_data_models(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Upsert data models; inline ``ViewCreateDefinition`` entries are applied as views in the same step."""
        specs: list[dict[str, Any]] = []
        inline: list[dict[str, Any]] = []
        for i, item in enumerate(items):
            spec, views = _normalize_model(item, f"items[{i}]")
            specs.append(spec)
            inline.extend(views)
        keys = [(s["space"], s["externalId"], s["version"]) for s in specs]
        if len(set(keys)) != len(keys):
            raise ApiError(400, "Duplicate items in the request", duplicated=_duplicates(keys))
        with self._lock:
            self._require_spaces(key[0] for key in keys)
            inline = list({view_key(view): view for view in inline}.values())
            if inline:
                self._stage_views(inline)
            known = set(self._views) | {view_key(view) for view in inline}
            missing = [ref for spec in specs for ref in spec["views"] if ref not in known]
            if missing:
                names = ", ".join(f"{k[0]}:{k[1]}/{k[2]}" for k in dict.fromkeys(missing))
                raise ApiError(400, f"One or more views do not exist: {names}", missing=[view_ref(k) for k in missing])
            now = self.clock.now_ms()
            if inline:
                self._commit_views(inline, now)
            for key, spec in zip(keys, specs, strict=True):
                self._store_model(key, spec, now)
            return [self._render_model(key, inline_views=False) for key in keys]

    def _store_model(self, key: ViewKey, spec: dict[str, Any], now: int) -> None:
        old = self._models.get(key)
        if old is not None and old["spec"] == spec:
            return
        self._seq += 1
        created, seq = (old["createdTime"], old["seq"]) if old else (now, self._seq)
        self._models[key] = {"spec": spec, "createdTime": created, "lastUpdatedTime": now, "seq": seq}

    def _render_model(self, key: ViewKey, inline_views: bool) -> dict[str, Any]:
        record = self._models[key]
        spec = record["spec"]
        result: dict[str, Any] = {"space": spec["space"], "externalId": spec["externalId"]}
        copy_texts(spec, result)
        result["version"] = spec["version"]
        if inline_views:
            result["views"] = [self._definition(ref, True) for ref in spec["views"] if ref in self._views]
        else:
            result["views"] = [view_ref(ref) for ref in spec["views"]]
        result.update(isGlobal=False, createdTime=record["createdTime"], lastUpdatedTime=record["lastUpdatedTime"])
        return result

    def _latest_model(self, space: str, external_id: str) -> ViewKey | None:
        versions = [k for k in self._models if k[0] == space and k[1] == external_id]
        return max(versions, key=lambda k: (self._models[k]["createdTime"], self._models[k]["seq"]), default=None)

    def list_data_models(
        self,
        space: str | None = None,
        *,
        all_versions: bool = False,
        inline_views: bool = False,
        include_global: bool = False,
    ) -> list[dict[str, Any]]:
        """Data models, the latest version of each unless ``all_versions``."""
        with self._lock:
            keys = [k for k in self._models if space is None or k[0] == space]
            if not all_versions:
                keys = [k for k in keys if k == self._latest_model(k[0], k[1])]
            return [self._render_model(k, inline_views) for k in keys]

    def retrieve_data_models(
        self, refs: Iterable[tuple[str, str, str | None]], inline_views: bool = False
    ) -> list[dict[str, Any]]:
        """Data models by id; a reference without a version gives every version."""
        with self._lock:
            found: dict[ViewKey, None] = {}
            for space, external_id, version in refs:
                if version is not None:
                    if (space, external_id, version) in self._models:
                        found[(space, external_id, version)] = None
                    continue
                versions = [k for k in self._models if k[0] == space and k[1] == external_id]
                for key in sorted(versions, key=lambda k: (self._models[k]["createdTime"], self._models[k]["seq"])):
                    found[key] = None
            return [self._render_model(key, inline_views) for key in found]

    def get_data_model(self, space: str, external_id: str, version: str | None = None) -> dict[str, Any] | None:
        """One data model with view references; ``version=None`` is the latest by ``createdTime``."""
        with self._lock:
            key = (space, external_id, version) if version is not None else self._latest_model(space, external_id)
            if key is None or key not in self._models:
                return None
            return copy.deepcopy(self._render_model(key, inline_views=False))

    def delete_data_models(self, keys: Iterable[ViewKey]) -> list[ViewKey]:
        """Delete data model versions; their views stay. Returns the requested ids."""
        requested = list(dict.fromkeys(keys))
        with self._lock:
            for key in requested:
                self._models.pop(key, None)
        return requested


def _normalize_model(item: Any, where: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The stored spec of a ``DataModelCreate`` and the view definitions it carries inline."""
    check_fields(item, ("space", "externalId", "version", "name", "description", "views"),
                 ("space", "externalId", "version"), where)  # fmt: skip
    check_text(item, "name", NAME_MAX, where)
    check_text(item, "description", DESCRIPTION_MAX, where)
    spec: dict[str, Any] = {
        "space": check_space(item["space"], f"{where}.space"),
        "externalId": check_external_id(item["externalId"], f"{where}.externalId"),
        "version": check_version(item["version"], f"{where}.version"),
    }
    copy_texts(item, spec)
    raw_views = item.get("views") or []
    if not isinstance(raw_views, list) or len(raw_views) > MAX_MODEL_VIEWS:
        raise ApiError(400, f"'{where}.views' must be a list of at most {MAX_MODEL_VIEWS} views")
    refs: list[ViewKey] = []
    inline: list[dict[str, Any]] = []
    for i, view in enumerate(raw_views):
        at = f"{where}.views[{i}]"
        if isinstance(view, dict) and "type" in view:
            space, external_id, version = parse_view_ref(view, at)
            refs.append((space, external_id, str(version)))
        else:
            inline_spec = normalize_view(view, at)
            inline.append(inline_spec)
            refs.append(view_key(inline_spec))
    spec["views"] = list(dict.fromkeys(refs))
    return spec, inline


def _duplicates(keys: list[ViewKey]) -> list[dict[str, str]]:
    seen: set[ViewKey] = set()
    result = []
    for key in keys:
        if key in seen:
            result.append({"space": key[0], "externalId": key[1], "version": key[2]})
        seen.add(key)
    return result
