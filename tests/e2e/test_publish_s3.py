"""Publishing to S3: Spark writes through s3a to a real S3-protocol server, boto3 moves the file into place."""

from __future__ import annotations

import io
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from pyspark.sql import SparkSession

from cdf_replicator.config_model import S3Config
from cdf_replicator.publish import PublishTarget
from cdf_replicator.publish_run import publish_model
from cdf_replicator.s3_mover import MIB, S3Mover
from cdf_replicator.spark import configure_s3a
from tests.e2e.conftest import S3_ACCESS_KEY, S3_REGION, S3_SECRET_KEY, S3Server
from tests.publish_support import (
    EDGE_COLUMNS,
    EXPECTED_FULL_NODE_PROPS,
    FULL_NODE_PROPS,
    HYPER_EDGE_TYPES,
    HYPER_NODE_TYPES,
    JSON_COLUMNS,
    NODE_COLUMNS,
    arrow_columns,
    edge,
    edge_schema,
    expected_node,
    hyper_describe,
    load_table,
    node,
    node_schema,
    read_rows,
)

pytestmark = [pytest.mark.e2e, pytest.mark.spark]

MODEL = "lake/publish/sp/Plant/1"


class Lake:
    """A bucket with raw tables under ``lake/raw`` and publish files under ``lake/publish``."""

    def __init__(self, server: S3Server, bucket: str) -> None:
        self.client = server.client()
        self.bucket = bucket
        self.config = S3Config(bucket, S3_REGION, "lake", server.endpoint_url, path_style=True)

    def raw(self, kind: str) -> str:
        return f"s3a://{self.bucket}/lake/raw/sp/Plant/1/views/Asset/{kind}"

    def key(self, kind: str) -> str:
        return f"{MODEL}/Asset/{kind}.parquet"

    def targets(self) -> list[PublishTarget]:
        uri = f"s3a://{self.bucket}/{MODEL}/Asset"
        return [
            PublishTarget(self.raw("nodes"), f"{uri}/nodes.parquet", "nodes", node_schema(), "nodes", JSON_COLUMNS),
            PublishTarget(self.raw("edges"), f"{uri}/edges.parquet", "edges", edge_schema(), "edges"),
        ]

    def manifest_uri(self) -> str:
        return f"s3a://{self.bucket}/{MODEL}/_manifest.json"

    def get(self, key: str) -> bytes:
        return bytes(self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read())

    def keys(self, prefix: str) -> list[str]:
        response = self.client.list_objects_v2(Bucket=self.bucket, Prefix=prefix)
        return sorted(item["Key"] for item in response.get("Contents", []))

    def identity(self, key: str) -> tuple[str, Any]:
        head = self.client.head_object(Bucket=self.bucket, Key=key)
        return head["ETag"], head["LastModified"]


@pytest.fixture()
def lake(spark: SparkSession, s3_env: S3Server) -> Iterator[Lake]:
    """A fresh bucket; Spark's s3a points at the test server, with the credentials the environment holds."""
    configure_s3a(spark, s3_env.endpoint_url, path_style=True, region=S3_REGION)
    # The JVM started before the test set the AWS variables: its default chain reads system properties next.
    system = spark._jvm.java.lang.System  # type: ignore[attr-defined]
    system.setProperty("aws.accessKeyId", S3_ACCESS_KEY)
    system.setProperty("aws.secretKey", S3_SECRET_KEY)
    yield Lake(s3_env, s3_env.new_bucket())
    system.clearProperty("aws.accessKeyId")
    system.clearProperty("aws.secretKey")


class RecordingMover(S3Mover):
    """The real S3 mover, remembering which files it replaced."""

    def __init__(self, inner: S3Mover) -> None:
        super().__init__(inner.client)
        self.replaced: list[str] = []

    def replace(self, source_uri: str, target_uri: str) -> None:
        super().replace(source_uri, target_uri)
        self.replaced.append(target_uri.rsplit("/", 1)[1])


def test_files_published_to_s3_hold_the_tables_and_tableau_reads_them(
    spark: SparkSession, lake: Lake, tmp_path: Path
) -> None:
    load_table(spark, lake.raw("nodes"), "nodes", [node("a", **FULL_NODE_PROPS), node("b"), node("c")])
    load_table(spark, lake.raw("nodes"), "nodes", [node("b", 2, 2000, name="B2"), node("c", 2, 2000, deleted=True)])
    load_table(spark, lake.raw("edges"), "edges", [edge("e1", "a", "b", weight=0.5)])
    mover = RecordingMover(S3Mover.from_config(lake.config))

    first = publish_model(spark, lake.targets(), lake.manifest_uri(), mover)

    assert [(o.status, o.rows, o.table_version) for o in first.outcomes] == [("published", 2, 2), ("published", 1, 1)]
    schema, rows = read_rows(lake.get(lake.key("nodes")))
    assert arrow_columns(schema) == NODE_COLUMNS
    assert rows == [expected_node("a", **EXPECTED_FULL_NODE_PROPS), expected_node("b", 2, 2000, name="B2")]
    edge_schema_read, edge_rows = read_rows(lake.get(lake.key("edges")))
    assert arrow_columns(edge_schema_read) == EDGE_COLUMNS
    assert [(r["externalId"], r["startNode.externalId"], r["endNode.externalId"], r["weight"]) for r in edge_rows] == [
        ("e1", "a", "b", 0.5)
    ]
    assert lake.keys("lake/publish/") == [
        f"{MODEL}/Asset/edges.parquet",
        f"{MODEL}/Asset/nodes.parquet",
        f"{MODEL}/_manifest.json",
    ]
    manifest = json.loads(lake.get(f"{MODEL}/_manifest.json"))
    assert [(f["path"], f["rows"], f["tableVersion"], f["status"]) for f in manifest["files"]] == [
        ("Asset/edges.parquet", 1, 1, "published"),
        ("Asset/nodes.parquet", 2, 2, "published"),
    ]

    for kind in ("nodes", "edges"):
        (tmp_path / f"{kind}.parquet").write_bytes(lake.get(lake.key(kind)))
    described = hyper_describe([tmp_path / "nodes.parquet", tmp_path / "edges.parquet"], tmp_path)
    assert list(described.values()) == [(2, HYPER_NODE_TYPES), (1, HYPER_EDGE_TYPES)]

    # Unchanged tables are not rewritten: no copy, same object, and the manifest says so.
    before = lake.identity(lake.key("nodes")), lake.identity(lake.key("edges"))
    mover.replaced.clear()
    second = publish_model(spark, lake.targets(), lake.manifest_uri(), mover)
    assert [o.status for o in second.outcomes] == ["unchanged", "unchanged"]
    assert mover.replaced == []
    assert (lake.identity(lake.key("nodes")), lake.identity(lake.key("edges"))) == before
    manifest = json.loads(lake.get(f"{MODEL}/_manifest.json"))
    assert [f["status"] for f in manifest["files"]] == ["unchanged", "unchanged"]


