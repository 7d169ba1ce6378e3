"""Extraction pipelines through the real cognite-sdk: pipelines, config revisions, runs, errors."""

from __future__ import annotations

from typing import Any

import pytest
from cognite.client.data_classes import (
    ExtractionPipelineConfigWrite,
    ExtractionPipelineContact,
    ExtractionPipelineRunWrite,
    ExtractionPipelineUpdate,
    ExtractionPipelineWrite,
)
from cognite.client.exceptions import CogniteAPIError, CogniteDuplicatedError, CogniteNotFoundError

from cdf_emulator import Emulator
from tests.emulator.plain_http import assert_cdf_error, send


def _pipeline(external_id: str = "ep-1", **extra: Any) -> ExtractionPipelineWrite:
    return ExtractionPipelineWrite(external_id=external_id, name=f"Pipeline {external_id}", data_set_id=42, **extra)


def test_create_then_retrieve_list_and_missing_is_none(client: Any) -> None:
    created = client.extraction_pipelines.create(
        _pipeline(
            schedule="0 * * * *",
            raw_tables=[{"dbName": "state", "tableName": "cursors"}],
            metadata={"team": "data"},
            contacts=[
                ExtractionPipelineContact(name="Ann", email="ann@example.com", role="owner", send_notification=True)
            ],
        )
    )
    client.extraction_pipelines.create(_pipeline("ep-2"))

    fetched = client.extraction_pipelines.retrieve(external_id="ep-1")
    assert fetched is not None
    assert fetched.dump() == created.dump()
    assert (fetched.name, fetched.data_set_id, fetched.schedule) == ("Pipeline ep-1", 42, "0 * * * *")
    assert fetched.raw_tables == [{"dbName": "state", "tableName": "cursors"}]
    assert fetched.contacts[0].email == "ann@example.com"
    assert fetched.created_time == fetched.last_updated_time > 0
    assert client.extraction_pipelines.retrieve(id=created.id).external_id == "ep-1"
    assert client.extraction_pipelines.retrieve(external_id="missing") is None
    assert [p.external_id for p in client.extraction_pipelines.list(limit=None)] == ["ep-1", "ep-2"]
    both = client.extraction_pipelines.retrieve_multiple(external_ids=["ep-2", "missing"], ignore_unknown_ids=True)
    assert [p.external_id for p in both] == ["ep-2"]


def test_taken_external_id_is_409_duplicated(client: Any) -> None:
    client.extraction_pipelines.create(_pipeline())

    with pytest.raises(CogniteDuplicatedError) as error:
        client.extraction_pipelines.create(_pipeline())

    assert error.value.code == 409
    assert error.value.duplicated == [{"externalId": "ep-1"}]


def test_config_revisions(client: Any, emulator: Emulator) -> None:
    client.extraction_pipelines.create(_pipeline())
    first = client.extraction_pipelines.config.create(
        ExtractionPipelineConfigWrite(external_id="ep-1", config="logger:\n  level: INFO\n", description="first")
    )
    emulator.clock.advance("1m")
    client.extraction_pipelines.config.create(ExtractionPipelineConfigWrite(external_id="ep-1", config="a: 2\n"))

    latest = client.extraction_pipelines.config.retrieve("ep-1")
    old = client.extraction_pipelines.config.retrieve("ep-1", revision=1)
    active_then = client.extraction_pipelines.config.retrieve("ep-1", active_at_time=first.created_time)
    reverted = client.extraction_pipelines.config.revert("ep-1", 1)
    revisions = client.extraction_pipelines.config.list("ep-1")

    assert (latest.revision, latest.config) == (2, "a: 2\n")
    assert (old.revision, old.config, old.description) == (1, "logger:\n  level: INFO\n", "first")
    assert active_then.revision == 1
    assert (reverted.revision, reverted.config) == (3, "logger:\n  level: INFO\n")
    assert [r.revision for r in revisions] == [3, 2, 1]
    with pytest.raises(CogniteNotFoundError):
        client.extraction_pipelines.config.retrieve("no-such-pipeline")


