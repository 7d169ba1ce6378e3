"""Requests the server cannot route or read never give a 500 and never hang; the CLI starts and stops cleanly."""

from __future__ import annotations

import gzip
import json
import os
import re
import selectors
import signal
import subprocess
import sys
import time
import urllib.request
from typing import Any

import pytest

from cdf_emulator import Emulator
from tests.emulator.raw_http import exchange, request

SPACES = "/api/v1/projects/emulated/models/spaces"


def _assert_cdf_error(response: Any, status: int) -> None:
    assert response.status == status
    body = response.json()
    assert body["error"]["code"] == status
    assert body["error"]["message"]
    assert response.headers.get("x-request-id")


def _headers(path: str, extra: str, method: str = "POST") -> bytes:
    return f"{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\n{extra}\r\n".encode()


@pytest.mark.parametrize(
    ("extra_headers", "body", "status"),
    [
        ("Content-Length: abc\r\n", b"", 400),
        ("Content-Length: -1\r\n", b"", 400),
        ("Content-Length: 1000000000000\r\n", b"", 413),
        ("Content-Length: 5\r\nContent-Encoding: gzip\r\n", b"nope!", 400),
        ("Content-Length: 2\r\nContent-Encoding: br\r\n", b"{}", 415),
        ("Content-Length: 4\r\n", b"\xff\xfe{}", 400),
        ("Transfer-Encoding: chunked\r\n", b"zz\r\n{}\r\n0\r\n\r\n", 400),
    ],
)
def test_unreadable_bodies_are_4xx(emulator: Emulator, extra_headers: str, body: bytes, status: int) -> None:
    _assert_cdf_error(exchange(emulator, _headers(SPACES, extra_headers) + body), status)
    assert request(emulator, "GET", "/api/v1/token/inspect").status == 200


def test_body_over_the_limit_is_413(emulator: Emulator) -> None:
    emulator.max_body_bytes = 1024
    _assert_cdf_error(request(emulator, "POST", SPACES, b"{" + b" " * 2048 + b"}"), 413)


def test_gzip_bomb_is_413_not_a_memory_blowup(emulator: Emulator) -> None:
    emulator.max_body_bytes = 1024 * 1024
    bomb = gzip.compress(b"[" + b" " * (20 * 1024 * 1024) + b"]")
    assert len(bomb) < 100_000
    _assert_cdf_error(request(emulator, "POST", SPACES, bomb, {"Content-Encoding": "gzip"}), 413)


def test_body_shorter_than_content_length_times_out_with_408(emulator: Emulator) -> None:
    emulator.body_timeout_s = 0.3
    started = time.monotonic()
    response = exchange(emulator, _headers(SPACES, "Content-Length: 100\r\n") + b'{"items":')
    _assert_cdf_error(response, 408)
    assert time.monotonic() - started < 3
    assert response.headers.get("connection") == "close"


def test_body_cut_off_by_the_client_is_400(emulator: Emulator) -> None:
    response = exchange(emulator, _headers(SPACES, "Content-Length: 100\r\n") + b'{"items":', close_write=True)
    _assert_cdf_error(response, 400)


def test_deeply_nested_json_is_400(emulator: Emulator) -> None:
    response = request(emulator, "POST", SPACES, b"[" * 200_000 + b"]" * 200_000)
    _assert_cdf_error(response, 400)


def test_chunked_body_is_read(emulator: Emulator) -> None:
    body = json.dumps({"duration": "2h"}).encode()
    chunked = f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
    before = emulator.clock.now_ms()
    response = exchange(emulator, _headers("/_emulator/clock/advance", "Transfer-Encoding: chunked\r\n") + chunked)
    assert response.status == 200
    assert response.json()["now"] >= before + 7_200_000


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"BREW /api/v1/token/inspect HTTP/1.1\r\nHost: x\r\n\r\n", 501),
        (b"NONSENSE\r\n\r\n", 400),
        (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        (b"GET / HTTP/1.1\r\nX-Big: " + b"b" * 70_000 + b"\r\n\r\n", 431),
    ],
)
def test_requests_http_server_rejects_still_answer_in_cdf_format(emulator: Emulator, raw: bytes, status: int) -> None:
    _assert_cdf_error(exchange(emulator, raw), status)


def test_many_bad_requests_leave_the_server_healthy(emulator: Emulator) -> None:
    for _ in range(20):
        assert request(emulator, "POST", SPACES, b"{bad").status == 400
        assert request(emulator, "PATCH", "/api/v1/token/inspect").status == 405
    assert emulator.client().iam.token.inspect().subject


# CLI -------------------------------------------------------------------------------------------------------
_ANNOUNCEMENT = re.compile(r"cdf-emulator: project '([^']+)' at (http://\S+)")


def _cli(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "cdf_emulator.cli", *args]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _read_announcement(process: subprocess.Popen[str], timeout_s: float = 30.0) -> tuple[str, str]:
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not selector.select(timeout=deadline - time.monotonic()):
            break
        line = process.stdout.readline()
        if not line:
            break
        match = _ANNOUNCEMENT.search(line)
        if match:
            return match.group(1), match.group(2)
    process.kill()
    raise AssertionError(f"no announcement line; stderr: {process.communicate()[1]}")


def test_cli_serves_on_a_free_port_and_stops_on_sigterm() -> None:
    process = _cli("serve", "--port", "0", "--project", "cli-project", "--cursor-ttl", "30s")
    try:
        project, base_url = _read_announcement(process)
        assert project == "cli-project"
        inspect = urllib.request.Request(base_url + "/api/v1/token/inspect", headers={"Authorization": "Bearer t"})
        with urllib.request.urlopen(inspect, timeout=10) as response:
            assert json.load(response)["projects"][0]["projectUrlName"] == "cli-project"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("serve", "--port", "0", "--cursor-ttl", "3x"), "--cursor-ttl"),
        (("serve", "--seed", "no-such-seed"), "--seed"),
        (("serve", "--port", "not-a-port"), "--port"),
    ],
)
def test_cli_rejects_bad_options_with_exit_2(args: tuple[str, ...], message: str) -> None:
    process = _cli(*args)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 2
    assert message in stderr
    assert "Traceback" not in stderr
