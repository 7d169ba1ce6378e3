"""Fault injection: failing statuses, latency and dropped connections for matching paths."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

INJECTABLE_STATUSES = (408, 429, 500, 502, 503, 504)

_MESSAGES = {
    408: "Request timed out",
    429: "Too many requests",
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Gateway timeout",
}


@dataclass
class Fault:
    """What to do to one request: answer ``status``, sleep ``latency_s`` first, or drop the connection."""

    status: int | None = None
    message: str = ""
    latency_s: float = 0.0
    drop: bool = False
    auto_retryable: bool = False


@dataclass
class _Rule:
    pattern: re.Pattern[str]
    method: str | None
    remaining: int | None  # None: forever
    fault: Fault
    body: re.Pattern[str] | None = None


class FaultInjector:
    """Rules matched against the request path (``/api/v1/projects/p/models/instances/sync``) with ``re.search``.

    A rule may also name a ``body`` pattern, searched in the decoded request body, to single out one of many
    requests to the same path (for example the sync of one view).
    """

    def __init__(self) -> None:
        self._rules: list[_Rule] = []
        self._lock = threading.Lock()

    def fail(
        self,
        path: str,
        status: int,
        count: int = 1,
        method: str | None = None,
        auto_retryable: bool = False,
        body: str | None = None,
    ) -> None:
        """Answer the next ``count`` matching requests with ``status`` in CDF's error format.

        ``auto_retryable`` adds CDF's ``cdf-is-auto-retryable: true`` header (and ``isAutoRetryable`` in the
        body), which makes the SDK retry statuses it would otherwise raise at once. ``body``, a regular
        expression, limits the rule to requests whose (decoded) body it is found in.
        """
        if status not in INJECTABLE_STATUSES:
            raise ValueError(f"status must be one of {INJECTABLE_STATUSES}, got {status}")
        fault = Fault(status=status, message=_MESSAGES[status], auto_retryable=auto_retryable)
        self._add(path, method, count, fault, body)

    def delay(self, path: str, seconds: float, count: int | None = None, method: str | None = None) -> None:
        """Add latency to matching requests (all of them when ``count`` is None)."""
        if seconds < 0:
            raise ValueError("latency must not be negative")
        self._add(path, method, count, Fault(latency_s=seconds))

    def drop(self, path: str, count: int = 1, method: str | None = None) -> None:
        """Close the connection without an answer for the next ``count`` matching requests."""
        self._add(path, method, count, Fault(drop=True))

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def take(self, method: str, path: str, body: bytes = b"") -> list[Fault]:
        """The faults that apply to this request, consuming one use of each counted rule."""
        hits: list[Fault] = []
        text: str | None = None
        with self._lock:
            for rule in list(self._rules):
                if rule.method and rule.method.upper() != method.upper():
                    continue
                if not rule.pattern.search(path):
                    continue
                if rule.body is not None:
                    text = body.decode("utf-8", "replace") if text is None else text
                    if not rule.body.search(text):
                        continue
                hits.append(rule.fault)
                if rule.remaining is not None:
                    rule.remaining -= 1
                    if rule.remaining <= 0:
                        self._rules.remove(rule)
        return hits

    def _add(self, path: str, method: str | None, count: int | None, fault: Fault, body: str | None = None) -> None:
        if count is not None and count < 1:
            raise ValueError("count must be at least 1")
        pattern, body_pattern = _compile(path, "path"), None if body is None else _compile(body, "body")
        with self._lock:
            self._rules.append(_Rule(pattern, method, count, fault, body_pattern))


def _compile(pattern: str, what: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except (re.error, TypeError) as error:
        raise ValueError(f"invalid {what} pattern {pattern!r}: {error}") from None
