"""Plain-text tables for the CLI: the plan of a run and its summary."""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from cdf_replicator.pipeline import RunSummary
from cdf_replicator.replicate import TableResult
from cdf_replicator.targets import Target


def format_plan(targets: list[Target], publish: bool = False, replicate: bool = True) -> str:
    """What a run would read and write, one line per table."""
    lines = []
    for target in targets:
        scope = target.scope
        reads = []
        if scope.has_data_view is not None:
            reads.append(f"{scope.kind} with data in {target.view.label}")
        if scope.edge_types:
            reads.append("edges of type " + ", ".join(f"{s}:{x}" for s, x in scope.edge_types))
        if scope.instance_spaces:
            reads.append("in spaces " + ", ".join(scope.instance_spaces))
        parts = [f"{target.label}: read {'; '.join(reads)}"]
        if replicate:
            parts.append(f"merge into {target.table_path}")
        if publish:
            parts.append(f"publish {target.publish_path}")
        lines.append(" -> ".join(parts))
    return "\n".join(lines)


def format_summary(summary: RunSummary) -> str:
    """One row per table: rows read, upserts, deletes, duration, table path; failures say why."""
    header = ("table", "read", "upserted", "deleted", "seconds", "result")
    rows = [header]
    for result in summary.results:
        deleted = result.deleted + result.reconciled
        outcome = f"FAILED: {result.error}" if result.failed else result.target.table_path
        rows.append(
            (
                result.target.label,
                str(result.rows_read),
                str(result.upserted),
                str(deleted),
                f"{result.duration_s:.1f}",
                outcome,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[-1] for row in rows
    ]
    failed = len(summary.failed)
    lines.append(f"{len(summary.results)} tables in {summary.duration_s:.1f}s, {failed} failed")
    return "\n".join(lines)


def terminal_progress(stream: TextIO) -> Callable[[TableResult, int, int], None]:
    """A one-line progress bar redrawn as tables finish (for a terminal; log lines say the same elsewhere)."""

    def show(result: TableResult, done: int, total: int) -> None:
        filled = int(20 * done / max(total, 1))
        state = "failed" if result.failed else "done"
        line = f"[{'#' * filled}{'-' * (20 - filled)}] {done}/{total} tables  {result.target.label} {state}"
        stream.write("\r" + line.ljust(100)[:100] + ("\n" if done == total else ""))
        stream.flush()

    return show
