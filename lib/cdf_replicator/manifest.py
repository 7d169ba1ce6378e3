"""The publish manifest: one ``_manifest.json`` per data model version, next to its views' folders. Pure.

It lets a consumer tell how fresh and how consistent the published files are, and lets the publisher skip a file
whose table has not changed. Example::

    {
      "formatVersion": 1,
      "updatedAt": "2024-05-01T12:00:03.120Z",
      "files": [
        {
          "path": "Asset/nodes.parquet",          # relative to the manifest's folder
          "view": "Asset", "kind": "nodes",
          "sourceTable": "s3a://bucket/prefix/raw/sp/Plant/1/views/Asset/nodes",
          "tableVersion": 12,                      # the Delta version the file was built from (null: no table yet)
          "rows": 1532,
          "publishedAt": "2024-05-01T12:00:02.001Z",  # when this file was last written (null: never)
          "checkedAt": "2024-05-01T12:00:02.001Z",    # when the last publish run looked at it
          "status": "published",                  # in the last run: published | unchanged | failed
          "error": null,                           # why the last run failed, when it did
          "columns": [{"name": "space", "type": "string"}, {"name": "type.space", "type": "string"}, ...]
        }
      ]
    }

The manifest is written after the files, so while a publish runs a file can be newer than its entry, never older.
A file whose publish failed keeps its previous entry (the file itself is unchanged), marked ``failed``. Entries of
files the run did not touch (views not selected this time) are kept as they were.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any, Literal

FORMAT_VERSION = 1
MANIFEST_NAME = "_manifest.json"

Status = Literal["published", "unchanged", "failed"]
_STATUSES = ("published", "unchanged", "failed")


@dataclass(frozen=True)
class ManifestEntry:
    """What the manifest says about one published file."""

    path: str
    view: str
    kind: str
    source_table: str
    table_version: int | None
    rows: int | None
    published_at: str | None
    checked_at: str
    status: Status
    columns: tuple[tuple[str, str], ...] = ()
    error: str | None = None

    def matches(self, table_version: int | None, columns: tuple[tuple[str, str], ...]) -> bool:
        """Whether the file this entry describes was built from ``table_version`` with exactly ``columns``."""
        return self.published_at is not None and self.table_version == table_version and self.columns == columns


@dataclass(frozen=True)
class Manifest:
    """Every file of one data model version's publish folder; ``updated_at`` is the last write."""

    files: tuple[ManifestEntry, ...] = ()
    updated_at: str | None = None
    format_version: int = FORMAT_VERSION

    def entry(self, path: str) -> ManifestEntry | None:
        """The entry of the file at ``path`` (relative to the manifest's folder), if any."""
        return next((entry for entry in self.files if entry.path == path), None)


def format_time(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and ``Z``, as CDF writes times."""
    utc = moment.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def manifest_to_json(manifest: Manifest) -> str:
    """The manifest as indented JSON text (stable key order, files sorted by path)."""
    document = {
        "formatVersion": manifest.format_version,
        "updatedAt": manifest.updated_at,
        "files": [_entry_to_json(entry) for entry in sorted(manifest.files, key=lambda e: e.path)],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _entry_to_json(entry: ManifestEntry) -> dict[str, Any]:
    return {
        "path": entry.path,
        "view": entry.view,
        "kind": entry.kind,
        "sourceTable": entry.source_table,
        "tableVersion": entry.table_version,
        "rows": entry.rows,
        "publishedAt": entry.published_at,
        "checkedAt": entry.checked_at,
        "status": entry.status,
        "error": entry.error,
        "columns": [{"name": name, "type": type_name} for name, type_name in entry.columns],
    }


def parse_manifest(text: str) -> Manifest:
    """Read a manifest written by :func:`manifest_to_json`; ``ValueError`` when it is not one."""
    try:
        document = json.loads(text)
        if not isinstance(document, dict) or not isinstance(document.get("files"), list):
            raise ValueError("not a manifest: no files list")
        files = tuple(_entry_from_json(item) for item in document["files"])
        return Manifest(files, document.get("updatedAt"), int(document.get("formatVersion", 0)))
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as error:
        raise ValueError(f"not a valid manifest: {error}") from error


def _entry_from_json(item: dict[str, Any]) -> ManifestEntry:
    status = item["status"]
    if status not in _STATUSES:
        raise ValueError(f"unknown status {status!r}")
    version = item["tableVersion"]
    rows = item["rows"]
    return ManifestEntry(
        path=str(item["path"]),
        view=str(item["view"]),
        kind=str(item["kind"]),
        source_table=str(item["sourceTable"]),
        table_version=None if version is None else int(version),
        rows=None if rows is None else int(rows),
        published_at=item["publishedAt"],
        checked_at=str(item["checkedAt"]),
        status=status,
        columns=tuple((str(column["name"]), str(column["type"])) for column in item["columns"]),
        error=item.get("error"),
    )


def failed_entry(previous: ManifestEntry | None, blank: ManifestEntry, error: str, checked_at: str) -> ManifestEntry:
    """The entry of a file whose publish failed: the previous one (the file did not change), marked failed.

    Without a previous entry, ``blank`` (path, view, kind, source table) describes a file never published: its
    version, rows, publish time and columns are cleared.
    """
    base = previous or replace(blank, table_version=None, rows=None, published_at=None, columns=())
    return replace(base, status="failed", error=error, checked_at=checked_at)


def update_manifest(previous: Manifest | None, entries: Iterable[ManifestEntry], updated_at: str) -> Manifest:
    """``previous`` with ``entries`` replacing (or adding) the entries of the same paths; other entries kept."""
    merged = {entry.path: entry for entry in (previous.files if previous else ())}
    merged.update({entry.path: entry for entry in entries})
    return Manifest(tuple(merged[path] for path in sorted(merged)), updated_at, FORMAT_VERSION)
