"""Report a replicate run to a CDF extraction pipeline, so CDF's UI shows when the replicator last ran and how."""

from __future__ import annotations

import logging
from typing import Any, Literal

from cognite.client.exceptions import CogniteException

from cdf_replicator.pipeline import RunSummary

logger = logging.getLogger(__name__)

MESSAGE_LIMIT = 1000  # CDF rejects longer run messages


def run_message(summary: RunSummary) -> str:
    """``12 tables: read 3400, upserted 3390, deleted 10; failed: sp/M/1/V nodes (reason)`` within CDF's limit."""
    results = summary.results
    read = sum(r.rows_read for r in results)
    upserted = sum(r.upserted for r in results)
    deleted = sum(r.deleted + r.reconciled for r in results)
    text = f"{len(results)} tables: read {read}, upserted {upserted}, deleted {deleted}"
    if summary.failed:
        text += "; failed: " + "; ".join(f"{r.target.label} ({r.error})" for r in summary.failed)
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 3] + "..."


def report_run(client: Any, pipeline_external_id: str | None, summary: RunSummary) -> None:
    """Create a ``success`` or ``failure`` run; a failure to report is logged, never fatal to the replication."""
    if not pipeline_external_id:
        return
    from cognite.client.data_classes import ExtractionPipelineRunWrite

    status: Literal["success", "failure"] = "failure" if summary.failed else "success"
    run = ExtractionPipelineRunWrite(pipeline_external_id, status, run_message(summary))
    try:
        client.extraction_pipelines.runs.create(run)
    except CogniteException as error:
        logger.warning("could not report the run to extraction pipeline %s: %s", pipeline_external_id, error)
