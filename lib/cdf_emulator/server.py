"""The HTTP front of the emulator: transport rules, auth endpoints, admin endpoints and dispatch."""

from __future__ import annotations

import base64
import gzip
import json
import logging
import time
import uuid
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from cdf_emulator.errors import ApiError
from cdf_emulator.routing import Request, Response

if TYPE_CHECKING:
    from cdf_emulator.emulator import Emulator

logger = logging.getLogger(__name__)

ADMIN_PREFIX = "/_emulator"
TOKEN_PATH = "/oauth2/token"
TOKEN_LIFETIME_S = 3600


class _Dropped(Exception):
    """Raised to close a connection without answering (fault injection)."""


class EmulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], emulator: Emulator) -> None:
        super().__init__(address, _Handler)
        self.emulator = emulator


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: EmulatorHTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature of the base class
        logger.debug("%s %s", self.address_string(), format % args)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._serve()

    def do_POST(self) -> None:  # noqa: N802
        self._serve()

    def do_PUT(self) -> None:  # noqa: N802
        self._serve()

    def do_DELETE(self) -> None:  # noqa: N802
        self._serve()

    def _serve(self) -> None:
        request_id = uuid.uuid4().hex[:16]
        try:
            response = self._handle()
        except _Dropped:
            self.close_connection = True
            return
        except ApiError as error:
            response = Response(status=error.status, body=error.body())
            if error.auto_retryable:
                response.headers["cdf-is-auto-retryable"] = "true"
        except Exception:  # the boundary of a server: a bug answers 500, never a hang
            logger.exception("unhandled error serving %s %s", self.command, self.path)
            response = Response(status=500, body={"error": {"code": 500, "message": "Internal server error"}})
        self._write(response, request_id)
        hook = self.server.emulator.on_response
        if hook is not None:
            hook(self.command, urlsplit(self.path).path, response)

    def _handle(self) -> Response:
        emulator = self.server.emulator
        url = urlsplit(self.path)
        raw = self._read_body()
        for fault in emulator.faults.take(self.command, url.path):
            if fault.latency_s:
                time.sleep(fault.latency_s)
            if fault.drop:
                raise _Dropped()
            if fault.status:
                raise ApiError(fault.status, fault.message)
        request = Request(
            method=self.command,
            path=url.path,
            query=parse_qs(url.query, keep_blank_values=True),
            headers={key.lower(): value for key, value in self.headers.items()},
            raw_body=raw,
        )
        if url.path == TOKEN_PATH and self.command == "POST":
            return _issue_token(request)
        if url.path.startswith(ADMIN_PREFIX + "/"):
            request.json = _decode_json(request)
            request.path = url.path[len(ADMIN_PREFIX) :]
            return emulator.admin_router.dispatch(request)
        if url.path == "/api/v1/token/inspect" and self.command == "GET":
            _require_bearer(request)
            return Response(body=emulator.token_inspection())
        prefix = f"/api/v1/projects/{emulator.project}"
        if url.path.startswith("/api/v1/projects/") and not (url.path + "/").startswith(prefix + "/"):
            _require_bearer(request)
            raise ApiError(403, "Resource not found. This may also be due to insufficient access rights.")
        if not url.path.startswith(prefix + "/"):
            raise ApiError(404, f"Not found: {url.path}")
        _require_bearer(request)
        request.path = url.path[len(prefix) :]
        if "json" in request.headers.get("content-type", "application/json") or raw:
            request.json = _decode_json(request)
        return emulator.router.dispatch(request)

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        encoding = (self.headers.get("Content-Encoding") or "").lower()
        if raw and encoding == "gzip":
            try:
                raw = gzip.decompress(raw)
            except (OSError, EOFError, zlib.error):
                raise ApiError(400, "Request body is not valid gzip") from None
        return raw

    def _write(self, response: Response, request_id: str) -> None:
        if isinstance(response.body, (bytes, bytearray)):
            payload = bytes(response.body)
        elif response.body is None:
            payload = b"{}"
        else:
            payload = json.dumps(response.body, separators=(",", ":")).encode()
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("x-request-id", request_id)
        for key, value in response.headers.items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)


def _decode_json(request: Request) -> Any:
    if not request.raw_body:
        return None
    try:
        return json.loads(request.raw_body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ApiError(400, f"Invalid JSON in request body: {error}") from None


def _require_bearer(request: Request) -> None:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("bearer ") or not header[7:].strip():
        raise ApiError(401, "Unauthorized")


def _issue_token(request: Request) -> Response:
    """OAuth client credentials: id and secret in the form (SDK 8.x) or in Basic auth (SDK 7.x)."""
    form = {key: values[-1] for key, values in parse_qs(request.raw_body.decode("utf-8", "replace")).items()}
    client_id, secret = form.get("client_id"), form.get("client_secret")
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return _oauth_error(401, "invalid_client", "Malformed Basic authorization header")
    if form.get("grant_type") != "client_credentials":
        return _oauth_error(400, "unsupported_grant_type", "Only grant_type=client_credentials is supported")
    if not client_id or not secret:
        return _oauth_error(401, "invalid_client", "client_id and client_secret are required")
    token = "emulated-" + uuid.uuid4().hex
    return Response(body={"access_token": token, "expires_in": TOKEN_LIFETIME_S, "token_type": "Bearer"})


def _oauth_error(status: int, code: str, description: str) -> Response:
    return Response(status=status, body={"error": code, "error_description": description})
