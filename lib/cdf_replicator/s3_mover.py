"""The S3 mover: server-side copy to the stable key, verify, delete the temporary objects (boto3).

S3 replaces an object atomically: a GET returns the whole old object or the whole new one. CopyObject copies up to
5 GB in one request; above ``multipart_threshold`` the copy is a multipart upload whose parts are UploadPartCopy
requests of byte ranges of the source, and the new object appears only when CompleteMultipartUpload succeeds, so it
is as atomic as a single copy. The threshold defaults to 1 GiB, well under the 5 GB limit, because parallel part
copies are faster for large files. After the copy a HEAD checks that the stable key holds exactly the object just
written (size, and the ETag the copy returned); S3 reads are strongly consistent after writes.

A reader that fetches one object in several requests (Parquet readers fetch the footer, then column chunks) can
straddle a replacement; pinning the ETag (``If-Match``) or retrying on a Parquet decoding error makes such
readers safe. A reader that downloads the object whole is not affected.

Credentials come from boto3's default chain (environment, profile, web identity, container or instance role); the
config only names the bucket, region and optional endpoint. Errors name the object and the S3 error code, never
credentials.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlparse

from cdf_replicator.config_model import S3Config
from cdf_replicator.errors import PublishError, StorageError
from cdf_replicator.movers import is_part_file, is_s3_uri

logger = logging.getLogger(__name__)

MIB = 1024 * 1024
DEFAULT_MULTIPART_THRESHOLD = 1024 * MIB
DEFAULT_PART_SIZE = 256 * MIB
MIN_PART_SIZE = 5 * MIB  # S3's minimum for every part but the last
MAX_PARTS = 10_000
DELETE_BATCH = 1000  # DeleteObjects takes at most 1000 keys


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """``(bucket, key)`` of an ``s3a://``, ``s3://`` or ``s3n://`` URI."""
    if not is_s3_uri(uri):
        raise ValueError(f"not an S3 URI: {uri!r}")
    parsed = urlparse(uri)
    return parsed.netloc, parsed.path.lstrip("/")


def part_ranges(size: int, part_size: int) -> list[tuple[int, int]]:
    """Inclusive byte ranges covering ``size`` bytes in parts of ``part_size`` (grown to stay within 10,000 parts)."""
    if size <= 0:
        raise ValueError("a multipart copy needs a non-empty source")
    part_size = max(part_size, MIN_PART_SIZE, math.ceil(size / MAX_PARTS))
    return [(start, min(start + part_size, size) - 1) for start in range(0, size, part_size)]


@contextmanager
def _s3_errors(action: str, uri: str) -> Iterator[None]:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "error")
        raise StorageError(f"S3 {action} {uri} failed: {code}") from error
    except BotoCoreError as error:
        raise StorageError(f"S3 {action} {uri} failed: {type(error).__name__}: {error}") from error


def _is_not_found(error: Exception) -> bool:
    from botocore.exceptions import ClientError

    return isinstance(error, ClientError) and error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey")


