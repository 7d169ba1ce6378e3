"""The HTTP front of the emulator: transport rules, auth endpoints, admin endpoints and dispatch."""

from __future__ import annotations

import base64
import json
import logging
import socket
import struct
import time
import uuid
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from cdf_emulator.errors import ApiError
from cdf_emulator.faults import Fault
from cdf_emulator.routing import Request, Response

if TYPE_CHECKING:
    from cdf_emulator.emulator import Emulator

logger = logging.getLogger(__name__)

ADMIN_PREFIX = "/_emulator"
TOKEN_PATH = "/oauth2/token"
INSPECT_PATH = "/api/v1/token/inspect"
TOKEN_LIFETIME_S = 3600
MAX_BODY_BYTES = 100 * 1024 * 1024
BODY_TIMEOUT_S = 10.0
_IDENTITY_ENCODINGS = {"", "identity"}


class _DroppedError(Exception):
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

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve()

    def do_OPTIONS(self) -> None:
        self._serve()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Requests http.server rejects itself (bad request line, unknown method, huge headers): CDF's format."""
        self.close_connection = True
        if not self.request_version.startswith("HTTP/1."):
            self.request_version = "HTTP/1.1"  # a request line too broken to parse still gets a status line
        text = message or self.responses.get(code, ("Error",))[0]
        self._write(Response(status=code, body={"error": {"code": code, "message": text}}), uuid.uuid4().hex[:16])

    def _serve(self) -> None:
        request_id = uuid.uuid4().hex[:16]
        self._body_read = False
        try:
            response = self._handle()
        except _DroppedError:
            self._reset_connection()
            return
        except ApiError as error:
            response = Response(status=error.status, body=error.body())
            if error.auto_retryable:
                response.headers["cdf-is-auto-retryable"] = "true"
        except Exception:  # the boundary of a server: a bug answers 500, never a hang
            logger.exception("unhandled error serving %s %s", self.command, self.path)
            response = Response(status=500, body={"error": {"code": 500, "message": "Internal server error"}})
        if not self._body_read:
            self.close_connection = True  # unread body bytes would be parsed as the next request
        try:
            payload = _encode(response)
        except (TypeError, ValueError):
            logger.exception("unserializable response body for %s %s", self.command, self.path)
            response = Response(status=500, body={"error": {"code": 500, "message": "Internal server error"}})
            payload = _encode(response)
        self._report(response)
        self._write(response, request_id, payload)

    def _report(self, response: Response) -> None:
        """Hand the response to the ``on_response`` hook before the client can see it (tests assert after)."""
        hook = self.server.emulator.on_response
        if hook is None:
            return
        try:
            hook(self.command, urlsplit(self.path).path, response)
        except Exception:  # a broken hook must not break the answer
            logger.exception("on_response hook failed for %s %s", self.command, self.path)

    def _reset_connection(self) -> None:
        """Drop the connection with a TCP reset, as a failing load balancer does (a clean close looks like EOF)."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass

    def _handle(self) -> Response:
        emulator = self.server.emulator
        url = urlsplit(self.path)
        raw = self._read_body()
        _apply_faults(emulator.faults.take(self.command, url.path, raw))
        request = Request(
            method=self.command,
            path=url.path,
            query=parse_qs(url.query, keep_blank_values=True),
            headers={key.lower(): value for key, value in self.headers.items()},
            raw_body=raw,
        )
        if url.path in (TOKEN_PATH, INSPECT_PATH):
            return _serve_auth(emulator, request)
        if url.path.startswith(ADMIN_PREFIX + "/"):
            request.json = _decode_json(request)
            request.path = url.path[len(ADMIN_PREFIX) :]
            return emulator.admin_router.dispatch(request)
        prefix = f"/api/v1/projects/{emulator.project}"
        if url.path.startswith("/api/v1/projects/") and not (url.path + "/").startswith(prefix + "/"):
            # CDF answers 401 for a project the token has no access to; the SDK then looks up
            # /token/inspect to suggest the projects the token does reach.
            raise ApiError(401, "Unauthorized")
        if not url.path.startswith(prefix + "/"):
            raise ApiError(404, f"Not found: {url.path}")
        _require_bearer(request)
        request.path = url.path[len(prefix) :]
        if "json" in request.headers.get("content-type", "application/json") or raw:
            request.json = _decode_json(request)
        return emulator.router.dispatch(request)

    def _read_body(self) -> bytes:
        """The request body, size-limited, gunzipped, and never waited for longer than the body timeout."""
        emulator = self.server.emulator
        chunked = "chunked" in (self.headers.get("Transfer-Encoding") or "").lower()
        length = 0 if chunked else _content_length(self.headers.get("Content-Length"), emulator.max_body_bytes)
        encoding = (self.headers.get("Content-Encoding") or "").strip().lower()
        self.connection.settimeout(emulator.body_timeout_s)
        try:
            raw = self._read_chunked(emulator.max_body_bytes) if chunked else self._read_exactly(length)
        except TimeoutError:
            raise ApiError(408, "Timed out reading the request body") from None
        finally:
            self.connection.settimeout(None)
        self._body_read = True
        if encoding in _IDENTITY_ENCODINGS or not raw:
            return raw
        if encoding != "gzip":
            raise ApiError(415, f"Unsupported Content-Encoding: {encoding}")
        return _gunzip(raw, emulator.max_body_bytes)

    def _read_exactly(self, length: int) -> bytes:
        raw = self.rfile.read(length) if length else b""
        if len(raw) < length:
            raise ApiError(400, "The request body is shorter than its Content-Length")
        return raw

    def _read_chunked(self, limit: int) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024).split(b";", 1)[0].strip()
            try:
                size = int(line, 16)
            except ValueError:
                raise ApiError(400, "Malformed chunked request body") from None
            if size == 0:
                while self.rfile.readline(1024).strip():
                    pass  # trailers
                return b"".join(parts)
            total += size
            if total > limit:
                raise ApiError(413, f"Request body larger than {limit} bytes")
            parts.append(self._read_exactly(size))
            self.rfile.readline(8)

    def _write(self, response: Response, request_id: str, payload: bytes | None = None) -> None:
        if payload is None:
            payload = _encode(response)
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("x-request-id", request_id)
        for key, value in response.headers.items():
            self.send_header(key, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)


def _encode(response: Response) -> bytes:
    if isinstance(response.body, (bytes, bytearray)):
        return bytes(response.body)
    if response.body is None:
        return b"{}"
    return json.dumps(response.body, separators=(",", ":")).encode()


def _content_length(header: str | None, limit: int) -> int:
    try:
        length = int(header or 0)
    except ValueError:
        raise ApiError(400, f"Invalid Content-Length: {header!r}") from None
    if length < 0:
        raise ApiError(400, f"Invalid Content-Length: {header!r}")
    if length > limit:
        raise ApiError(413, f"Request body larger than {limit} bytes")
    return length


def _gunzip(raw: bytes, limit: int) -> bytes:
    """Decompress a gzip body without letting a small bomb expand past ``limit``."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        body = inflater.decompress(raw, limit + 1)
        if not inflater.eof:
            if len(body) > limit:
                raise ApiError(413, f"Decompressed request body larger than {limit} bytes")
            raise ApiError(400, "Request body is not valid gzip: truncated")
    except zlib.error:
        raise ApiError(400, "Request body is not valid gzip") from None
    return body


