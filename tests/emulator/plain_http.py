"""Plain HTTP to a running emulator, for requests the SDK never sends (malformed bodies, wrong types)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from cdf_emulator import Emulator


def send(emulator: Emulator, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """``(status, decoded JSON)`` of one request to a project path such as ``/timeseries/data/list``.

    ``body`` is JSON-encoded unless it is already ``bytes`` (sent as is, to test malformed JSON).
    """
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        f"{emulator.base_url}/api/v1/projects/{emulator.project}{path}",
        data=data,
        method=method,
        headers={"Authorization": "Bearer test-token", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def assert_cdf_error(status: int, body: Any, expected_status: int) -> None:
    """The answer is CDF's error envelope with ``expected_status`` as both HTTP status and ``error.code``."""
    assert status == expected_status, body
    assert isinstance(body.get("error"), dict), body
    assert body["error"]["code"] == expected_status
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
