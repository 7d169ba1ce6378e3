"""Validates emulator responses against the response schemas of the CDF OpenAPI document.

``ResponseValidator.check`` is the emulator's ``on_response`` hook: it maps (path template, method, status) to
the documented response and records every way the response breaks it in ``violations``. The rules:

- a 2xx (or 3xx) status must be documented for the operation, with the response's content type; JSON bodies
  are validated against the schema (Draft 2020-12, ``$ref``s resolved inside the document);
- an error status (4xx/5xx) must carry CDF's error envelope ``{"error": {"code", "message", ...}}`` (the
  document's generic ``ErrorResponse``). When the operation documents a schema for that status, the body must
  also match it, except that its ``required`` lists are not enforced: one status covers many causes, and the
  documented schema describes one of them (``missing`` on 400 is only present when ids were not found).
  Schemas that the document gives unwrapped (``DefaultError``, ``MissingField``) are applied to the ``error``
  member. An error status on an undocumented operation (404 unknown path, 405 wrong method) gets the envelope
  check only;
- the emulator's admin endpoints (``/_emulator``) are skipped; the OAuth token endpoint (``/oauth2/token``) is
  checked against RFC 6749's token and error responses (the SDK also requires ``expires_in``).
"""

from __future__ import annotations

import json
import threading
from typing import Any

from jsonschema import Draft202012Validator, ValidationError
from jsonschema.exceptions import best_match

from tests.openapi_spec import ERROR_ENVELOPE, DocumentedResponse, OpenApiIndex, load_index

ADMIN_PREFIX = "/_emulator"
TOKEN_PATH = "/oauth2/token"
MAX_ERRORS_PER_RESPONSE = 5
MAX_MESSAGE_CHARS = 400

_OAUTH_TOKEN = Draft202012Validator(
    {
        "type": "object",
        "required": ["access_token", "expires_in"],
        "properties": {
            "access_token": {"type": "string", "minLength": 1},
            "expires_in": {"type": "integer", "minimum": 1},
            "token_type": {"type": "string"},
        },
    }
)
_OAUTH_ERROR = Draft202012Validator(
    {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "enum": [
                    "invalid_request",
                    "invalid_client",
                    "invalid_grant",
                    "unauthorized_client",
                    "unsupported_grant_type",
                    "invalid_scope",
                ]
            },
            "error_description": {"type": "string"},
        },
    }
)


class ResponseValidator:
    """Collects schema violations of responses; each names method, path, status and the failing JSON path."""

    def __init__(self, index: OpenApiIndex | None = None) -> None:
        self.index = index if index is not None else load_index()
        self.violations: list[str] = []
        self.checked = 0
        self._lock = threading.Lock()

    def check(self, method: str, path: str, response: Any) -> None:
        """Validate one response (a ``cdf_emulator.routing.Response``); never raises."""
        try:
            problems = find_problems(self.index, method, path, response)
        except Exception as error:  # runs in a server thread: a crash must fail the test, not vanish in a log
            problems = [f"validator crashed: {type(error).__name__}: {error}"]
        status = getattr(response, "status", "?")
        with self._lock:
            self.checked += 1
            self.violations.extend(f"{method.upper()} {path} -> {status}: {problem}" for problem in problems)


def find_problems(index: OpenApiIndex, method: str, path: str, response: Any) -> list[str]:
    """Every way ``response`` to ``method path`` breaks the document (empty when it conforms)."""
    path = path.split("?", 1)[0]
    if path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/"):
        return []
    media_type = _media_type(response.content_type)
    status = int(response.status)
    if path == TOKEN_PATH:
        return _check_oauth(index, status, media_type, response.body)
    operation = index.operations(path).get(method.lower())
    documented = index.response(operation, status) if operation is not None else None
    if status >= 400:
        return _check_error(index, documented, media_type, response.body)
    if operation is None:
        return [f"undocumented operation: the document has no {method.upper()} for this path"]
    if documented is None:
        return [f"status {status} is not documented for {method.upper()} {operation.template}"]
    return _check_success(index, documented, media_type, response.body)