def test_leftovers_on_s3_leave_the_file_intact_and_go_with_the_next_publish(spark: SparkSession, lake: Lake) -> None:
    load_table(spark, lake.raw("nodes"), "nodes", [node("a", name="first")])
    mover = S3Mover.from_config(lake.config)
    publish_model(spark, lake.targets()[:1], lake.manifest_uri(), mover)
    stable = lake.get(lake.key("nodes"))
    for key, body in (
        (f"{MODEL}/Asset/_tmp_nodes_0123/part-00000-x-c000.snappy.parquet", stable[:64]),
        (f"{MODEL}/Asset/_tmp_nodes_0123/_temporary/0/_temporary/attempt/part-00000.parquet", b"PAR1"),
        (f"{MODEL}/Asset/_tmp_edges_4567/part-00000-y-c000.snappy.parquet", b"PAR1"),
    ):
        lake.client.put_object(Bucket=lake.bucket, Key=key, Body=body)

    assert read_rows(lake.get(lake.key("nodes")))[1][0]["name"] == "first"
    load_table(spark, lake.raw("nodes"), "nodes", [node("a", 2, 2000, name="second")])
    publish_model(spark, lake.targets()[:1], lake.manifest_uri(), mover)

    assert read_rows(lake.get(lake.key("nodes")))[1][0]["name"] == "second"
    assert lake.keys(f"{MODEL}/Asset/") == [
        f"{MODEL}/Asset/_tmp_edges_4567/part-00000-y-c000.snappy.parquet",
        f"{MODEL}/Asset/nodes.parquet",
    ]


class S3Reader(threading.Thread):
    """GETs the stable object whole in a loop; records what each read saw and any error."""

    def __init__(self, lake: Lake, key: str) -> None:
        super().__init__(daemon=True)
        self.lake, self.key = lake, key
        self.stop = threading.Event()
        self.seen: list[tuple[int, frozenset[str]]] = []
        self.errors: list[BaseException] = []

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                names = pq.read_table(io.BytesIO(self.lake.get(self.key)), columns=["name"]).column("name")
            except BaseException as error:  # the test asserts there are none
                self.errors.append(error)
            else:
                self.seen.append((len(names), frozenset(names.to_pylist())))


@pytest.fixture()
def reader(lake: Lake) -> Iterator[S3Reader]:
    thread = S3Reader(lake, lake.key("nodes"))
    yield thread
    thread.stop.set()
    if thread.is_alive():
        thread.join()


def test_an_s3_reader_never_sees_a_partial_missing_or_mixed_object(
    spark: SparkSession, lake: Lake, reader: S3Reader
) -> None:
    mover = S3Mover.from_config(lake.config)

    def generation(number: int) -> None:
        rows = [node(f"k{i}", number + 1, 1000 * (number + 1), name=f"gen{number}") for i in range(number + 2)]
        load_table(spark, lake.raw("nodes"), "nodes", rows)
        publish_model(spark, lake.targets()[:1], lake.manifest_uri(), mover)

    generation(0)
    reader.start()
    for number in range(1, 4):
        generation(number)
    reader.stop.set()
    reader.join()

    assert reader.errors == []
    assert set(reader.seen) <= {(n + 2, frozenset({f"gen{n}"})) for n in range(4)}
    assert len(set(reader.seen)) >= 3, "the reader should have overlapped several publishes"


def test_large_objects_are_copied_in_parts_and_small_ones_in_one_request(lake: Lake) -> None:
    body = os.urandom(11 * MIB)
    source = "lake/publish/x/_tmp_nodes_1/part-00000.parquet"
    lake.client.put_object(Bucket=lake.bucket, Key=source, Body=body)
    mover = S3Mover(lake.client, multipart_threshold=5 * MIB, part_size=5 * MIB)

    mover.replace(f"s3a://{lake.bucket}/{source}", f"s3a://{lake.bucket}/lake/publish/x/nodes.parquet")

    etag, _ = lake.identity("lake/publish/x/nodes.parquet")
    assert etag.strip('"').endswith("-3")  # a multipart object of three parts
    assert lake.get("lake/publish/x/nodes.parquet") == body
    assert lake.client.list_multipart_uploads(Bucket=lake.bucket).get("Uploads", []) == []

    S3Mover(lake.client).replace(f"s3a://{lake.bucket}/{source}", f"s3a://{lake.bucket}/lake/publish/x/edges.parquet")
    assert lake.identity("lake/publish/x/edges.parquet")[0] == lake.identity(source)[0]
    assert lake.get("lake/publish/x/edges.parquet") == body
