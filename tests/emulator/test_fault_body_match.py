"""Fault rules that match the request body too: fail the sync of one view and no other."""

from __future__ import annotations

from typing import Any

import pytest
from cognite.client.exceptions import CogniteAPIError

from cdf_emulator import Emulator
from tests.emulator.raw_http import request

SYNC = "/models/instances/sync"


def _sync_body(view: str) -> dict[str, Any]:
    ref = {"type": "view", "space": "movies", "externalId": view, "version": "1"}
    return {"with": {"n": {"nodes": {"filter": {"hasData": [ref]}}, "limit": 10}}, "select": {"n": {}}}


def _sync(emulator: Emulator, view: str) -> int:
    """The status CDF's sync answers for a sync of ``view``'s nodes (the SDK gzips the body)."""
    client = emulator.client()
    try:
        client.post(f"/api/v1/projects/{emulator.project}{SYNC}", json=_sync_body(view))
    except CogniteAPIError as error:
        return int(error.code)
    return 200


def test_a_body_pattern_limits_a_fault_to_the_matching_requests(emulator_factory: Any) -> None:
    emulator = emulator_factory(seed="movies")
    emulator.faults.fail(SYNC, 500, count=2, body=r'"externalId":\s*"Person"')

    assert _sync(emulator, "Movie") == 200
    assert _sync(emulator, "Person") == 500
    assert _sync(emulator, "Actor") == 200
    assert _sync(emulator, "Person") == 500
    assert _sync(emulator, "Person") == 200  # the two counted uses are spent


def test_the_admin_endpoint_accepts_a_body_pattern(emulator_factory: Any) -> None:
    emulator = emulator_factory(seed="movies")
    rule = {"path": SYNC, "status": 500, "count": 1, "body": '"Movie"'}
    assert request(emulator, "POST", "/_emulator/faults/fail", rule).status == 200
    assert _sync(emulator, "Person") == 200
    assert _sync(emulator, "Movie") == 500


def test_an_invalid_body_pattern_is_rejected(emulator_factory: Any) -> None:
    emulator = emulator_factory()
    with pytest.raises(ValueError, match="invalid body pattern"):
        emulator.faults.fail(SYNC, 500, body="(")
