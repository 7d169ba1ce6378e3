"""File-system operations on any Hadoop URI (file:, s3a:, dbfs:, abfss:) through the Spark session's JVM."""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)


def hadoop_conf(spark: Any) -> Any:
    """The Hadoop configuration Spark's own reads and writes use, session settings included.

    ``sparkContext.hadoopConfiguration()`` lacks the ``fs.s3a.*`` settings set on a running session (a custom
    S3 endpoint), so file-system calls made with it fail where Delta's succeed.
    """
    return spark._jsparkSession.sessionState().newHadoopConf()


def hadoop_path(spark: Any, uri: str) -> tuple[Any, Any]:
    """The Hadoop ``FileSystem`` for ``uri`` and the ``Path`` object."""
    path = spark._jvm.org.apache.hadoop.fs.Path(uri)
    return path.getFileSystem(hadoop_conf(spark)), path


def delete_path(spark: Any, uri: str) -> bool:
    """Delete a file or folder tree; returns whether anything was there."""
    fs, path = hadoop_path(spark, uri)
    if not fs.exists(path):
        return False
    fs.delete(path, True)
    logger.info("deleted %s", uri)
    return True


def path_exists(spark: Any, uri: str) -> bool:
    fs, path = hadoop_path(spark, uri)
    return bool(fs.exists(path))
