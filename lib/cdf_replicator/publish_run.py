"""Publish data model versions: every view's files, skipping unchanged tables, then the model's ``_manifest.json``.

A file is rewritten only when its table's Delta version, or the columns it would have, differ from what the
manifest records for it (or the file is missing). Each file is an isolation point: a failure is logged and
recorded in the manifest as ``failed``, the previous file stays in place, the other files are still published,
and the run reports the failure.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from pyspark.sql import SparkSession

from cdf_replicator import failpoints
from cdf_replicator.config_model import Config
from cdf_replicator.manifest import (
    FORMAT_VERSION,
    MANIFEST_NAME,
    Manifest,
    ManifestEntry,
    Status,
    failed_entry,
    format_time,
    manifest_to_json,
    parse_manifest,
    update_manifest,
)
from cdf_replicator.movers import FileMover, mover_for, split_uri
from cdf_replicator.publish import Clock, PublishedFile, PublishTarget, read_snapshot, utc_now, write_snapshot
from cdf_replicator.schema_mapping import table_properties

if TYPE_CHECKING:
    from cdf_replicator.targets import Target

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PublishOutcome:
    """What happened to one file in a run: ``published``, ``unchanged`` or ``failed`` (with the error)."""

    target: PublishTarget
    status: Status
    rows: int | None
    table_version: int | None
    duration_s: float
    error: str | None = None


@dataclass(frozen=True)
class ModelPublishResult:
    """The outcome of every file of one data model version, and where its manifest is."""

    manifest_uri: str
    outcomes: tuple[PublishOutcome, ...]

    @property
    def failed(self) -> list[PublishOutcome]:
        return [outcome for outcome in self.outcomes if outcome.status == "failed"]


def manifest_uri_for(publish_uri: str) -> str:
    """The manifest of the model version a file belongs to: ``<model dir>/_manifest.json``.

    Publish files live at ``<root>/publish/<space>/<model>/<version>/<view>/<kind>.parquet``.
    """
    view_dir, _ = split_uri(publish_uri)
    model_dir, _ = split_uri(view_dir)
    return f"{model_dir}/{MANIFEST_NAME}"


def publish_model(
    spark: SparkSession,
    targets: Sequence[PublishTarget],
    manifest_uri: str,
    mover: FileMover | None = None,
    *,
    force: bool = False,
    clock: Clock = utc_now,
) -> ModelPublishResult:
    """Publish the files of one data model version, then write its manifest (atomically).

    ``targets`` are the model version's files (any subset: entries of other files are kept); every
    ``publish_uri`` must lie under the manifest's folder (``ValueError`` otherwise, before anything is written).
    ``force`` rewrites files whose table has not changed. Returns each file's outcome; a failed file does not
    raise (see the module docstring), but storage errors on the manifest itself do.
    """
    mover = mover or mover_for(spark, manifest_uri)
    model_dir, _ = split_uri(manifest_uri)
    for target in targets:
        _relative_path(model_dir, target.publish_uri)  # refuse a wrong target before anything is written
    previous = _load_manifest(mover, manifest_uri)
    outcomes: list[PublishOutcome] = []
    entries: list[ManifestEntry] = []
    for target in targets:
        outcome, entry = _publish_isolated(spark, target, model_dir, previous, mover, force, clock)
        outcomes.append(outcome)
        entries.append(entry)
    failpoints.hit("publish_before_manifest")
    manifest = update_manifest(previous, entries, format_time(clock()))
    mover.write_text(manifest_uri, manifest_to_json(manifest))
    result = ModelPublishResult(manifest_uri, tuple(outcomes))
    counts = {status: sum(o.status == status for o in outcomes) for status in ("published", "unchanged", "failed")}
    logger.info(
        "published %s: %d files written, %d unchanged, %d failed",
        model_dir,
        counts["published"],
        counts["unchanged"],
        counts["failed"],
    )
    return result


def _publish_isolated(
    spark: SparkSession,
    target: PublishTarget,
    model_dir: str,
    previous: Manifest | None,
    mover: FileMover,
    force: bool,
    clock: Clock,
) -> tuple[PublishOutcome, ManifestEntry]:
    """The per-file isolation point: any error fails this file only, and its previous file and entry stay."""
    started = time.monotonic()
    path = _relative_path(model_dir, target.publish_uri)
    old = previous.entry(path) if previous else None
    try:
        snapshot = read_snapshot(spark, target.table_path, target.schema, target.json_columns)
        unchanged = not force and old is not None and old.matches(snapshot.table_version, snapshot.columns)
        if old is not None and unchanged and mover.exists(target.publish_uri):
            entry = _checked(old, clock)
            logger.info("%s: unchanged (table version %s), not rewritten", target.name, old.table_version)
            return _outcome(target, entry, started), entry
        published = write_snapshot(spark, snapshot, target.publish_uri, mover, clock=clock)
    except Exception as error:  # recorded in the manifest and the result; the caller fails the run
        message = _one_line(error)
        logger.error("%s: publish failed: %s", target.name, message, exc_info=logger.isEnabledFor(logging.DEBUG))
        checked_at = format_time(clock())
        entry = failed_entry(old, _never_published(path, target, checked_at), message, checked_at)
        return _outcome(target, entry, started, message), entry
    entry = _published_entry(path, target, published)
    outcome = _outcome(target, entry, started)
    logger.info(
        "%s: published %d rows (table version %s) in %.1fs",
        target.name,
        published.rows,
        published.table_version,
        outcome.duration_s,
    )
    return outcome, entry


def _published_entry(path: str, target: PublishTarget, published: PublishedFile) -> ManifestEntry:
    when = format_time(published.published_at)
    return ManifestEntry(
        path=path,
        view=path.split("/", 1)[0],
        kind=target.kind,
        source_table=target.table_path,
        table_version=published.table_version,
        rows=published.rows,
        published_at=when,
        checked_at=when,
        status="published",
        columns=published.columns,
    )


def _never_published(path: str, target: PublishTarget, checked_at: str) -> ManifestEntry:
    return ManifestEntry(
        path, path.split("/", 1)[0], target.kind, target.table_path, None, None, None, checked_at, "failed"
    )


def _checked(old: ManifestEntry, clock: Clock) -> ManifestEntry:
    return replace(old, status="unchanged", error=None, checked_at=format_time(clock()))


def _outcome(target: PublishTarget, entry: ManifestEntry, started: float, error: str | None = None) -> PublishOutcome:
    return PublishOutcome(target, entry.status, entry.rows, entry.table_version, time.monotonic() - started, error)


def _relative_path(model_dir: str, publish_uri: str) -> str:
    prefix = model_dir.rstrip("/") + "/"
    if not publish_uri.startswith(prefix):
        raise ValueError(f"{publish_uri} is not under the manifest's folder {model_dir}")
    return publish_uri[len(prefix) :]


def _load_manifest(mover: FileMover, manifest_uri: str) -> Manifest | None:
    """The existing manifest, or None when there is none or it cannot be used (then every file is rewritten)."""
    text = mover.read_text(manifest_uri)
    if text is None:
        return None
    try:
        manifest = parse_manifest(text)
    except ValueError as error:
        logger.warning("%s is unreadable (%s): republishing every file", manifest_uri, error)
        return None
    if manifest.format_version != FORMAT_VERSION:
        logger.info("%s has format %s, not %s: republishing", manifest_uri, manifest.format_version, FORMAT_VERSION)
        return None
    return manifest


def _one_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def publish_target_for(target: Target) -> PublishTarget:
    """The publish side of a replicated table (:class:`cdf_replicator.targets.Target`)."""
    properties = table_properties(target.view, target.kind, target.edge_properties)
    json_lists = tuple(prop.column for prop in properties if prop.type == "json" and prop.is_list)
    return PublishTarget(target.table_path, target.publish_path, target.kind, target.schema, target.label, json_lists)


def publish_all(
    spark: SparkSession, config: Config, targets: Sequence[Target], *, force: bool = False
) -> list[ModelPublishResult]:
    """Publish every table of ``targets`` (from :func:`cdf_replicator.targets.plan_targets`), model by model."""
    mover = mover_for(spark, config.root_uri, config.destination.s3)
    groups: dict[str, list[PublishTarget]] = {}
    for target in targets:
        groups.setdefault(manifest_uri_for(target.publish_path), []).append(publish_target_for(target))
    return [publish_model(spark, items, uri, mover, force=force) for uri, items in groups.items()]


def publish_targets(config: Config, spark: Any, targets: Sequence[Target], state_root: str | None = None) -> int:
    """The CLI's publish step: :func:`publish_all`, then exit code 1 when any file failed, else 0.

    ``state_root`` is not used: what was published lives in the manifests, beside the files.
    """
    results = publish_all(spark, config, targets)
    failed = [outcome for result in results for outcome in result.failed]
    for outcome in failed:
        logger.error("publish of %s failed: %s", outcome.target.name, outcome.error)
    return 1 if failed else 0
