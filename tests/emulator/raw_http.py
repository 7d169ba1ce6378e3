"""Plain-HTTP helpers for transport tests: requests the SDK would never send, and a response recorder."""

from __future__ import annotations

import http.client
import json
import socket
import threading
from dataclasses import dataclass
from typing import Any

from cdf_emulator import Emulator
from cdf_emulator.routing import Request, Response

TIMEOUT_S = 10.0
ECHO_PATH = "/_transport/echo"


@dataclass
class RawResponse:
    """A response as the wire delivered it (header names in lower case)."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def request(
    emulator: Emulator,
    method: str,
    path: str,
    body: bytes | dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    token: str | None = "test-token",
) -> RawResponse:
    """One HTTP request on a fresh connection (any method, any headers)."""
    all_headers = dict(headers or {})
    if token is not None:
        all_headers.setdefault("Authorization", f"Bearer {token}")
    if isinstance(body, dict):
        body = json.dumps(body).encode()
        all_headers.setdefault("Content-Type", "application/json")
    connection = http.client.HTTPConnection(emulator.host, emulator.port, timeout=TIMEOUT_S)
    try:
        connection.request(method, path, body=body, headers=all_headers)
        response = connection.getresponse()
        return RawResponse(response.status, _lower(response.getheaders()), response.read())
    finally:
        connection.close()


def exchange(emulator: Emulator, data: bytes, close_write: bool = False) -> RawResponse:
    """Send raw bytes on a socket and parse the one response the server sends back."""
    with socket.create_connection((emulator.host, emulator.port), timeout=TIMEOUT_S) as sock:
        sock.sendall(data)
        if close_write:
            sock.shutdown(socket.SHUT_WR)
        response = http.client.HTTPResponse(sock)
        response.begin()
        return RawResponse(response.status, _lower(response.getheaders()), response.read())


def _lower(headers: list[tuple[str, str]]) -> dict[str, str]:
    return {key.lower(): value for key, value in headers}


class Recorder:
    """An ``on_response`` hook that keeps ``(method, path, status, body)`` of every answered request."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, int, Any]] = []
        self._lock = threading.Lock()

    def __call__(self, method: str, path: str, response: Response) -> None:
        with self._lock:
            self.calls.append((method, path, response.status, response.body))

    def statuses(self, path_part: str) -> list[int]:
        """Statuses answered on paths containing ``path_part``, in order."""
        with self._lock:
            return [status for _, path, status, _ in self.calls if path_part in path]


def add_echo_route(emulator: Emulator) -> str:
    """A project route that answers what it received; returns its path for ``client.post``/``client.get``.

    Not a CDF path: use it only on an emulator without response validation.
    """

    def echo(request: Request) -> dict[str, Any]:
        return {
            "contentEncoding": request.headers.get("content-encoding", ""),
            "authorization": request.headers.get("authorization", ""),
            "json": request.json,
            "query": {key: values[-1] for key, values in request.query.items()},
            "flag": request.bool_arg("flag") if request.arg("flag") is not None else None,
        }

    emulator.router.add("GET", ECHO_PATH, echo)
    emulator.router.add("POST", ECHO_PATH, echo)
    return f"/api/v1/projects/{emulator.project}{ECHO_PATH}"
