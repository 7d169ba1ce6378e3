"""Publishing tables to local files: content, schemas, Hyper, atomic replacement, leftovers, the manifest."""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from pyspark.sql import SparkSession

from cdf_replicator.errors import PublishError
from cdf_replicator.hadoop_mover import HadoopMover
from cdf_replicator.publish import PublishTarget, publish_table
from cdf_replicator.publish_run import publish_model
from cdf_replicator.schema_mapping import build_struct_type
from cdf_replicator.views import PropertySpec, ViewSpec
from tests.publish_support import (
    EDGE_COLUMNS,
    EXPECTED_FULL_NODE_PROPS,
    FULL_NODE_PROPS,
    HYPER_EDGE_TYPES,
    HYPER_NODE_TYPES,
    JSON_COLUMNS,
    NODE_COLUMNS,
    REPLICATED_AT,
    UTC,
    VIEW,
    arrow_columns,
    batch,
    edge,
    edge_schema,
    expected_node,
    hyper_describe,
    load_table,
    node,
    node_schema,
    read_rows,
)

pytestmark = pytest.mark.spark


@pytest.fixture()
def lake(tmp_path: Path) -> Path:
    return tmp_path / "lake"


def raw(lake: Path, kind: str = "nodes") -> str:
    return f"file:{lake}/raw/sp/Plant/1/views/Asset/{kind}"


def stable(lake: Path, kind: str = "nodes") -> Path:
    return lake / "publish" / "sp" / "Plant" / "1" / "Asset" / f"{kind}.parquet"


def publish_nodes(spark: SparkSession, lake: Path, **options: Any) -> Any:
    return publish_table(spark, raw(lake), f"file:{stable(lake)}", node_schema(), json_columns=JSON_COLUMNS, **options)


def test_nodes_are_published_flat_with_one_row_per_key_and_no_deleted_rows(spark: SparkSession, lake: Path) -> None:
    load_table(spark, raw(lake), "nodes", [node("a", **FULL_NODE_PROPS), node("b"), node("c")])
    load_table(spark, raw(lake), "nodes", [node("b", 2, 2000, name="B2"), node("c", 2, 2000, deleted=True)])

    published = publish_nodes(spark, lake)

    schema, rows = read_rows(stable(lake))
    assert arrow_columns(schema) == NODE_COLUMNS
    assert rows == [expected_node("a", **EXPECTED_FULL_NODE_PROPS), expected_node("b", 2, 2000, name="B2")]
    assert (published.path, published.rows, published.table_version) == (f"file:{stable(lake)}", 2, 2)
    assert sorted(p.name for p in stable(lake).parent.iterdir()) == ["nodes.parquet"]


def test_edges_are_published_once_each_with_split_endpoints(spark: SparkSession, lake: Path) -> None:
    since = datetime(2023, 6, 1, tzinfo=UTC)
    load_table(
        spark, raw(lake, "edges"), "edges", [edge("e1", "a", "b", weight=0.5, since=since), edge("e2", "b", "a")]
    )
    load_table(spark, raw(lake, "edges"), "edges", [edge("e1", "a", "b", 2, 2000, weight=0.75, since=since)])

    publish_table(spark, raw(lake, "edges"), f"file:{stable(lake, 'edges')}", edge_schema())

    schema, rows = read_rows(stable(lake, "edges"))
    assert arrow_columns(schema) == EDGE_COLUMNS
    common = {"space": "sp", "instanceType": "edge", "createdTime": 500, "_replicatedAt": REPLICATED_AT}
    common |= {"type.space": "sp", "type.externalId": "LinksTo", "startNode.space": "sp", "endNode.space": "sp"}
    assert rows == [
        {**common, "externalId": "e1", "version": 2, "lastUpdatedTime": 2000, "startNode.externalId": "a",
         "endNode.externalId": "b", "weight": 0.75, "since": since},
        {**common, "externalId": "e2", "version": 1, "lastUpdatedTime": 1000, "startNode.externalId": "b",
         "endNode.externalId": "a", "weight": None, "since": None},
    ]  # fmt: skip


def test_an_empty_table_and_a_missing_table_publish_the_full_typed_schema(spark: SparkSession, lake: Path) -> None:
    load_table(spark, raw(lake), "nodes", [])
    publish_nodes(spark, lake)
    missing = publish_table(spark, raw(lake, "edges"), f"file:{stable(lake, 'edges')}", edge_schema())

    for path, columns in ((stable(lake), NODE_COLUMNS), (stable(lake, "edges"), EDGE_COLUMNS)):
        schema, rows = read_rows(path)
        assert (arrow_columns(schema), rows) == (columns, [])
    assert (missing.rows, missing.table_version) == (0, None)
    with pytest.raises(PublishError, match="no Delta table"):
        publish_table(spark, raw(lake, "edges"), f"file:{stable(lake, 'edges')}", None)