def test_runs_are_listed_newest_first_and_move_the_pipeline_status(client: Any, emulator: Emulator) -> None:
    client.extraction_pipelines.create(_pipeline())
    failure = client.extraction_pipelines.runs.create(
        ExtractionPipelineRunWrite(extpipe_external_id="ep-1", status="failure", message="Cursor has expired")
    )
    emulator.clock.advance("5m")
    success = client.extraction_pipelines.runs.create(
        ExtractionPipelineRunWrite(extpipe_external_id="ep-1", status="success")
    )
    client.extraction_pipelines.runs.create(
        ExtractionPipelineRunWrite(extpipe_external_id="ep-1", status="seen", created_time=success.created_time + 1)
    )

    runs = client.extraction_pipelines.runs.list("ep-1", limit=None)
    failures = client.extraction_pipelines.runs.list("ep-1", statuses=["failure"], limit=None)
    by_message = client.extraction_pipelines.runs.list("ep-1", message_substring="EXPIRED", limit=None)
    pipeline = client.extraction_pipelines.retrieve(external_id="ep-1")

    assert [run.status for run in runs] == ["seen", "success", "failure"]
    assert [run.id for run in failures] == [failure.id]
    assert [run.message for run in by_message] == ["Cursor has expired"]
    assert pipeline.last_success == success.created_time
    assert pipeline.last_failure == failure.created_time
    assert pipeline.last_message == "Cursor has expired"
    assert pipeline.last_seen == success.created_time + 1
    with pytest.raises(CogniteAPIError):
        client.extraction_pipelines.runs.create(ExtractionPipelineRunWrite(extpipe_external_id="nope", status="seen"))


def test_runs_page_with_cursor(client: Any, emulator: Emulator) -> None:
    client.extraction_pipelines.create(_pipeline())
    for index in range(7):
        client.extraction_pipelines.runs.create(
            ExtractionPipelineRunWrite(extpipe_external_id="ep-1", status="seen", created_time=1_000 + index)
        )

    url = f"/api/v1/projects/{emulator.project}/extpipes/runs/list"
    first = client.post(url, json={"filter": {"externalId": "ep-1"}, "limit": 4}).json()
    rest = client.post(url, json={"filter": {"externalId": "ep-1"}, "limit": 4, "cursor": first["nextCursor"]}).json()

    assert [run["createdTime"] for run in first["items"] + rest["items"]] == [1_006 - i for i in range(7)]
    assert "nextCursor" not in rest


def test_update_and_delete(client: Any) -> None:
    client.extraction_pipelines.create(_pipeline(metadata={"a": "1", "b": "2"}))

    updated = client.extraction_pipelines.update(
        ExtractionPipelineUpdate(external_id="ep-1")
        .name.set("Renamed")
        .metadata.add({"c": "3"})
        .metadata.remove(["a"])
        .raw_tables.add([{"dbName": "db", "tableName": "t"}])
    )
    client.extraction_pipelines.delete(external_id="ep-1")

    assert updated.name == "Renamed"
    assert updated.metadata == {"b": "2", "c": "3"}
    assert updated.raw_tables == [{"dbName": "db", "tableName": "t"}]
    assert updated.last_updated_time >= updated.created_time
    assert client.extraction_pipelines.list(limit=None) == []
    with pytest.raises(CogniteNotFoundError):
        client.extraction_pipelines.delete(external_id="ep-1")


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/extpipes", {"items": [{"externalId": "x", "name": "X"}]}, 400),
        ("POST", "/extpipes", {"items": [{"externalId": "x", "name": "X", "dataSetId": 1, "colour": "red"}]}, 400),
        ("POST", "/extpipes", {"items": [{"externalId": "x", "name": "X", "dataSetId": "one"}]}, 400),
        ("POST", "/extpipes", {"items": [{"externalId": "x", "name": "X", "dataSetId": 1, "schedule": "often"}]}, 400),
        ("POST", "/extpipes", b"[1, 2", 400),
        ("POST", "/extpipes/byids", {"items": [{"externalId": "nope"}]}, 400),
        ("POST", "/extpipes/byids", {"items": [{"id": 1, "externalId": "ep-1"}]}, 400),
        ("POST", "/extpipes/list", {"limit": 1001}, 400),
        ("GET", "/extpipes?limit=0", None, 400),
        ("POST", "/extpipes/runs", {"items": [{"externalId": "ep-1", "status": "great"}]}, 400),
        ("POST", "/extpipes/runs", {"items": [{"externalId": "ep-1", "status": "seen", "message": "m" * 1001}]}, 400),
        ("POST", "/extpipes/runs/list", {"filter": {}}, 400),
        ("GET", "/extpipes/config", None, 400),
        ("GET", "/extpipes/config?externalId=ep-1&revision=-1", None, 400),
        ("POST", "/extpipes/config", {"config": "a: 1"}, 400),
        ("POST", "/extpipes/update", {"items": [{"externalId": "ep-1", "update": {"colour": {"set": "red"}}}]}, 400),
        ("POST", "/extpipes/update", {"items": [{"externalId": "ep-1", "update": {"name": {"setNull": True}}}]}, 400),
        ("GET", "/extpipes/abc", None, 400),
    ],
)
def test_bad_input_gets_a_cdf_error_never_a_500(
    client: Any, emulator: Emulator, method: str, path: str, body: Any, status: int
) -> None:
    client.extraction_pipelines.create(_pipeline())

    answer_status, answer = send(emulator, method, path, body)

    assert_cdf_error(answer_status, answer, status)
