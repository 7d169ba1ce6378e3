"""Sync request bodies for one (view, nodes|edges) target: pure functions, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["nodes", "edges"]
RESULT_SET = "items"


@dataclass(frozen=True)
class ViewRef:
    """A view identifier as CDF writes it in requests and property keys."""

    space: str
    external_id: str
    version: str

    def as_api(self) -> dict[str, str]:
        return {"type": "view", "space": self.space, "externalId": self.external_id, "version": self.version}

    @property
    def property_key(self) -> str:
        """The key under ``properties[space]`` in instance JSON: ``<externalId>/<version>``."""
        return f"{self.external_id}/{self.version}"


@dataclass(frozen=True)
class SyncScope:
    """What one table holds: the filter inputs of its sync query.

    ``has_data_view`` selects instances with data in that view (nodes of a node view, edges of an edge
    view); ``edge_types`` selects edges by type (the edge connections of a node view); both may be set.
    ``sources`` are the views whose properties are selected.
    """

    kind: Kind
    has_data_view: ViewRef | None
    edge_types: tuple[tuple[str, str], ...]
    sources: tuple[ViewRef, ...]
    instance_spaces: tuple[str, ...] | None = None


def build_filter(scope: SyncScope) -> dict[str, Any]:
    """The sync filter of a scope: (hasData OR type in edge types) AND space in instance spaces."""
    instance_type = "node" if scope.kind == "nodes" else "edge"
    alternatives: list[dict[str, Any]] = []
    if scope.has_data_view is not None:
        alternatives.append({"hasData": [scope.has_data_view.as_api()]})
    if scope.edge_types:
        values = [{"space": space, "externalId": xid} for space, xid in scope.edge_types]
        alternatives.append({"in": {"property": ["edge", "type"], "values": values}})
    if not alternatives:
        raise ValueError("a sync scope needs hasData or edge types")
    selection = alternatives[0] if len(alternatives) == 1 else {"or": alternatives}
    if not scope.instance_spaces:
        return selection
    spaces = {"in": {"property": [instance_type, "space"], "values": list(scope.instance_spaces)}}
    return {"and": [selection, spaces]}


def build_sync_body(scope: SyncScope, cursor: str | None, limit: int) -> dict[str, Any]:
    """A ``POST /models/instances/sync`` body: one result set, twoPhase backfill, all properties of the sources.

    Deleted instances are needed only after the backfill, so ``skipAlreadyDeleted`` keeps its default (true):
    a backfill into a non-empty table reconciles by deleting every key it did not see instead.
    """
    key = "nodes" if scope.kind == "nodes" else "edges"
    expression: dict[str, Any] = {key: {"filter": build_filter(scope)}, "limit": limit, "mode": "twoPhase"}
    select: dict[str, Any] = {}
    if scope.sources:
        select = {"sources": [{"source": ref.as_api(), "properties": ["*"]} for ref in scope.sources]}
    body: dict[str, Any] = {"with": {RESULT_SET: expression}, "select": {RESULT_SET: select}}
    if cursor is not None:
        body["cursors"] = {RESULT_SET: cursor}
    return body