class S3Mover:
    """A :class:`~cdf_replicator.movers.FileMover` for S3, through one boto3 client (thread-safe)."""

    def __init__(
        self,
        client: Any,
        multipart_threshold: int = DEFAULT_MULTIPART_THRESHOLD,
        part_size: int = DEFAULT_PART_SIZE,
        max_workers: int = 4,
    ) -> None:
        self.client = client
        self.multipart_threshold = multipart_threshold
        self.part_size = part_size
        self.max_workers = max_workers

    @classmethod
    def from_config(cls, s3: S3Config | None, **options: Any) -> S3Mover:
        """A mover with a boto3 client for the config's region and endpoint (path-style when asked)."""
        import boto3
        from botocore.config import Config as BotoConfig

        addressing = "path" if s3 is not None and s3.path_style else "auto"
        client = boto3.client(
            "s3",
            region_name=s3.region if s3 is not None else None,
            endpoint_url=s3.endpoint_url if s3 is not None else None,
            config=BotoConfig(s3={"addressing_style": addressing}, retries={"mode": "standard", "max_attempts": 5}),
        )
        return cls(client, **options)

    def exists(self, uri: str) -> bool:
        bucket, key = parse_s3_uri(uri)
        try:
            self.client.head_object(Bucket=bucket, Key=key)
        except Exception as error:
            if _is_not_found(error):
                return False
            with _s3_errors("HEAD", uri):
                raise
        return True

    def single_part_file(self, folder_uri: str) -> str:
        bucket, prefix = parse_s3_uri(folder_uri.rstrip("/") + "/")
        keys = [key for key in self._list(bucket, prefix, folder_uri) if is_part_file(key.rpartition("/")[2])]
        if len(keys) != 1:
            raise PublishError(f"expected one part-*.parquet file in {folder_uri}, found {len(keys)}")
        return f"{urlparse(folder_uri).scheme}://{bucket}/{keys[0]}"

    def replace(self, source_uri: str, target_uri: str) -> None:
        """Copy the source object to the target key (multipart above the threshold), then verify it by HEAD."""
        source_bucket, source_key = parse_s3_uri(source_uri)
        bucket, key = parse_s3_uri(target_uri)
        with _s3_errors("HEAD", source_uri):
            head = self.client.head_object(Bucket=source_bucket, Key=source_key)
        size, source_etag = int(head["ContentLength"]), head["ETag"]
        source = {"Bucket": source_bucket, "Key": source_key}
        with _s3_errors("copy to", target_uri):
            if size > self.multipart_threshold:
                etag = self._multipart_copy(source, source_etag, size, bucket, key, head.get("ContentType"))
            else:
                response = self.client.copy_object(
                    Bucket=bucket, Key=key, CopySource=source, CopySourceIfMatch=source_etag
                )
                etag = response["CopyObjectResult"]["ETag"]
        with _s3_errors("HEAD", target_uri):
            written = self.client.head_object(Bucket=bucket, Key=key)
        if int(written["ContentLength"]) != size or written["ETag"] != etag:
            raise PublishError(
                f"{target_uri} does not hold the object just copied: {written['ContentLength']} bytes, ETag "
                f"{written['ETag']}; expected {size} bytes, ETag {etag} (another writer on this prefix?)"
            )
        logger.debug("copied %s to %s (%d bytes, ETag %s)", source_uri, target_uri, size, etag)

    def _multipart_copy(
        self, source: dict[str, str], source_etag: str, size: int, bucket: str, key: str, content_type: str | None
    ) -> str:
        """Copy in parts with UploadPartCopy; the object appears at CompleteMultipartUpload, or never (abort)."""
        extra = {"ContentType": content_type} if content_type else {}
        upload_id = self.client.create_multipart_upload(Bucket=bucket, Key=key, **extra)["UploadId"]
        ranges = part_ranges(size, self.part_size)

        def copy_part(number: int) -> dict[str, Any]:
            start, end = ranges[number - 1]
            response = self.client.upload_part_copy(
                Bucket=bucket,
                Key=key,
                UploadId=upload_id,
                PartNumber=number,
                CopySource=source,
                CopySourceIfMatch=source_etag,
                CopySourceRange=f"bytes={start}-{end}",
            )
            return {"PartNumber": number, "ETag": response["CopyPartResult"]["ETag"]}

        try:
            with ThreadPoolExecutor(max_workers=max(1, self.max_workers)) as pool:
                parts = list(pool.map(copy_part, range(1, len(ranges) + 1)))
            response = self.client.complete_multipart_upload(
                Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
            )
        except BaseException:
            self._abort(bucket, key, upload_id)
            raise
        logger.info("multipart copy of %d bytes in %d parts to s3://%s/%s", size, len(ranges), bucket, key)
        return str(response["ETag"])

    def _abort(self, bucket: str, key: str, upload_id: str) -> None:
        """Abort a failed multipart copy so its parts stop costing storage; the copy's own error is what counts."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
        except (BotoCoreError, ClientError) as error:
            logger.warning("could not abort the multipart upload %s of s3://%s/%s: %s", upload_id, bucket, key, error)

    def delete_tree(self, folder_uri: str) -> None:
        bucket, prefix = parse_s3_uri(folder_uri.rstrip("/") + "/")
        self._delete_keys(bucket, list(self._list(bucket, prefix, folder_uri)), folder_uri)

    def remove_leftovers(self, folder_uri: str, prefix: str) -> list[str]:
        bucket, folder_key = parse_s3_uri(folder_uri.rstrip("/") + "/")
        keys = list(self._list(bucket, folder_key + prefix, folder_uri))
        self._delete_keys(bucket, keys, folder_uri)
        return sorted({key[len(folder_key) :].split("/", 1)[0] for key in keys})

    def read_text(self, uri: str) -> str | None:
        bucket, key = parse_s3_uri(uri)
        try:
            body = self.client.get_object(Bucket=bucket, Key=key)["Body"].read()
        except Exception as error:
            if _is_not_found(error):
                return None
            with _s3_errors("GET", uri):
                raise
        return bytes(body).decode("utf-8")

    def write_text(self, uri: str, text: str) -> None:
        """One PUT: S3 replaces the object atomically."""
        bucket, key = parse_s3_uri(uri)
        with _s3_errors("PUT", uri):
            self.client.put_object(Bucket=bucket, Key=key, Body=text.encode("utf-8"), ContentType="application/json")

    def _list(self, bucket: str, prefix: str, uri: str) -> Iterator[str]:
        with _s3_errors("LIST", uri):
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    yield item["Key"]

    def _delete_keys(self, bucket: str, keys: list[str], uri: str) -> None:
        for start in range(0, len(keys), DELETE_BATCH):
            batch = [{"Key": key} for key in keys[start : start + DELETE_BATCH]]
            with _s3_errors("DELETE under", uri):
                response = self.client.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
            errors = response.get("Errors") or []
            if errors:
                first = errors[0]
                raise StorageError(
                    f"S3 DELETE under {uri} failed for {len(errors)} objects: {first.get('Key')}: {first.get('Code')}"
                )
