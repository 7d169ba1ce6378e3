"""Run reports to an extraction pipeline, against the emulator's extraction-pipeline API."""

from __future__ import annotations

from cognite.client.data_classes import ExtractionPipelineWrite

from cdf_emulator import Emulator
from cdf_replicator.pipeline import RunSummary
from cdf_replicator.replicate import TableResult
from cdf_replicator.run_report import MESSAGE_LIMIT, report_run, run_message
from cdf_replicator.sync_query import SyncScope, ViewRef
from cdf_replicator.targets import Target
from cdf_replicator.views import ViewSpec


def _target(view: str) -> Target:
    spec = ViewSpec("sp", view, "1", "node", ())
    scope = SyncScope("nodes", ViewRef("sp", view, "1"), (), (ViewRef("sp", view, "1"),))
    return Target("sp", "M", "1", spec, "nodes", scope, (), (), f"/t/{view}", f"/p/{view}", f"/s/{view}")


def test_message_counts_rows_and_names_failed_tables() -> None:
    ok = TableResult(_target("A"), rows_read=10, upserted=8, deleted=1, reconciled=1)
    bad = TableResult(_target("B"), error="sync failed: boom (HTTP 500)")
    assert run_message(RunSummary([ok, bad], 1.0)) == (
        "2 tables: read 10, upserted 8, deleted 2; failed: sp/M/1/B nodes (sync failed: boom (HTTP 500))"
    )


def test_message_is_cut_to_cdf_limit() -> None:
    results = [TableResult(_target(f"V{i}"), error="x" * 200) for i in range(10)]
    message = run_message(RunSummary(results, 1.0))
    assert len(message) == MESSAGE_LIMIT and message.endswith("...")


def test_runs_are_reported_as_success_and_failure() -> None:
    with Emulator() as cdf:
        client = cdf.client()
        client.extraction_pipelines.create(ExtractionPipelineWrite("replicator", "Replicator", data_set_id=1))
        report_run(client, "replicator", RunSummary([TableResult(_target("A"), rows_read=3, upserted=3)], 1.0))
        report_run(client, "replicator", RunSummary([TableResult(_target("B"), error="boom")], 1.0))
        runs = client.extraction_pipelines.runs.list(external_id="replicator", limit=10)
        assert sorted((run.status, run.message) for run in runs) == [
            ("failure", "1 tables: read 0, upserted 0, deleted 0; failed: sp/M/1/B nodes (boom)"),
            ("success", "1 tables: read 3, upserted 3, deleted 0"),
        ]
