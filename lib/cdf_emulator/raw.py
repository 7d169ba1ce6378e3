"""Placeholder: to be implemented."""

from __future__ import annotations

from typing import Any


class RawStore:
    def __init__(self, clock: Any) -> None:
        self.clock = clock


def register(router: Any, state: Any) -> None:
    return None
