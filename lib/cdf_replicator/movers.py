"""Storage adapters that put a finished file under its stable name, so readers never see a partial file.

A publish writes its Parquet file with Spark into a temporary folder next to the target
(``<view dir>/_tmp_<stem>_<uuid>/``), then a mover replaces the stable file with it:

================  ==========================================================  ===================================
storage           how the file is replaced                                    what a reader polling the name sees
================  ==========================================================  ===================================
``s3a://``,       CopyObject to the final key (multipart UploadPartCopy for   the old or the new object, never a
``s3://``         large files), HEAD to verify size and ETag, then delete     partial one nor none (an S3 PUT or
                  the temporary objects (:mod:`cdf_replicator.s3_mover`)      copy replaces a key atomically)
``file:``         POSIX ``rename(2)`` over the old file, through Hadoop's     the old or the new file; an open
                  raw local file system                                        handle keeps reading the old one
``hdfs:``         ``FileContext.rename(..., OVERWRITE)``: one NameNode         the old or the new file
``viewfs:``       operation
others (abfss:,   Hadoop's generic overwrite: delete, then rename (these      never a partial file, but for a few
dbfs:, gs:, ...)  stores expose no atomic replace through Hadoop)             milliseconds no file: retry on
                                                                              "not found"
================  ==========================================================  ===================================

"Sees" means: what one opening of the name returns. A reader that opens the name twice for one read (pyarrow's
``read_table(path)`` opens it once for the footer and again for the data; S3 readers issue several ranged GETs)
can pair the footer of one version with the data of the next if a replacement falls in between, and fails with
a Parquet decoding error. Such readers should open the file once (a file handle, one GET, a pinned ETag) or
retry; a reader that downloads the file whole is not affected.

Names starting with ``_`` are hidden from Spark, Hive, Athena and Trino, so a temporary folder is never read as
part of the published data. One job publishes a given model version at a time (the same rule as for its tables).
"""

from __future__ import annotations

from typing import Any, Protocol
from urllib.parse import urlparse

from cdf_replicator.config_model import S3Config

S3_SCHEMES = frozenset({"s3", "s3a", "s3n"})
TMP_PREFIX = "_tmp_"


class FileMover(Protocol):
    """What the publisher needs from a storage: find, replace, read, write and delete files by URI."""

    def exists(self, uri: str) -> bool:
        """Whether a file is at ``uri``."""
        ...

    def single_part_file(self, folder_uri: str) -> str:
        """The URI of the one ``part-*.parquet`` file Spark wrote into ``folder_uri``; an error if not exactly one."""
        ...

    def replace(self, source_uri: str, target_uri: str) -> None:
        """Put the file at ``source_uri`` under ``target_uri``, replacing what is there, as atomically as the store
        allows (see the module docstring). The source may remain (the caller deletes its folder)."""
        ...

    def delete_tree(self, folder_uri: str) -> None:
        """Delete a folder and everything under it; nothing happens when it is missing."""
        ...

    def remove_leftovers(self, folder_uri: str, prefix: str) -> list[str]:
        """Delete every entry of ``folder_uri`` whose name starts with ``prefix``; returns the names removed."""
        ...

    def read_text(self, uri: str) -> str | None:
        """The UTF-8 text of a small file, or None when there is none."""
        ...

    def write_text(self, uri: str, text: str) -> None:
        """Write a small UTF-8 file atomically: readers see the old or the new content, never a partial one."""
        ...


def split_uri(uri: str) -> tuple[str, str]:
    """``(folder, name)`` of a file URI: everything up to the last ``/`` and the part after it."""
    folder, _, name = uri.rstrip("/").rpartition("/")
    if not folder or not name:
        raise ValueError(f"not a file URI: {uri!r}")
    return folder, name


def is_part_file(name: str) -> bool:
    """Whether a file name is one of Spark's data files (``part-00000-<uuid>-c000.snappy.parquet``)."""
    return name.startswith("part-") and name.endswith(".parquet")


def is_s3_uri(uri: str) -> bool:
    """Whether ``uri`` names an S3 object (``s3a://``, ``s3://`` or ``s3n://``)."""
    return urlparse(uri).scheme.lower() in S3_SCHEMES


def mover_for(spark: Any, uri: str, s3: S3Config | None = None) -> FileMover:
    """The mover for files under ``uri``: boto3 for S3 URIs, Hadoop's file systems for anything else.

    ``s3`` (the config's ``destination.s3``) gives the S3 endpoint and region; credentials always come from the
    AWS default chain (environment, profile, instance or task role).
    """
    if is_s3_uri(uri):
        from cdf_replicator.s3_mover import S3Mover

        return S3Mover.from_config(s3)
    from cdf_replicator.hadoop_mover import HadoopMover

    return HadoopMover(spark)
