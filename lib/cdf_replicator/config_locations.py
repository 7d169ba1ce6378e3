"""Destination locations in config: Hadoop URIs pass through, local folders become absolute ``file:`` URIs."""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

from cdf_replicator.errors import ConfigError

# Two characters at least, so that a Windows drive ("C:\\data") reads as a local path, not a URI scheme.
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]+:")


def resolve_root(location: str, base_dir: Path, path: str) -> str:
    """The URI of a configured location, without a trailing slash.

    A URI with a scheme (``s3a://b/p``, ``dbfs:/mnt/x``, ``abfss://c@a.dfs.core.windows.net/p``) is kept as given;
    a local folder, relative ones against ``base_dir`` (the config file's folder), becomes ``file:/abs/path``,
    and so does a ``file:`` URI without a host. ``path`` is the field's dotted path for errors.
    """
    text = location.strip()
    if not _SCHEME.match(text):
        return "file:" + local_path(text, base_dir).as_posix()
    parts = urlsplit(text)
    if parts.scheme.lower() == "file" and not parts.netloc:
        return "file:" + local_path(parts.path, base_dir).as_posix()
    if not parts.netloc and parts.path.strip("/") == "":
        raise ConfigError(f"'{text}' names no location after the scheme", path=path)
    return text.rstrip("/")


def local_path(text: str, base_dir: Path) -> Path:
    """An absolute, normalised local path; ``~`` expands, a relative path is taken from ``base_dir``."""
    candidate = Path(text).expanduser()
    if not candidate.is_absolute():
        candidate = base_dir / candidate
    return Path(os.path.normpath(candidate.absolute()))


def s3_root(bucket: str, prefix: str) -> str:
    """The ``s3a://`` root URI for the seed's ``destination.s3`` {bucket, prefix}."""
    return f"s3a://{bucket}/{prefix}" if prefix else f"s3a://{bucket}"
