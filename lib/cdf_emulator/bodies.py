"""Request-body checks that answer the way CDF does: 400 naming the offending field."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cdf_emulator.errors import ApiError


def check_fields(obj: Any, allowed: Iterable[str], required: Iterable[str] = (), where: str = "") -> dict[str, Any]:
    """Reject a non-object, unknown keys and missing required keys; returns the object."""
    prefix = f"{where}." if where else ""
    if not isinstance(obj, dict):
        raise ApiError(400, f"Expected an object at '{where or 'body'}'")
    allowed_set = set(allowed)
    for key in obj:
        if key not in allowed_set:
            raise ApiError(400, f"Unrecognized field '{prefix}{key}'")
    for key in required:
        if obj.get(key) is None:
            raise ApiError(400, f"Missing required field '{prefix}{key}'")
    return obj


def check_items(body: dict[str, Any], maximum: int, minimum: int = 1, key: str = "items") -> list[Any]:
    """The ``items`` list of a request, bounded as the API documents."""
    items = body.get(key)
    if not isinstance(items, list):
        raise ApiError(400, f"Missing required field '{key}'")
    if not minimum <= len(items) <= maximum:
        raise ApiError(400, f"'{key}' must contain between {minimum} and {maximum} elements, got {len(items)}")
    return items


def check_limit(value: Any, default: int, maximum: int, minimum: int = 1, field: str = "limit") -> int:
    """A ``limit`` in a body: CDF answers 400 above the maximum instead of clamping."""
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError(400, f"'{field}' must be an integer")
    if not minimum <= value <= maximum:
        raise ApiError(400, f"'{field}' must be between {minimum} and {maximum}, got {value}")
    return value


def check_type(value: Any, kind: type | tuple[type, ...], field: str) -> Any:
    if isinstance(value, bool) and kind is not bool and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise ApiError(400, f"Invalid type for field '{field}'")
    if not isinstance(value, kind):
        raise ApiError(400, f"Invalid type for field '{field}'")
    return value
