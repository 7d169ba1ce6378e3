"""Placeholder: to be implemented."""

from __future__ import annotations

from typing import Any


def register(router: Any, state: Any) -> None:
    return None
