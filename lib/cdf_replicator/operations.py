"""What the reprocessing notebooks do: inspect cursor state and Delta history, restore a table, run CLI commands.

The notebooks in ``notebooks/`` are a few cells over these functions, so the same logic runs (and is tested) off
Databricks. ``open_operations`` connects once (config, CDF client, Spark session, state store); the functions take
the pieces they need.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pyspark.sql import SparkSession

from cdf_replicator.config import Config
from cdf_replicator.errors import ConfigError, PublishError, ReplicatorError, StorageError
from cdf_replicator.state import CursorState, StateStore
from cdf_replicator.targets import Target

if TYPE_CHECKING:
    from cdf_replicator.publish_run import PublishOutcome

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Operations:
    """A connected config: the CDF client, the Spark session and the cursor store it names."""

    config: Config
    client: Any
    spark: SparkSession
    store: StateStore

    def targets(self, views: Sequence[str] = ()) -> list[Target]:
        """The configured tables, resolved against CDF; ``views`` (``space/model/version/view``) filters."""
        from cdf_replicator.pipeline import resolve_targets

        return resolve_targets(self.config, self.client, tuple(views))

    def target(self, view: str, kind: str = "nodes") -> Target:
        """The one table of ``view`` (``space/model/version/view``) and ``kind`` (``nodes`` or ``edges``)."""
        matches = [target for target in self.targets([view]) if target.kind == kind]
        if not matches:
            raise ConfigError(f"view {view} has no {kind} table", path="kind")
        return matches[0]


@dataclass(frozen=True)
class TableState:
    """Where one table stands: its saved cursor state and the Delta table's current version."""

    label: str
    state_key: str
    table_path: str
    state: CursorState | None
    current_version: int | None


@dataclass(frozen=True)
class HistoryEntry:
    """One commit of a Delta table, as ``DESCRIBE HISTORY`` reports it."""

    version: int
    timestamp: datetime
    operation: str
    parameters: dict[str, str]
    metrics: dict[str, str]


@dataclass(frozen=True)
class RestoreResult:
    """A finished ``RESTORE``: the version restored and the new commit that holds it."""

    label: str
    table_path: str
    state_key: str
    restored_version: int
    new_version: int
    metrics: dict[str, int]


def open_operations(config_path: str) -> Operations:
    """Load the config, connect to CDF (checking access) and open the Spark session and the state store."""
    from cdf_replicator.cdf import create_client, verify_access
    from cdf_replicator.config_source import load_config_from
    from cdf_replicator.pipeline import open_state_store

    config = load_config_from(config_path)
    client = create_client(config.cognite)
    verify_access(client, config.cognite)
    spark = notebook_session(config)
    return Operations(config, client, spark, open_state_store(config, spark, client))


def notebook_session(config: Config) -> SparkSession:
    """The notebook's own session when one is active (Databricks, a shared test session), else the factory's."""
    from cdf_replicator.commands import open_session
    from cdf_replicator.spark import configure_s3a, get_platform_session

    if SparkSession.getActiveSession() is None:
        spark: SparkSession = open_session(config)
        return spark
    platform = get_platform_session(config.spark.conf)
    s3 = config.destination.s3
    if s3 is not None and s3.endpoint_url:
        configure_s3a(platform, s3.endpoint_url, s3.path_style, s3.region)
    return platform


def run_cli(argv: Sequence[str]) -> None:
    """Run one ``cdf-replicator`` command in this process; raise when it exits non-zero, so a notebook fails."""
    from cdf_replicator.cli import main

    code = main(list(argv))
    if code != 0:
        command = argv[0] if argv else "(no command)"
        raise ReplicatorError(f"cdf-replicator {command} failed with exit code {code}; its log says why")


def state_overview(spark: SparkSession, store: StateStore, targets: Sequence[Target]) -> list[TableState]:
    """The saved cursor state and the current Delta version of every target's table."""
    return [
        TableState(
            label=target.label,
            state_key=target.state_key,
            table_path=target.table_path,
            state=store.get(target.state_key),
            current_version=current_version(spark, target.table_path),
        )
        for target in targets
    ]


