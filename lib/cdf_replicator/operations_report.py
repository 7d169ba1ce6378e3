"""Plain-text reports for the reprocessing notebooks: cursor state, Delta history, restores, publish files."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pyspark.sql import SparkSession

from cdf_replicator.operations import (
    HistoryEntry,
    Operations,
    RestoreResult,
    TableState,
    current_version,
    state_overview,
    table_history,
    unused_state_keys,
)
from cdf_replicator.targets import Target

if TYPE_CHECKING:
    from cdf_replicator.publish_run import PublishOutcome

CURSOR_PREVIEW = 16


def state_report(ops: Operations, targets: Sequence[Target], list_unused_keys: bool) -> str:
    """The state table of ``targets``; with ``list_unused_keys`` also the stored keys no configured table uses."""
    unused = unused_state_keys(ops.store, ops.targets()) if list_unused_keys else []
    return format_state_overview(state_overview(ops.spark, ops.store, targets), unused)


def history_report(spark: SparkSession, targets: Sequence[Target], limit: int | None = None) -> str:
    """The recent history of every target's table (``limit`` commits each); a missing table says so."""
    parts = []
    for target in targets:
        if current_version(spark, target.table_path) is None:
            parts.append(f"{target.label}: no Delta table at {target.table_path} (never replicated, or dropped)")
        else:
            parts.append(format_history(target.label, table_history(spark, target.table_path, limit)))
    return "\n\n".join(parts)


def format_state_overview(states: Sequence[TableState], unused_keys: Sequence[str] = ()) -> str:
    """A plain-text table: one line per table with its state key, cursor, committed and current versions."""
    header = ("table", "state key", "cursor", "cursor at version", "table version", "resync")
    rows = [header]
    for item in states:
        state = item.state
        rows.append(
            (
                item.label,
                item.state_key,
                _cursor_preview(state.cursor if state else None),
                _text(state.table_version if state else None),
                _text(item.current_version),
                "in progress" if state and state.resyncing else "-",
            )
        )
    lines = [_join(row, rows) for row in rows]
    lines.extend(f"unused state key: {key}" for key in unused_keys)
    return "\n".join(lines)


def format_history(label: str, entries: Sequence[HistoryEntry]) -> str:
    """A table's history, newest first: version, time, operation and its metrics (``name=value``)."""
    rows = [("version", "timestamp", "operation", "metrics")]
    for entry in entries:
        metrics = ", ".join(f"{name}={value}" for name, value in sorted(entry.metrics.items()))
        rows.append((str(entry.version), entry.timestamp.isoformat(sep=" "), entry.operation, metrics or "-"))
    return "\n".join([f"{label}:", *("  " + _join(row, rows) for row in rows)])


def format_restore(result: RestoreResult) -> str:
    """What a restore did, and what happens next."""
    metrics = ", ".join(f"{name}={value}" for name, value in sorted(result.metrics.items()))
    return (
        f"{result.label}: restored version {result.restored_version} as version {result.new_version} ({metrics}); "
        f"cursor {result.state_key} forgotten: the next replicate run resyncs the table with CDF"
    )


def format_publish(outcomes: Sequence[PublishOutcome]) -> str:
    """One line per publish file: status, rows, the table version it holds, and where it is."""
    rows = [("file", "status", "rows", "table version", "uri")]
    for outcome in outcomes:
        rows.append(
            (
                outcome.target.name,
                outcome.status,
                _text(outcome.rows),
                _text(outcome.table_version),
                outcome.target.publish_uri,
            )
        )
    return "\n".join(_join(row, rows) for row in rows)


def _join(row: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(row) - 1)]
    return "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[-1]


def _cursor_preview(cursor: str | None) -> str:
    if cursor is None:
        return "none (next run reads from the start)"
    return cursor if len(cursor) <= CURSOR_PREVIEW else cursor[:CURSOR_PREVIEW] + "..."


def _text(value: int | None) -> str:
    return "-" if value is None else str(value)