def _check_success(index: OpenApiIndex, documented: DocumentedResponse, media_type: str, body: Any) -> list[str]:
    if not documented.content:
        return [] if _is_empty(body) else ["the document specifies no body for this status, but one was sent"]
    matched = _match_media_type(media_type, documented.content)
    if matched is None:
        return [f"content type {media_type!r} is not documented (documented: {sorted(documented.content)})"]
    pointer = documented.content[matched]
    if pointer is None or not _is_json(media_type):
        return []
    instance, problem = _parse_json(body)
    if problem:
        return [problem]
    return _schema_problems(index.validator(pointer), instance)


def _check_error(index: OpenApiIndex, documented: DocumentedResponse | None, media_type: str, body: Any) -> list[str]:
    if not _is_json(media_type):
        return [f"an error body must be JSON, got content type {media_type!r}"]
    instance, problem = _parse_json(body)
    if problem:
        return [problem]
    problems = _schema_problems(index.validator(ERROR_ENVELOPE), instance)
    pointer = documented.content.get("application/json") if documented else None
    if pointer and pointer != ERROR_ENVELOPE and not problems:
        target = instance if _is_envelope(index, pointer) else instance["error"]
        problems = _schema_problems(index.validator(pointer), target, skip_required=True)
    return problems


def _check_oauth(index: OpenApiIndex, status: int, media_type: str, body: Any) -> list[str]:
    if not _is_json(media_type):
        return [f"a token endpoint answers JSON, got content type {media_type!r}"]
    instance, problem = _parse_json(body)
    if problem:
        return [problem]
    if status == 200:
        return _schema_problems(_OAUTH_TOKEN, instance)
    if status in (400, 401):
        return _schema_problems(_OAUTH_ERROR, instance)
    if status >= 400:  # injected faults (429, 5xx) answer in CDF's format on every path
        return _schema_problems(index.validator(ERROR_ENVELOPE), instance)
    return [f"a token endpoint answers 200, 400 or 401, got {status}"]


def _schema_problems(validator: Draft202012Validator, instance: Any, skip_required: bool = False) -> list[str]:
    errors = sorted(validator.iter_errors(instance), key=lambda error: list(error.absolute_path))
    if skip_required:
        errors = [error for error in errors if error.validator != "required"]
    return [_describe(error) for error in errors[:MAX_ERRORS_PER_RESPONSE]]


def _describe(error: ValidationError) -> str:
    """The failing JSON path and message; for anyOf/oneOf, why each branch failed."""
    if not error.context:
        return f"{error.json_path}: {_shorten(error.message)}"
    by_branch: dict[Any, list[ValidationError]] = {}
    for sub_error in error.context:
        branch = sub_error.relative_schema_path[0] if sub_error.relative_schema_path else "?"
        by_branch.setdefault(branch, []).append(sub_error)
    reasons = []
    for branch, errors in by_branch.items():
        relevant = best_match(errors)
        if relevant is not None:
            reasons.append(f"[{branch}] {relevant.json_path}: {_shorten(relevant.message, 160)}")
    return f"{error.json_path}: matches no {error.validator} branch: " + "; ".join(reasons)


def _shorten(message: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    return message if len(message) <= limit else message[:limit] + "..."


def _is_envelope(index: OpenApiIndex, pointer: str) -> bool:
    """Whether the schema at ``pointer`` describes the whole body (has ``error``) or only the error object."""
    schema = index.resolve(pointer)
    while isinstance(schema, dict) and "$ref" in schema and "properties" not in schema:
        schema = index.resolve(schema["$ref"].lstrip("#"))
    return isinstance(schema, dict) and "error" in schema.get("properties", {})


def _parse_json(body: Any) -> tuple[Any, str | None]:
    if body is None:
        return {}, None  # the server sends {} for a handler that returned nothing
    if isinstance(body, (bytes, bytearray, str)):
        try:
            return json.loads(body), None
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            return None, f"body is not valid JSON: {error}"
    return body, None


def _is_empty(body: Any) -> bool:
    return body is None or body == b"" or body == {}


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _is_json(media_type: str) -> bool:
    return media_type == "application/json" or media_type.endswith("+json")


def _match_media_type(media_type: str, documented: dict[str, str | None]) -> str | None:
    for candidate in (media_type, media_type.split("/", 1)[0] + "/*", "*/*"):
        if candidate in documented:
            return candidate
    return None
