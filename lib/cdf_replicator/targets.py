"""The tables a config asks for: one target per (view, nodes|edges), with its paths, state key and scope."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pyspark.sql.types import StructType

from cdf_replicator.errors import SchemaMappingError
from cdf_replicator.resolve import ResolvedModel
from cdf_replicator.schema_mapping import build_batch_struct_type, build_struct_type, edge_properties_for
from cdf_replicator.state import state_key
from cdf_replicator.sync_query import Kind, SyncScope, ViewRef
from cdf_replicator.views import (
    PropertySpec,
    ViewSpec,
    edge_source_refs_for,
    validate_identifier,
    view_spec_from_definition,
)


@dataclass(frozen=True)
class Target:
    """One replicated table: a view's nodes or edges in one data model version."""

    model_space: str
    model_external_id: str
    model_version: str
    view: ViewSpec
    kind: Kind
    scope: SyncScope
    edge_properties: tuple[PropertySpec, ...]
    edge_source_refs: tuple[ViewRef, ...]
    table_path: str
    publish_path: str
    seen_keys_path: str

    @property
    def view_id(self) -> str:
        """``space/model/version/view``: how the CLI's ``--view`` and ``reset-view`` name a view."""
        return f"{self.model_space}/{self.model_external_id}/{self.model_version}/{self.view.external_id}"

    @property
    def label(self) -> str:
        return f"{self.view_id} {self.kind}"

    @property
    def state_key(self) -> str:
        return state_key(self.model_space, self.model_external_id, self.model_version, self.view.external_id, self.kind)

    @property
    def schema(self) -> StructType:
        """The table's Spark schema, from the view definition."""
        return build_struct_type(self.view, self.kind, self.edge_properties)

    @property
    def batch_schema(self) -> StructType:
        """The schema of a page batch: the table's plus the ``_deleted`` tombstone flag."""
        return build_batch_struct_type(self.view, self.kind, self.edge_properties)


def model_prefix(root: str, space: str, model_xid: str, version: str) -> tuple[str, str]:
    """The raw and publish folders of one data model version (identifiers validated: they become paths)."""
    for kind, value in (("space", space), ("externalId", model_xid), ("version", version)):
        try:
            validate_identifier(kind, value)
        except SchemaMappingError as error:
            raise SchemaMappingError(f"data model {space}:{model_xid}/{version}: {error}") from error
    return f"{root}/raw/{space}/{model_xid}/{version}/views", f"{root}/publish/{space}/{model_xid}/{version}"


def plan_targets(
    model: ResolvedModel, root: str, state_root: str, instance_spaces: tuple[str, ...] | None
) -> list[Target]:
    """Every table of a resolved model: nodes for views used for nodes, edges where a view has any.

    A node view's edges table holds the edges whose type is one of its edge connections' types (read once
    each, whichever direction the connection points), with the properties of their edge-source views. A view
    used for edges gets the edges with data in it. A node view without edge connections has no edges table.
    """
    raw_prefix, publish_prefix = model_prefix(root, model.space, model.external_id, model.version)
    sources = {ref: view_spec_from_definition(view) for ref, view in _edge_source_views(model).items()}
    targets: list[Target] = []
    for definition in model.views:
        spec = view_spec_from_definition(definition)
        edge_refs = edge_source_refs_for(spec)
        edge_props = edge_properties_for(spec, sources)
        for kind in _kinds(spec):
            scope = _scope(spec, kind, edge_refs, instance_spaces)
            key = state_key(model.space, model.external_id, model.version, spec.external_id, kind)
            targets.append(
                Target(
                    model_space=model.space,
                    model_external_id=model.external_id,
                    model_version=model.version,
                    view=spec,
                    kind=kind,
                    scope=scope,
                    edge_properties=edge_props if kind == "edges" else (),
                    edge_source_refs=edge_refs if kind == "edges" else (),
                    table_path=f"{raw_prefix}/{spec.external_id}/{kind}",
                    publish_path=f"{publish_prefix}/{spec.external_id}/{kind}.parquet",
                    seen_keys_path=f"{state_root}/resync/{key}",
                )
            )
    return targets


def _kinds(spec: ViewSpec) -> list[Kind]:
    kinds: list[Kind] = []
    if spec.used_for in ("node", "all"):
        kinds.append("nodes")
    if spec.used_for in ("edge", "all") or spec.edge_connections:
        kinds.append("edges")
    return kinds


def _scope(
    spec: ViewSpec, kind: Kind, edge_refs: tuple[ViewRef, ...], instance_spaces: tuple[str, ...] | None
) -> SyncScope:
    if kind == "nodes":
        return SyncScope("nodes", spec.ref, (), (spec.ref,), instance_spaces)
    own = spec.used_for in ("edge", "all")
    types = tuple(dict.fromkeys(c.edge_type for c in spec.edge_connections))
    sources = ((spec.ref,) if own else ()) + tuple(ref for ref in edge_refs if ref != spec.ref)
    return SyncScope("edges", spec.ref if own else None, types, sources, instance_spaces)


def _edge_source_views(model: ResolvedModel) -> dict[ViewRef, dict[str, Any]]:
    return {ViewRef(s, x, v): view for (s, x, v), view in model.edge_sources.items()}
