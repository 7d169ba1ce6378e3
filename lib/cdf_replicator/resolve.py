"""Resolve configured data models and views against CDF (the only schema reads the replicator makes)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cognite.client.exceptions import CogniteAPIError, CogniteConnectionError

from cdf_replicator.cdf import project_path
from cdf_replicator.errors import CdfAccessError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ResolvedModel:
    """One data model version with the full definitions (API JSON) of the views to replicate."""

    space: str
    external_id: str
    version: str
    views: tuple[dict[str, Any], ...]
    edge_sources: dict[tuple[str, str, str], dict[str, Any]]


def resolve_model(
    client: Any, space: str, external_id: str, version: str | None, views: Iterable[str] | None
) -> ResolvedModel:
    """Fetch a data model (the latest version when ``version`` is None) and the views to replicate.

    Unknown models, versions or views raise :class:`CdfAccessError` naming what is missing, so a typo in
    the config fails before anything is written.
    """
    version = version or latest_model_version(client, space, external_id)
    model = _retrieve_model(client, space, external_id, version)
    by_xid = {view["externalId"]: view for view in model.get("views", [])}
    wanted = list(views) if views else sorted(by_xid)
    missing = [xid for xid in wanted if xid not in by_xid]
    if missing:
        raise CdfAccessError(
            f"data model {space}:{external_id}/{version} has no view {', '.join(missing)} "
            f"(it has: {', '.join(sorted(by_xid)) or 'no views'})"
        )
    selected = tuple(by_xid[xid] for xid in wanted)
    return ResolvedModel(space, external_id, version, selected, fetch_edge_sources(client, selected))


def latest_model_version(client: Any, space: str, external_id: str) -> str:
    """The most recently created version of a data model."""
    versions = [m for m in _list_models(client, space) if m["externalId"] == external_id]
    if not versions:
        raise CdfAccessError(f"data model {space}:{external_id} not found in CDF")
    return str(max(versions, key=lambda m: m["createdTime"])["version"])


def fetch_edge_sources(client: Any, views: Iterable[dict[str, Any]]) -> dict[tuple[str, str, str], dict[str, Any]]:
    """Definitions of the ``edgeSource`` views of the views' edge connections, keyed (space, xid, version)."""
    refs: dict[tuple[str, str, str], dict[str, str]] = {}
    for view in views:
        for prop in view.get("properties", {}).values():
            source = prop.get("edgeSource") if "connectionType" in prop else None
            if source:
                refs[(source["space"], source["externalId"], source["version"])] = source
    if not refs:
        return {}
    items = [{"space": s, "externalId": x, "version": v} for s, x, v in refs]
    found = _post(client, "/models/views/byids", {"items": items}, {"includeInheritedProperties": "true"})
    resolved = {(v["space"], v["externalId"], v["version"]): v for v in found}
    missing = [f"{s}:{x}/{v}" for s, x, v in refs if (s, x, v) not in resolved]
    if missing:
        raise CdfAccessError(f"edge source view {', '.join(missing)} not found in CDF")
    return resolved


def _retrieve_model(client: Any, space: str, external_id: str, version: str) -> dict[str, Any]:
    items = _post(
        client,
        "/models/datamodels/byids",
        {"items": [{"space": space, "externalId": external_id, "version": version}]},
        {"inlineViews": "true"},
    )
    if not items:
        raise CdfAccessError(f"data model {space}:{external_id} version {version} not found in CDF")
    return dict(items[0])


def _list_models(client: Any, space: str) -> list[dict[str, Any]]:
    models: list[dict[str, Any]] = []
    params: dict[str, Any] = {"space": space, "allVersions": "true", "limit": 1000}
    while True:
        answer = _call(client, "GET", "/models/datamodels", None, params)
        models.extend(answer.get("items", []))
        cursor = answer.get("nextCursor")
        if not cursor:
            return models
        params["cursor"] = cursor


def _post(client: Any, path: str, body: dict[str, Any], params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    return list(_call(client, "POST", path, body, params).get("items", []))


def _call(client: Any, method: str, path: str, body: dict[str, Any] | None, params: dict[str, Any] | None) -> Any:
    try:
        if method == "GET":
            return client.get(project_path(client, path), params=params).json()
        return client.post(project_path(client, path), json=body, params=params).json()
    except CogniteAPIError as error:
        raise CdfAccessError(f"CDF answered {error.code} to {method} {path}: {error.message}") from error
    except CogniteConnectionError as error:
        raise CdfAccessError(f"cannot reach CDF at {client.config.base_url}: {error}") from error
