"""Placeholder: to be implemented."""

from __future__ import annotations

from typing import Any


class InstanceStore:
    def __init__(self, clock: Any, schema: Any, cursor_ttl_s: float) -> None:
        self.clock = clock


def register(router: Any, state: Any) -> None:
    return None
