"""The Hadoop mover: replace files on any Hadoop file system (file:, hdfs:, abfss:, dbfs:, gs:) through the JVM.

How the stable file is replaced depends on what the file system can do atomically (see :mod:`cdf_replicator.movers`):

- ``file:``: Hadoop's ``LocalFileSystem`` is a checksumming wrapper whose rename moves the data file, then its
  ``.crc`` file, in two steps, and ``FileContext``'s overwrite on it deletes the target first. Both leave a window.
  The raw local file system's ``rename`` is ``java.io.File.renameTo``, which is POSIX ``rename(2)``: it replaces the
  target in one step, and a reader with the old file open keeps reading the old content. The temporary folder is
  a sibling of the target, so the rename never crosses devices (where Hadoop would fall back to copying).
- ``hdfs:``/``viewfs:``: ``FileContext.rename(src, dst, OVERWRITE)`` is one NameNode operation, atomic.
- other schemes: Hadoop has no atomic overwrite for them (``FileContext``'s generic overwrite deletes, then
  renames; ABFS, GCS and DBFS do the same). A reader never sees a partial file, but may briefly find none. A
  WARNING says so once per scheme.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

from py4j.protocol import Py4JError, Py4JJavaError

from cdf_replicator.errors import PublishError, StorageError
from cdf_replicator.movers import TMP_PREFIX, is_part_file, split_uri
from cdf_replicator.storage import hadoop_conf

logger = logging.getLogger(__name__)

Strategy = Literal["posix_rename", "overwrite_rename"]
ATOMIC_SCHEMES = frozenset({"file", "hdfs", "viewfs"})
_warned_schemes: set[str] = set()


def replace_strategy(scheme: str) -> Strategy:
    """How a file system's files are replaced: ``posix_rename`` for the local one, ``overwrite_rename`` otherwise."""
    return "posix_rename" if scheme.lower() == "file" else "overwrite_rename"


@contextmanager
def _hadoop_errors(action: str, uri: str) -> Iterator[None]:
    try:
        yield
    except Py4JJavaError as error:
        raise StorageError(f"{action} {uri} failed: {error.java_exception.toString()}") from error
    except Py4JError as error:
        raise StorageError(f"{action} {uri} failed: {error}") from error


