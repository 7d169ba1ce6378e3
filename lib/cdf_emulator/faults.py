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


class FaultInjector:
    """Rules matched against the request path (``/api/v1/projects/p/models/instances/sync``) with ``re.search``."""

    def __init__(self) -> None:
        self._rules: list[_Rule] = []
        self._lock = threading.Lock()

    def fail(
        self, path: str, status: int, count: int = 1, method: str | None = None, auto_retryable: bool = False
    ) -> None:
        """Answer the next ``count`` matching requests with ``status`` in CDF's error format.

        ``auto_retryable`` adds CDF's ``cdf-is-auto-retryable: true`` header (and ``isAutoRetryable`` in the
        body), which makes the SDK retry statuses it would otherwise raise at once.
        """
        if status not in INJECTABLE_STATUSES:
            raise ValueError(f"status must be one of {INJECTABLE_STATUSES}, got {status}")
        fault = Fault(status=status, message=_MESSAGES[status], auto_retryable=auto_retryable)
        self._add(path, method, count, fault)

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

    def take(self, method: str, path: str) -> list[Fault]:
        """The faults that apply to this request, consuming one use of each counted rule."""
        hits: list[Fault] = []
        with self._lock:
            for rule in list(self._rules):
                if rule.method and rule.method.upper() != method.upper():
                    continue
                if not rule.pattern.search(path):
                    continue
                hits.append(rule.fault)
                if rule.remaining is not None:
                    rule.remaining -= 1
                    if rule.remaining <= 0:
                        self._rules.remove(rule)
        return hits

    def _add(self, path: str, method: str | None, count: int | None, fault: Fault) -> None:
        if count is not None and count < 1:
            raise ValueError("count must be at least 1")
        try:
            pattern = re.compile(path)
        except (re.error, TypeError) as error:
            raise ValueError(f"invalid path pattern {path!r}: {error}") from None
        with self._lock:
            self._rules.append(_Rule(pattern, method, count, fault))