def _decode_json(request: Request) -> Any:
    if not request.raw_body:
        return None
    try:
        return json.loads(request.raw_body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ApiError(400, f"Invalid JSON in request body: {error}") from None
    except RecursionError:
        raise ApiError(400, "Invalid JSON in request body: nested too deeply") from None


def _apply_faults(faults: list[Fault]) -> None:
    """Sleep, drop or fail as the matching fault rules say (latency first, so it adds to any failure)."""
    for fault in faults:
        if fault.latency_s:
            time.sleep(fault.latency_s)
    for fault in faults:
        if fault.drop:
            raise _DroppedError()
        if fault.status:
            raise ApiError(fault.status, fault.message, auto_retryable=fault.auto_retryable)


def _serve_auth(emulator: Emulator, request: Request) -> Response:
    """The two endpoints outside the project: the OAuth token endpoint and ``GET /api/v1/token/inspect``."""
    if request.path == TOKEN_PATH:
        if request.method != "POST":
            raise ApiError(405, f"Method {request.method} is not allowed on {TOKEN_PATH}")
        return _issue_token(request)
    if request.method != "GET":
        raise ApiError(405, f"Method {request.method} is not allowed on {INSPECT_PATH}")
    _require_bearer(request)
    return Response(body=emulator.token_inspection())


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
