"""Opaque cursors: compact JSON state, base64url-encoded and checksummed so garbage is recognised."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cdf_emulator.errors import ApiError

INVALID_CURSOR = "Invalid cursor provided."
EXPIRED_CURSOR = "Cursor has expired. Try again with a new cursor."
_KEY = b"cdf-emulator-cursor-v1"


def _digest(payload: bytes) -> str:
    return hashlib.blake2b(payload, key=_KEY, digest_size=6).hexdigest()


def encode_cursor(state: dict[str, Any]) -> str:
    """An opaque string holding ``state`` (small JSON values only)."""
    payload = json.dumps(state, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(payload).decode().rstrip("=") + "." + _digest(payload)


def decode_cursor(text: Any, epoch: str, kind: str) -> dict[str, Any]:
    """The state of a cursor this store issued for ``kind`` (``sync``, ``query`` or ``list``).

    Anything else, including a cursor of another emulator run, answers 400 ``Invalid cursor provided.``
    """
    if not isinstance(text, str) or "." not in text:
        raise ApiError(400, INVALID_CURSOR)
    encoded, _, digest = text.rpartition(".")
    try:
        payload = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        state = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, INVALID_CURSOR) from None
    if _digest(payload) != digest or not isinstance(state, dict):
        raise ApiError(400, INVALID_CURSOR)
    if state.get("e") != epoch or state.get("k") != kind:
        raise ApiError(400, INVALID_CURSOR)
    return state
