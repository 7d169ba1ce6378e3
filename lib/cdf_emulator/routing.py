"""Requests, responses and a small path router shared by every emulator API module."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cdf_emulator.errors import ApiError

_TRUE = {"true", "1"}
_FALSE = {"false", "0"}


@dataclass
class Request:
    """One decoded HTTP request, with the path relative to the project (``/models/spaces``)."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    raw_body: bytes = b""
    json: Any = None
    params: dict[str, str] = field(default_factory=dict)

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def bool_arg(self, name: str, default: bool = False) -> bool:
        """A boolean query parameter; the 7.x SDK sends ``True``, the 8.x SDK ``true``."""
        value = self.arg(name)
        if value is None:
            return default
        lowered = value.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ApiError(400, f"Invalid boolean value for query parameter '{name}': {value}")

    def int_arg(self, name: str, default: int, minimum: int, maximum: int) -> int:
        value = self.arg(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise ApiError(400, f"Invalid integer value for query parameter '{name}': {value}") from None
        if not minimum <= number <= maximum:
            raise ApiError(400, f"Query parameter '{name}' must be between {minimum} and {maximum}, got {number}")
        return number

    def body(self) -> dict[str, Any]:
        """The JSON body, which must be an object."""
        if not isinstance(self.json, dict):
            raise ApiError(400, "Request body must be a JSON object")
        return self.json


@dataclass
class Response:
    """A handler's answer: a JSON-able body, or raw bytes with their content type."""

    status: int = 200
    body: Any = None
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Request], Any]


class Router:
    """Maps ``(method, "/models/instances/{kind}")`` patterns to handlers."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        regex = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "/?$"
        self._routes.append((method.upper(), re.compile(regex), handler))

    def route(self, method: str, pattern: str) -> Callable[[Handler], Handler]:
        """Decorator form of :meth:`add`."""

        def decorate(handler: Handler) -> Handler:
            self.add(method, pattern, handler)
            return handler

        return decorate

    def dispatch(self, request: Request) -> Response:
        """Call the matching handler; unknown paths are 404 and wrong methods 405, as CDF answers."""
        path_matched = False
        for method, regex, handler in self._routes:
            match = regex.match(request.path)
            if not match:
                continue
            path_matched = True
            if method != request.method:
                continue
            request.params = {key: _unquote(value) for key, value in match.groupdict().items()}
            result = handler(request)
            return result if isinstance(result, Response) else Response(body=result)
        if path_matched:
            raise ApiError(405, f"Method {request.method} is not allowed on {request.path}")
        raise ApiError(404, f"Not found: {request.path}")


def _unquote(value: str) -> str:
    from urllib.parse import unquote

    return unquote(value)
