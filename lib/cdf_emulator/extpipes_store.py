"""The data behind the emulated extraction-pipelines API: pipelines, their config revisions and their runs."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from cdf_emulator.clock import Clock
from cdf_emulator.errors import ApiError


@dataclass
class _Pipeline:
    body: dict[str, Any]
    configs: list[dict[str, Any]] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)


def _ident(identifier: dict[str, Any]) -> dict[str, Any]:
    return {"id": identifier["id"]} if "id" in identifier else {"externalId": identifier["externalId"]}


class ExtpipeStore:
    """All extraction pipelines of the project. Items are kept in the API's JSON shape."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._lock = threading.RLock()
        self._by_id: dict[int, _Pipeline] = {}
        self._next_id = 1
        self._next_run_id = 1

    # pipelines -----------------------------------------------------------------------------
    def create(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Create all or none; a taken externalId is 409 with ``duplicated``."""
        with self._lock:
            taken = [
                item["externalId"]
                for index, item in enumerate(items)
                if self._find_xid(item["externalId"]) is not None
                or item["externalId"] in [other["externalId"] for other in items[:index]]
            ]
            if taken:
                raise ApiError(409, "Extraction pipelines already exist", duplicated=[{"externalId": x} for x in taken])
            now = self.clock.now_ms()
            created = []
            for item in items:
                body = {**item, "id": self._next_id, "createdTime": now, "lastUpdatedTime": now}
                self._by_id[self._next_id] = _Pipeline(body)
                self._next_id += 1
                created.append(dict(body))
            return created

    def all(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(self._by_id[key].body) for key in sorted(self._by_id)]

    def retrieve(self, identifiers: list[dict[str, Any]], ignore_unknown: bool) -> list[dict[str, Any]]:
        with self._lock:
            found = self._resolve(identifiers, ignore_unknown)
            return [dict(pipeline.body) for pipeline in found]

    def delete(self, identifiers: list[dict[str, Any]], ignore_unknown: bool) -> None:
        with self._lock:
            for pipeline in self._resolve(identifiers, ignore_unknown):
                self._by_id.pop(pipeline.body["id"], None)

    def replace(self, identifier: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        """Store an updated body for one pipeline (the caller applied the patch); 409 on a taken externalId."""
        with self._lock:
            (pipeline,) = self._resolve([identifier], False)
            other = self._find_xid(body["externalId"])
            if other is not None and other is not pipeline:
                duplicated = [{"externalId": body["externalId"]}]
                raise ApiError(409, "Extraction pipelines already exist", duplicated=duplicated)
            pipeline.body = {**body, "lastUpdatedTime": self.clock.now_ms()}
            return dict(pipeline.body)

    def current(self, identifier: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            (pipeline,) = self._resolve([identifier], False)
            return dict(pipeline.body)

    # configs -------------------------------------------------------------------------------
    def add_config(self, external_id: str, config: str | None, description: str | None) -> dict[str, Any]:
        with self._lock:
            pipeline = self._require_xid(external_id)
            revision = {"externalId": external_id, "revision": len(pipeline.configs) + 1}
            revision["createdTime"] = self.clock.now_ms()
            if config is not None:
                revision["config"] = config
            if description is not None:
                revision["description"] = description
            pipeline.configs.append(revision)
            return dict(revision)

    def config(self, external_id: str, revision: int | None, active_at: int | None) -> dict[str, Any]:
        """One revision: the given one, the one active at ``active_at``, or the latest."""
        with self._lock:
            configs = self._require_xid(external_id).configs
            if revision:
                chosen = [c for c in configs if c["revision"] == revision]
            elif active_at:
                chosen = [c for c in configs if c["createdTime"] <= active_at][-1:]
            else:
                chosen = configs[-1:]
            if not chosen:
                raise ApiError(
                    400, f"No configuration revision found for '{external_id}'", missing=[{"externalId": external_id}]
                )
            return {**chosen[0], "externalId": external_id}

    def revert_config(self, external_id: str, revision: int) -> dict[str, Any]:
        """A new revision that copies ``revision``, as CDF's revert does."""
        old = self.config(external_id, revision, None)
        return self.add_config(external_id, old.get("config"), old.get("description"))

    def config_revisions(self, external_id: str) -> list[dict[str, Any]]:
        """Revisions newest first, without the config text."""
        with self._lock:
            configs = self._require_xid(external_id).configs
            return [
                {key: value for key, value in c.items() if key != "config"} | {"externalId": external_id}
                for c in reversed(configs)
            ]

    # runs ----------------------------------------------------------------------------------
    def add_runs(self, runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Record runs and move the pipeline's lastSeen/lastSuccess/lastFailure/lastMessage."""
        with self._lock:
            pipelines = [self._require_xid(run["externalId"]) for run in runs]
            created = []
            for run, pipeline in zip(runs, pipelines, strict=True):
                stored = {"id": self._next_run_id, "status": run["status"]}
                stored["createdTime"] = run.get("createdTime") or self.clock.now_ms()
                self._next_run_id += 1
                if run.get("message") is not None:
                    stored["message"] = run["message"]
                pipeline.runs.append(stored)
                _note_run(pipeline.body, stored)
                created.append({**stored, "externalId": run["externalId"]})
            return created

    def runs(self, external_id: str) -> list[dict[str, Any]]:
        """Runs of one pipeline, newest first."""
        with self._lock:
            runs = self._require_xid(external_id).runs
            return [dict(run) for run in sorted(runs, key=lambda r: (-r["createdTime"], -r["id"]))]

    # lookups -------------------------------------------------------------------------------
    def _find_xid(self, external_id: str) -> _Pipeline | None:
        for pipeline in self._by_id.values():
            if pipeline.body["externalId"] == external_id:
                return pipeline
        return None

    def _require_xid(self, external_id: str) -> _Pipeline:
        pipeline = self._find_xid(external_id)
        if pipeline is None:
            raise ApiError(400, f"Extraction pipeline not found: {external_id}", missing=[{"externalId": external_id}])
        return pipeline

    def _resolve(self, identifiers: list[dict[str, Any]], ignore_unknown: bool) -> list[_Pipeline]:
        found: list[_Pipeline] = []
        missing = []
        for identifier in identifiers:
            if "id" in identifier:
                pipeline = self._by_id.get(identifier["id"])
            else:
                pipeline = self._find_xid(identifier["externalId"])
            if pipeline is None:
                missing.append(_ident(identifier))
            elif pipeline not in found:
                found.append(pipeline)
        if missing and not ignore_unknown:
            raise ApiError(400, "Extraction pipelines not found", missing=missing)
        return found


def _note_run(body: dict[str, Any], run: dict[str, Any]) -> None:
    when = run["createdTime"]
    body["lastSeen"] = max(body.get("lastSeen", when), when)
    if run["status"] == "success":
        body["lastSuccess"] = max(body.get("lastSuccess", when), when)
    elif run["status"] == "failure":
        if when >= body.get("lastFailure", when):
            body["lastMessage"] = run.get("message", "")
        body["lastFailure"] = max(body.get("lastFailure", when), when)