def test_a_table_with_duplicate_keys_publishes_the_newest_row_of_each(
    spark: SparkSession, lake: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rows = [node("a", 1, 1000, name="old"), node("a", 3, 3000, name="new"), node("a", 2, 2000), node("b")]
    load_table(spark, raw(lake), "nodes", [])
    batch(spark, "nodes", rows).drop("_deleted").write.format("delta").mode("append").save(raw(lake))

    with caplog.at_level(logging.WARNING, logger="cdf_replicator.publish"):
        published = publish_nodes(spark, lake)

    assert read_rows(stable(lake))[1] == [expected_node("a", 3, 3000, name="new"), expected_node("b")]
    assert published.rows == 2
    assert "4 rows for 2 keys" in caplog.text


def test_tableau_hyper_reads_every_published_file_with_its_types(
    spark: SparkSession, lake: Path, tmp_path: Path
) -> None:
    load_table(spark, raw(lake), "nodes", [node("a", **FULL_NODE_PROPS), node("b")])
    load_table(spark, raw(lake, "edges"), "edges", [edge("e1", "a", "b", weight=1.0, since=REPLICATED_AT)])
    publish_nodes(spark, lake)
    publish_table(spark, raw(lake, "edges"), f"file:{stable(lake, 'edges')}", edge_schema())
    empty = lake / "publish" / "sp" / "Plant" / "1" / "Empty" / "nodes.parquet"
    publish_table(spark, f"file:{lake}/raw/none", f"file:{empty}", node_schema())

    described = hyper_describe([stable(lake), stable(lake, "edges"), empty], tmp_path)

    assert described == {
        str(stable(lake)): (2, HYPER_NODE_TYPES),
        str(stable(lake, "edges")): (1, HYPER_EDGE_TYPES),
        str(empty): (0, HYPER_NODE_TYPES),
    }


def names_in(path: Path) -> set[str]:
    return set(pq.read_table(path, columns=["name"]).column("name").to_pylist())


def test_leftovers_of_an_interrupted_publish_leave_the_file_intact_and_go_next_time(
    spark: SparkSession, lake: Path
) -> None:
    load_table(spark, raw(lake), "nodes", [node("a", name="first")])
    publish_nodes(spark, lake)
    # What a publish killed while Spark was writing leaves behind: a temporary folder with a partial file.
    interrupted = stable(lake).parent / "_tmp_nodes_0123abcd"
    interrupted.mkdir()
    (interrupted / "part-00000-x-c000.snappy.parquet").write_bytes(stable(lake).read_bytes()[:100])
    other_kind = stable(lake).parent / "_tmp_edges_4567cdef"  # another file's publish, maybe still running
    other_kind.mkdir()

    assert names_in(stable(lake)) == {"first"}
    load_table(spark, raw(lake), "nodes", [node("a", 2, 2000, name="second")])
    publish_nodes(spark, lake)

    assert names_in(stable(lake)) == {"second"}
    assert sorted(p.name for p in stable(lake).parent.iterdir()) == ["_tmp_edges_4567cdef", "nodes.parquet"]


class Reader(threading.Thread):
    """Reads the stable file in a loop; records what each read saw and any error."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.stop = threading.Event()
        self.seen: list[tuple[int, frozenset[str]]] = []
        self.errors: list[BaseException] = []

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                # One open per read: a reader that opens the name twice (footer, then data) can pair two versions.
                with self.path.open("rb") as handle:
                    names = pq.read_table(handle, columns=["name"]).column("name").to_pylist()
            except BaseException as error:  # the test asserts there are none
                self.errors.append(error)
            else:
                self.seen.append((len(names), frozenset(names)))


def generation(number: int) -> list[dict[str, Any]]:
    """Generation ``n``: keys k0..k(n+1), all named ``gen<n>``; each generation's file is distinguishable."""
    return [node(f"k{i}", number + 1, 1000 * (number + 1), name=f"gen{number}") for i in range(number + 2)]


def test_a_reader_never_sees_a_partial_missing_or_mixed_file(spark: SparkSession, lake: Path) -> None:
    load_table(spark, raw(lake), "nodes", generation(0))
    publish_nodes(spark, lake)
    reader = Reader(stable(lake))
    reader.start()
    try:
        for number in range(1, 4):
            load_table(spark, raw(lake), "nodes", generation(number))
            publish_nodes(spark, lake)
    finally:
        reader.stop.set()
        reader.join()

    assert reader.errors == []
    allowed = {(number + 2, frozenset({f"gen{number}"})) for number in range(4)}
    assert set(reader.seen) <= allowed
    assert len(set(reader.seen)) >= 3, "the reader should have overlapped several publishes"


def test_the_local_move_is_one_rename_and_open_readers_keep_the_old_file(spark: SparkSession, tmp_path: Path) -> None:
    source, target = tmp_path / "_tmp_x" / "part-0.parquet", tmp_path / "x.parquet"
    source.parent.mkdir()
    source.write_bytes(b"new content")
    target.write_bytes(b"old content")
    inode = source.stat().st_ino
    with target.open("rb") as already_open:
        HadoopMover(spark).replace(f"file:{source}", f"file:{target}")
        assert already_open.read() == b"old content"
    assert (target.read_bytes(), target.stat().st_ino, source.exists()) == (b"new content", inode, False)


def test_the_generic_overwrite_strategy_replaces_the_file(spark: SparkSession, tmp_path: Path) -> None:
    source, target = tmp_path / "_tmp_x" / "part-0.parquet", tmp_path / "x.parquet"
    source.parent.mkdir()
    source.write_bytes(b"new content")
    target.write_bytes(b"old content")
    HadoopMover(spark, strategy="overwrite_rename").replace(f"file:{source}", f"file:{target}")
    assert (target.read_bytes(), source.exists()) == (b"new content", False)


def test_hadoop_mover_text_files_and_part_file_lookup(spark: SparkSession, tmp_path: Path) -> None:
    mover = HadoopMover(spark)
    uri = f"file:{tmp_path}/model/_manifest.json"
    assert mover.read_text(uri) is None
    mover.write_text(uri, '{"a": "é"}')
    mover.write_text(uri, '{"b": 2}')
    assert mover.read_text(uri) == '{"b": 2}'
    assert sorted(p.name for p in (tmp_path / "model").iterdir()) == ["_manifest.json"]
    (tmp_path / "out").mkdir()
    with pytest.raises(PublishError, match="found 0"):
        mover.single_part_file(f"file:{tmp_path}/out")


class Clock:
    """A clock that moves one second per reading."""

    def __init__(self) -> None:
        self.now = datetime(2024, 6, 1, 8, 0, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture()
def clock() -> Clock:
    return Clock()


def model_targets(lake: Path, schema: Any = None) -> list[PublishTarget]:
    return [
        PublishTarget(raw(lake), f"file:{stable(lake)}", "nodes", schema or node_schema(), "Asset nodes", JSON_COLUMNS),
        PublishTarget(raw(lake, "edges"), f"file:{stable(lake, 'edges')}", "edges", edge_schema(), "Asset edges"),
    ]


def manifest_uri(lake: Path) -> str:
    return f"file:{lake}/publish/sp/Plant/1/_manifest.json"


def read_manifest(lake: Path) -> dict[str, Any]:
    return dict(json.loads((lake / "publish" / "sp" / "Plant" / "1" / "_manifest.json").read_text()))


def file_identity(path: Path) -> tuple[int, int]:
    status = os.stat(path)
    return status.st_ino, status.st_mtime_ns


@pytest.fixture()
def published_model(spark: SparkSession, lake: Path, clock: Clock) -> Iterator[Path]:
    load_table(spark, raw(lake), "nodes", [node("a"), node("b")])
    load_table(spark, raw(lake, "edges"), "edges", [edge("e1", "a", "b")])
    result = publish_model(spark, model_targets(lake), manifest_uri(lake), clock=clock)
    assert [o.status for o in result.outcomes] == ["published", "published"]
    yield lake


def test_the_manifest_records_each_file_its_rows_table_version_and_time(published_model: Path) -> None:
    manifest = read_manifest(published_model)
    assert (manifest["formatVersion"], manifest["updatedAt"]) == (1, "2024-06-01T08:00:03.000Z")
    assert [{k: v for k, v in f.items() if k != "columns"} for f in manifest["files"]] == [
        {"path": "Asset/edges.parquet", "view": "Asset", "kind": "edges", "sourceTable": raw(published_model, "edges"),
         "tableVersion": 1, "rows": 1, "publishedAt": "2024-06-01T08:00:02.000Z",
         "checkedAt": "2024-06-01T08:00:02.000Z", "status": "published", "error": None},
        {"path": "Asset/nodes.parquet", "view": "Asset", "kind": "nodes", "sourceTable": raw(published_model),
         "tableVersion": 1, "rows": 2, "publishedAt": "2024-06-01T08:00:01.000Z",
         "checkedAt": "2024-06-01T08:00:01.000Z", "status": "published", "error": None},
    ]  # fmt: skip
    assert manifest["files"][1]["columns"][:8] == [
        {"name": "space", "type": "string"},
        {"name": "externalId", "type": "string"},
        {"name": "instanceType", "type": "string"},
        {"name": "version", "type": "bigint"},
        {"name": "createdTime", "type": "bigint"},
        {"name": "lastUpdatedTime", "type": "bigint"},
        {"name": "type.space", "type": "string"},
        {"name": "type.externalId", "type": "string"},
    ]
    assert [c["name"] for c in manifest["files"][1]["columns"]] == [name for name, _ in NODE_COLUMNS]


def test_an_unchanged_table_is_not_rewritten(spark: SparkSession, published_model: Path, clock: Clock) -> None:
    lake = published_model
    before = file_identity(stable(lake)), file_identity(stable(lake, "edges"))
    load_table(spark, raw(lake, "edges"), "edges", [edge("e2", "b", "a")])

    result = publish_model(spark, model_targets(lake), manifest_uri(lake), clock=clock)

    assert [(o.status, o.rows, o.table_version) for o in result.outcomes] == [("unchanged", 2, 1), ("published", 2, 2)]
    assert file_identity(stable(lake)) == before[0]
    assert file_identity(stable(lake, "edges")) != before[1]
    nodes = read_manifest(lake)["files"][1]
    assert (nodes["status"], nodes["publishedAt"], nodes["checkedAt"]) == (
        "unchanged",
        "2024-06-01T08:00:01.000Z",
        "2024-06-01T08:00:04.000Z",
    )


def test_a_deleted_file_is_republished_even_if_its_table_did_not_change(
    spark: SparkSession, published_model: Path, clock: Clock
) -> None:
    stable(published_model).unlink()
    result = publish_model(spark, model_targets(published_model), manifest_uri(published_model), clock=clock)
    assert [o.status for o in result.outcomes] == ["published", "unchanged"]
    assert stable(published_model).exists()


def test_a_new_property_appears_as_a_column(spark: SparkSession, published_model: Path, clock: Clock) -> None:
    lake = published_model
    wider = ViewSpec(VIEW.space, VIEW.external_id, VIEW.version, "node", (*VIEW.properties, PropertySpec("x", "int64")))
    targets = model_targets(lake, build_struct_type(wider, "nodes"))

    # The view has the property before the table does: an empty typed column, and the file is rewritten.
    first = publish_model(spark, targets, manifest_uri(lake), clock=clock)
    schema, rows = read_rows(stable(lake))
    assert (first.outcomes[0].status, schema.field("x").type, [row["x"] for row in rows]) == (
        "published",
        "int64",
        [None, None],
    )
    # Replication adds the column and values: a new table version, published.
    load_table(spark, raw(lake), "nodes", [node("a", 2, 2000, x=7)], wider)
    second = publish_model(spark, targets, manifest_uri(lake), clock=clock)
    assert (second.outcomes[0].status, [r["x"] for r in read_rows(stable(lake))[1]]) == ("published", [7, None])
    assert read_manifest(lake)["files"][1]["columns"][-2] == {"name": "x", "type": "bigint"}


def test_a_failing_file_keeps_its_previous_file_and_entry_and_others_still_publish(
    spark: SparkSession, published_model: Path, clock: Clock
) -> None:
    lake = published_model
    before = file_identity(stable(lake))
    broken = [
        PublishTarget(f"file:{lake}/raw/nowhere", f"file:{stable(lake)}", "nodes", None, "Asset nodes"),
        model_targets(lake)[1],
    ]
    load_table(spark, raw(lake, "edges"), "edges", [edge("e9", "a", "a")])

    result = publish_model(spark, broken, manifest_uri(lake), clock=clock)

    assert [o.status for o in result.failed] == ["failed"]
    assert "no Delta table" in (result.failed[0].error or "")
    assert [o.status for o in result.outcomes] == ["failed", "published"]
    assert file_identity(stable(lake)) == before
    nodes = read_manifest(lake)["files"][1]
    assert (nodes["status"], nodes["tableVersion"], nodes["rows"], nodes["publishedAt"]) == (
        "failed",
        1,
        2,
        "2024-06-01T08:00:01.000Z",
    )
    assert "no Delta table" in nodes["error"]


def test_force_rewrites_unchanged_files(spark: SparkSession, published_model: Path, clock: Clock) -> None:
    result = publish_model(
        spark, model_targets(published_model), manifest_uri(published_model), clock=clock, force=True
    )
    assert [o.status for o in result.outcomes] == ["published", "published"]


def test_files_outside_the_manifest_folder_are_refused_before_anything_is_written(
    spark: SparkSession, lake: Path
) -> None:
    elsewhere = PublishTarget(raw(lake), f"file:{lake}/other/Asset/nodes.parquet", "nodes", node_schema())
    with pytest.raises(ValueError, match="not under the manifest's folder"):
        publish_model(spark, [model_targets(lake)[0], elsewhere], manifest_uri(lake))
    assert not (lake / "publish").exists()
