"""Validates emulator responses against the OpenAPI document's response schemas (to be completed)."""

from __future__ import annotations

from typing import Any


class ResponseValidator:
    """Collects schema violations of responses, keyed by path, method and status."""

    def __init__(self) -> None:
        self.violations: list[str] = []

    def check(self, method: str, path: str, response: Any) -> None:
        return None
