"""publish_all/publish_targets over the replicator's planned targets: the wiring the CLI uses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import SparkSession

from cdf_replicator.config import load_config
from cdf_replicator.delta_sink import ensure_table, merge_batch
from cdf_replicator.publish_run import publish_all, publish_target_for, publish_targets
from cdf_replicator.resolve import ResolvedModel
from cdf_replicator.targets import Target, plan_targets
from tests.publish_support import REPLICATED_AT, read_rows

pytestmark = pytest.mark.spark

REPO = Path(__file__).resolve().parents[2]
CONTAINER = {"type": "container", "space": "sp", "externalId": "Asset"}


def mapped(type_name: str, is_list: bool = False) -> dict[str, Any]:
    return {"container": CONTAINER, "containerPropertyIdentifier": "x", "type": {"type": type_name, "list": is_list}}


ASSET = {
    "space": "sp",
    "externalId": "Asset",
    "version": "1",
    "usedFor": "node",
    "properties": {
        "name": mapped("text"),
        "metas": mapped("json", is_list=True),
        "links": {
            "connectionType": "multi_edge_connection",
            "type": {"space": "sp", "externalId": "LinksTo"},
            "source": {"type": "view", "space": "sp", "externalId": "Asset", "version": "1"},
            "direction": "outwards",
        },
    },
}


def planned(root: str) -> list[Target]:
    model = ResolvedModel("sp", "Plant", "1", (ASSET,), {})
    return plan_targets(model, root, f"{root}/_state", None)


def load(spark: SparkSession, target: Target, rows: list[dict[str, Any]]) -> None:
    ensure_table(spark, target.table_path, target.schema)
    if rows:
        schema = target.batch_schema
        frame = spark.createDataFrame([tuple(row.get(name) for name in schema.fieldNames()) for row in rows], schema)
        merge_batch(spark, target.table_path, frame)


def test_publish_all_publishes_every_planned_table_and_one_manifest_per_model(
    spark: SparkSession, tmp_path: Path
) -> None:
    config = load_config(REPO / "conf" / "demo.yaml", env={"CDF_REPLICATOR_ROOT": str(tmp_path / "lake")})
    targets = planned(config.root_uri)
    assert [(t.kind, publish_target_for(t).json_columns) for t in targets] == [("nodes", ("metas",)), ("edges", ())]
    system = {"space": "sp", "version": 1, "createdTime": 1, "lastUpdatedTime": 2, "_replicatedAt": REPLICATED_AT}
    load(spark, targets[0], [{**system, "externalId": "a", "instanceType": "node", "metas": ['{"k":1}'],
                             "_deleted": False}])  # fmt: skip
    # The edges table was never replicated: its file is empty, with the edge schema.

    results = publish_all(spark, config, targets)

    assert [[(o.status, o.rows) for o in r.outcomes] for r in results] == [[("published", 1), ("published", 0)]]
    publish_dir = tmp_path / "lake" / "publish" / "sp" / "Plant" / "1"
    assert [(r["externalId"], r["metas"]) for r in read_rows(publish_dir / "Asset" / "nodes.parquet")[1]] == [
        ("a", '[{"k":1}]')
    ]
    edge_schema, edge_rows = read_rows(publish_dir / "Asset" / "edges.parquet")
    assert (edge_schema.names[6:10], edge_rows) == (
        ["type.space", "type.externalId", "startNode.space", "startNode.externalId"],
        [],
    )
    manifest = json.loads((publish_dir / "_manifest.json").read_text())
    assert [(f["path"], f["tableVersion"]) for f in manifest["files"]] == [
        ("Asset/edges.parquet", None),
        ("Asset/nodes.parquet", 1),
    ]
    assert publish_targets(config, spark, targets) == 0  # unchanged now: nothing failed


def test_publish_targets_exits_non_zero_when_a_file_fails_and_never_empties_a_non_delta_table(
    spark: SparkSession, tmp_path: Path
) -> None:
    config = load_config(REPO / "conf" / "demo.yaml", env={"CDF_REPLICATOR_ROOT": str(tmp_path / "lake")})
    target = planned(config.root_uri)[0]
    table = tmp_path / "lake" / "raw" / "sp" / "Plant" / "1" / "views" / "Asset" / "nodes"
    table.mkdir(parents=True)
    (table / "part-0.parquet").write_bytes(b"not a Delta table")
    assert publish_targets(config, spark, [target]) == 1
    assert not (tmp_path / "lake" / "publish" / "sp" / "Plant" / "1" / "Asset" / "nodes.parquet").exists()
