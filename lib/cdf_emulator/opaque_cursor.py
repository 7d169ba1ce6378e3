"""Opaque paging cursors for the RAW, extraction-pipeline and time-series endpoints.

A cursor is URL-safe base64 of a small JSON object tagged with the endpoint family that issued it, so a cursor
from one list cannot be replayed against another. Cursors hold positions (a last key or id), not offsets, so a
write between two pages neither skips nor repeats an item.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from cdf_emulator.errors import ApiError


def encode_cursor(kind: str, state: dict[str, Any]) -> str:
    """A cursor string carrying ``state`` for the endpoint family ``kind``."""
    payload = json.dumps({"k": kind, **state}, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


def decode_cursor(kind: str, cursor: str) -> dict[str, Any]:
    """The state inside ``cursor``; 400 when it is not one this emulator issued for ``kind``."""
    padded = cursor + "=" * (-len(cursor) % 4)
    try:
        state = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise ApiError(400, f"Invalid cursor: {cursor[:64]}") from None
    if not isinstance(state, dict) or state.pop("k", None) != kind:
        raise ApiError(400, f"Invalid cursor: {cursor[:64]}")
    return state