def unused_state_keys(store: StateStore, targets: Sequence[Target]) -> list[str]:
    """State keys no configured table uses (a view removed from the config, another model version)."""
    used = {target.state_key for target in targets}
    return sorted(set(store.keys()) - used)


def current_version(spark: SparkSession, path: str) -> int | None:
    """The latest version of the Delta table at ``path``; ``None`` when there is no table."""
    from delta.tables import DeltaTable

    from cdf_replicator.delta_sink import table_version

    if not DeltaTable.isDeltaTable(spark, path):
        return None
    return table_version(spark, path)


def table_history(spark: SparkSession, path: str, limit: int | None = None) -> list[HistoryEntry]:
    """The commits of the Delta table at ``path``, newest first (``limit`` of them when given)."""
    from delta.tables import DeltaTable

    if not DeltaTable.isDeltaTable(spark, path):
        raise StorageError(f"no Delta table at {path}")
    table = DeltaTable.forPath(spark, path)
    history = table.history(limit) if limit else table.history()
    rows = history.select("version", "timestamp", "operation", "operationParameters", "operationMetrics").collect()
    return [
        HistoryEntry(
            version=int(row["version"]),
            timestamp=row["timestamp"],
            operation=str(row["operation"]),
            parameters=dict(row["operationParameters"] or {}),
            metrics=dict(row["operationMetrics"] or {}),
        )
        for row in rows
    ]


def restore_table(spark: SparkSession, store: StateStore, target: Target, version: int) -> RestoreResult:
    """Restore a table to an earlier Delta version and forget its cursor, so the next run resyncs it.

    The cursor goes first: if the process dies in between, the next run resyncs a table that was not restored
    (costs a full read, loses nothing), never continues from a cursor the restored rows are behind. The resync
    applies every row newer than the restored one and deletes rows CDF no longer has. Stop scheduled runs of
    the view while restoring: one that saves a cursor after this reset would skip the reconciliation.
    """
    from cdf_replicator.delta_sink import first_row, quote_path, table_version

    available = sorted(entry.version for entry in table_history(spark, target.table_path))
    if version not in available:
        raise StorageError(
            f"{target.label}: version {version} is not in the table's history "
            f"(available: {', '.join(str(v) for v in available)}; older ones may have been vacuumed)"
        )
    forget_cursor(spark, store, target)
    metrics = first_row(spark.sql(f"RESTORE TABLE {quote_path(target.table_path)} TO VERSION AS OF {int(version)}"))
    new_version = table_version(spark, target.table_path)
    logger.info("%s restored to version %d (new version %d)", target.label, version, new_version)
    return RestoreResult(
        label=target.label,
        table_path=target.table_path,
        state_key=target.state_key,
        restored_version=version,
        new_version=new_version,
        metrics={name: int(value) for name, value in metrics.asDict().items() if value is not None},
    )


def forget_cursor(spark: SparkSession, store: StateStore, target: Target) -> None:
    """Delete a table's cursor and the bookkeeping of any unfinished resync (what ``reset-view`` does per table)."""
    from cdf_replicator.storage import delete_path

    store.delete(target.state_key)
    delete_path(spark, target.seen_keys_path)
    logger.info("forgot the cursor %s", target.state_key)


def rebuild_publish(ops: Operations, targets: Sequence[Target], force: bool = True) -> list[PublishOutcome]:
    """Write the targets' publish files again from their tables (all of them with ``force``, else changed ones).

    Unlike a scheduled publish, ``force`` rewrites a file even when its manifest entry says the table has not
    changed since: the way to replace a file that was deleted by hand, damaged, or written by an older release.
    """
    from cdf_replicator.publish_run import publish_all

    results = publish_all(ops.spark, ops.config, targets, force=force)
    outcomes = [outcome for result in results for outcome in result.outcomes]
    failed = [outcome for outcome in outcomes if outcome.status == "failed"]
    if failed:
        names = ", ".join(f"{outcome.target.name} ({outcome.error})" for outcome in failed)
        raise PublishError(f"{len(failed)} of {len(outcomes)} publish files failed: {names}")
    return outcomes