class HadoopMover:
    """A :class:`~cdf_replicator.movers.FileMover` over the Hadoop ``FileSystem`` API of a Spark session.

    ``strategy`` forces one replace strategy (tests exercise the generic one on local files); by default it
    follows each URI's scheme.
    """

    def __init__(self, spark: Any, strategy: Strategy | None = None) -> None:
        self._jvm = spark._jvm
        self._conf = hadoop_conf(spark)  # with the session's fs.* settings (a custom endpoint set at runtime)
        self._gateway = spark.sparkContext._gateway
        self._strategy = strategy

    def _fs(self, uri: str) -> tuple[Any, Any]:
        path = self._jvm.org.apache.hadoop.fs.Path(uri)
        return path.getFileSystem(self._conf), path

    def _raw(self, fs: Any) -> Any:
        """The file system under a checksumming wrapper (the local one), so no ``.crc`` side files are involved."""
        wrapper = self._jvm.java.lang.Class.forName("org.apache.hadoop.fs.ChecksumFileSystem")
        return fs.getRawFileSystem() if wrapper.isInstance(fs) else fs

    def exists(self, uri: str) -> bool:
        with _hadoop_errors("checking", uri):
            fs, path = self._fs(uri)
            return bool(fs.exists(path))

    def single_part_file(self, folder_uri: str) -> str:
        with _hadoop_errors("listing", folder_uri):
            fs, path = self._fs(folder_uri)
            names = [status.getPath().getName() for status in fs.listStatus(path)]
        parts = [name for name in names if is_part_file(name)]
        if len(parts) != 1:
            raise PublishError(f"expected one part-*.parquet file in {folder_uri}, found {len(parts)}")
        return f"{folder_uri.rstrip('/')}/{parts[0]}"

    def replace(self, source_uri: str, target_uri: str) -> None:
        with _hadoop_errors("moving to", target_uri):
            fs, source = self._fs(source_uri)
            target = self._jvm.org.apache.hadoop.fs.Path(target_uri)
            scheme = str(fs.getScheme())
            strategy = self._strategy or replace_strategy(scheme)
            if strategy == "posix_rename":
                self._posix_rename(fs, source, target, target_uri)
            else:
                self._overwrite_rename(scheme, fs, source, target)
            if fs.exists(source) or not fs.exists(target):
                raise PublishError(f"moving {source_uri} to {target_uri} did not take effect")

    def _posix_rename(self, fs: Any, source: Any, target: Any, target_uri: str) -> None:
        raw = self._raw(fs)
        if not raw.rename(source, target):
            raise PublishError(f"the local file system refused to rename onto {target_uri}")
        # A checksum file for the target (written by Hadoop's LocalFileSystem, never by us) would no longer match.
        stale = self._jvm.org.apache.hadoop.fs.Path(target.getParent(), f".{target.getName()}.crc")
        if raw.exists(stale):
            raw.delete(stale, False)

    def _overwrite_rename(self, scheme: str, fs: Any, source: Any, target: Any) -> None:
        if scheme not in ATOMIC_SCHEMES and scheme not in _warned_schemes:
            _warned_schemes.add(scheme)
            logger.warning(
                "%s: has no atomic replace; a reader may find no file for a moment while it is replaced", scheme
            )
        hadoop_fs = self._jvm.org.apache.hadoop.fs
        try:
            context = hadoop_fs.FileContext.getFileContext(source.toUri(), self._conf)
        except Py4JJavaError as error:  # no AbstractFileSystem for this scheme: FileSystem calls do the same
            logger.debug("no FileContext for %s (%s): delete, then rename", scheme, error.java_exception.toString())
            fs.delete(target, False)
            if not fs.rename(source, target):
                raise PublishError(f"the {scheme} file system refused to rename onto {target}") from None
            return
        options = self._gateway.new_array(hadoop_fs.Options.Rename, 1)
        options[0] = hadoop_fs.Options.Rename.OVERWRITE
        context.rename(source, target, options)

    def delete_tree(self, folder_uri: str) -> None:
        with _hadoop_errors("deleting", folder_uri):
            fs, path = self._fs(folder_uri)
            if fs.exists(path):
                fs.delete(path, True)

    def remove_leftovers(self, folder_uri: str, prefix: str) -> list[str]:
        with _hadoop_errors("cleaning", folder_uri):
            fs, path = self._fs(folder_uri)
            if not fs.exists(path):
                return []
            removed = []
            for status in fs.listStatus(path):
                name = str(status.getPath().getName())
                if name.startswith(prefix):
                    fs.delete(status.getPath(), True)
                    removed.append(name)
        return sorted(removed)

    def read_text(self, uri: str) -> str | None:
        with _hadoop_errors("reading", uri):
            fs, path = self._fs(uri)
            if not fs.exists(path):
                return None
            buffer = self._jvm.java.io.ByteArrayOutputStream()
            self._jvm.org.apache.hadoop.io.IOUtils.copyBytes(fs.open(path), buffer, 65536, True)
            data = bytes(buffer.toByteArray())
        return data.decode("utf-8")

    def write_text(self, uri: str, text: str) -> None:
        """Write to a temporary sibling, then replace ``uri`` with it (removing an earlier run's leftovers first)."""
        folder, name = split_uri(uri)
        prefix = f"{TMP_PREFIX}{name}_"
        self.remove_leftovers(folder, prefix)
        temporary = f"{folder}/{prefix}{uuid.uuid4().hex}"
        with _hadoop_errors("writing", temporary):
            fs, path = self._fs(temporary)
            stream = self._raw(fs).create(path, True)
            try:
                stream.write(bytearray(text.encode("utf-8")))
            finally:
                stream.close()
        try:
            self.replace(temporary, uri)
        finally:
            self.delete_tree(temporary)
