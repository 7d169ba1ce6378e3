"""The publish manifest (pure), the S3 mover against a fake client, and the path helpers."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from cdf_replicator.errors import PublishError, StorageError
from cdf_replicator.hadoop_mover import replace_strategy
from cdf_replicator.manifest import (
    Manifest,
    ManifestEntry,
    failed_entry,
    format_time,
    manifest_to_json,
    parse_manifest,
    update_manifest,
)
from cdf_replicator.movers import is_s3_uri, split_uri
from cdf_replicator.publish_run import manifest_uri_for
from cdf_replicator.s3_mover import MIB, S3Mover, parse_s3_uri, part_ranges

NODES = ManifestEntry(
    path="Asset/nodes.parquet",
    view="Asset",
    kind="nodes",
    source_table="s3a://b/p/raw/sp/Plant/1/views/Asset/nodes",
    table_version=4,
    rows=10,
    published_at="2024-06-01T08:00:01.000Z",
    checked_at="2024-06-01T08:00:01.000Z",
    status="published",
    columns=(("space", "string"), ("type.space", "string")),
)
EDGES = replace(NODES, path="Asset/edges.parquet", kind="edges", table_version=2, rows=3)


def test_a_manifest_round_trips_through_its_json() -> None:
    manifest = Manifest((NODES, replace(EDGES, status="failed", error="boom")), "2024-06-01T08:00:02.000Z")
    text = manifest_to_json(manifest)
    assert parse_manifest(text) == Manifest((replace(EDGES, status="failed", error="boom"), NODES), manifest.updated_at)
    document = json.loads(text)
    assert [f["path"] for f in document["files"]] == ["Asset/edges.parquet", "Asset/nodes.parquet"]
    assert document["files"][1]["columns"] == [
        {"name": "space", "type": "string"},
        {"name": "type.space", "type": "string"},
    ]
    assert document["files"][1]["tableVersion"] == 4


@pytest.mark.parametrize(
    "text", ["", "[]", '{"files": 3}', '{"files": [{"path": "x"}]}', '{"files": [{"status": "odd"}]}']
)
def test_anything_else_is_not_a_manifest(text: str) -> None:
    with pytest.raises(ValueError, match=r"manifest|status"):
        parse_manifest(text)


def test_an_update_replaces_entries_by_path_and_keeps_the_others() -> None:
    newer = replace(NODES, table_version=5, rows=11)
    other_view = replace(NODES, path="Pump/nodes.parquet", view="Pump")
    updated = update_manifest(Manifest((NODES, other_view)), [newer, EDGES], "t")
    assert updated == Manifest((EDGES, newer, other_view), "t")
    assert update_manifest(None, [NODES], "t") == Manifest((NODES,), "t")


def test_a_failed_file_keeps_its_previous_entry_or_records_that_nothing_was_published() -> None:
    assert failed_entry(NODES, EDGES, "boom", "later") == replace(
        NODES, status="failed", error="boom", checked_at="later"
    )
    never = failed_entry(None, EDGES, "boom", "later")
    assert (never.path, never.table_version, never.rows, never.published_at, never.columns) == (
        "Asset/edges.parquet",
        None,
        None,
        None,
        (),
    )
    assert not never.matches(None, ())


def test_an_entry_matches_only_the_same_table_version_and_columns() -> None:
    assert NODES.matches(4, NODES.columns)
    assert not NODES.matches(5, NODES.columns)
    assert not NODES.matches(4, (*NODES.columns, ("x", "bigint")))


def test_times_are_utc_iso_with_milliseconds() -> None:
    moment = datetime(2024, 6, 1, 10, 0, 1, 123999, tzinfo=timezone(timedelta(hours=2)))
    assert format_time(moment) == "2024-06-01T08:00:01.123Z"


def test_uris_split_into_folder_and_name_and_the_manifest_sits_in_the_model_folder() -> None:
    assert split_uri("s3a://b/p/publish/sp/M/1/Asset/nodes.parquet") == (
        "s3a://b/p/publish/sp/M/1/Asset",
        "nodes.parquet",
    )
    assert (
        manifest_uri_for("file:/lake/publish/sp/M/1/Asset/edges.parquet") == "file:/lake/publish/sp/M/1/_manifest.json"
    )
    with pytest.raises(ValueError):
        split_uri("nodes.parquet")
    assert [is_s3_uri(u) for u in ("s3a://b/k", "S3://b/k", "s3n://b/k", "file:/x", "abfss://c@a/x")] == [
        True,
        True,
        True,
        False,
        False,
    ]
    assert parse_s3_uri("s3a://bucket/a/b.parquet") == ("bucket", "a/b.parquet")


def test_only_the_local_file_system_uses_a_posix_rename() -> None:
    assert [replace_strategy(s) for s in ("file", "FILE", "hdfs", "abfss", "dbfs")] == [
        "posix_rename",
        "posix_rename",
        "overwrite_rename",
        "overwrite_rename",
        "overwrite_rename",
    ]


def test_part_ranges_cover_the_object_exactly_within_s3_limits() -> None:
    assert part_ranges(12 * MIB, 5 * MIB) == [(0, 5 * MIB - 1), (5 * MIB, 10 * MIB - 1), (10 * MIB, 12 * MIB - 1)]
    assert part_ranges(3, 1) == [(0, 2)]  # parts never below S3's 5 MiB minimum
    huge = part_ranges(60 * 1024**4, 5 * MIB)  # 60 TiB: parts grow to stay within 10,000
    assert len(huge) <= 10_000 and huge[-1][1] == 60 * 1024**4 - 1
    assert all(start == previous_end + 1 for (start, _), (_, previous_end) in zip(huge[1:], huge, strict=False))


class FakeS3:
    """Just enough of an S3 client for the mover's copy and verification logic; ``tamper`` fakes a lost write."""

    def __init__(self, tamper: bool = False) -> None:
        self.objects: dict[tuple[str, str], bytes] = {}
        self.tamper = tamper

    def head_object(self, Bucket: str, Key: str) -> dict[str, Any]:  # noqa: N803 (boto3's argument names)
        data = self.objects[(Bucket, Key)]
        return {"ContentLength": len(data), "ETag": f'"{hash(data) & 0xFFFF:x}"', "ContentType": "x"}

    def copy_object(self, Bucket: str, Key: str, CopySource: dict[str, str], **_: Any) -> dict[str, Any]:  # noqa: N803
        data = self.objects[(CopySource["Bucket"], CopySource["Key"])]
        self.objects[(Bucket, Key)] = data + (b"!" if self.tamper else b"")
        return {"CopyObjectResult": {"ETag": self.head_object(CopySource["Bucket"], CopySource["Key"])["ETag"]}}


def test_the_s3_mover_verifies_the_copy_it_made() -> None:
    client = FakeS3()
    client.objects[("b", "v/_tmp_nodes_1/part-0.parquet")] = b"data"
    S3Mover(client).replace("s3a://b/v/_tmp_nodes_1/part-0.parquet", "s3a://b/v/nodes.parquet")
    assert client.objects[("b", "v/nodes.parquet")] == b"data"

    tampered = FakeS3(tamper=True)
    tampered.objects[("b", "src")] = b"data"
    with pytest.raises(PublishError, match="does not hold the object just copied"):
        S3Mover(tampered).replace("s3a://b/src", "s3a://b/dst")


def test_s3_errors_name_the_object_and_code_only() -> None:
    from botocore.exceptions import ClientError

    class Denied(FakeS3):
        def head_object(self, Bucket: str, Key: str) -> dict[str, Any]:  # noqa: N803
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "secret-ish detail"}}, "HeadObject")

    with pytest.raises(StorageError, match=r"^S3 HEAD s3a://b/src failed: AccessDenied$"):
        S3Mover(Denied()).replace("s3a://b/src", "s3a://b/dst")
