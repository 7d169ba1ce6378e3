"""Value checks shared by the classic-resource endpoints; each raises a 400 naming the field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cdf_emulator.errors import ApiError

MAX_SAFE_INT = 9007199254740991
Check = Callable[[Any, str], Any]


def string(max_length: int, min_length: int = 0) -> Check:
    """A string of ``min_length..max_length`` characters."""

    def check(value: Any, where: str) -> str:
        if not isinstance(value, str):
            raise ApiError(400, f"Invalid type for field '{where}': expected a string")
        if not min_length <= len(value) <= max_length:
            raise ApiError(400, f"'{where}' must have between {min_length} and {max_length} characters")
        return value

    return check


def integer(minimum: int = 0, maximum: int = MAX_SAFE_INT) -> Check:
    """An integer (never a boolean) in ``minimum..maximum``."""

    def check(value: Any, where: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ApiError(400, f"Invalid type for field '{where}': expected an integer")
        if not minimum <= value <= maximum:
            raise ApiError(400, f"'{where}' must be between {minimum} and {maximum}, got {value}")
        return value

    return check


def boolean(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ApiError(400, f"Invalid type for field '{where}': expected a boolean")
    return value


def string_map(max_key: int = 128, max_value: int = 10240, max_pairs: int = 256) -> Check:
    """A JSON object of string values, as classic ``metadata`` is."""

    def check(value: Any, where: str) -> dict[str, str]:
        if not isinstance(value, dict):
            raise ApiError(400, f"Invalid type for field '{where}': expected an object")
        if len(value) > max_pairs:
            raise ApiError(400, f"'{where}' can have at most {max_pairs} keys")
        for key, item in value.items():
            if not isinstance(item, str):
                raise ApiError(400, f"Invalid type for field '{where}.{key}': metadata values must be strings")
            if len(key) > max_key or len(item) > max_value:
                raise ApiError(400, f"'{where}.{key}' is too long")
        return dict(value)

    return check


def list_of(element: Check, max_items: int = 1000) -> Check:
    """A JSON array whose elements pass ``element``."""

    def check(value: Any, where: str) -> list[Any]:
        if not isinstance(value, list):
            raise ApiError(400, f"Invalid type for field '{where}': expected an array")
        if len(value) > max_items:
            raise ApiError(400, f"'{where}' can have at most {max_items} elements")
        return [element(item, f"{where}[{index}]") for index, item in enumerate(value)]

    return check


def timestamp_range(value: Any, where: str) -> tuple[int | None, int | None]:
    """A ``{"min", "max"}`` epoch-ms range (both inclusive, as CDF filters are)."""
    if not isinstance(value, dict):
        raise ApiError(400, f"Invalid type for field '{where}': expected an object")
    for key in value:
        if key not in ("min", "max"):
            raise ApiError(400, f"Unrecognized field '{where}.{key}'")
    low = value.get("min")
    high = value.get("max")
    return (
        None if low is None else integer(0, 2**63 - 1)(low, f"{where}.min"),
        None if high is None else integer(0, 2**63 - 1)(high, f"{where}.max"),
    )


def in_range(value: int | None, bounds: tuple[int | None, int | None]) -> bool:
    low, high = bounds
    if value is None:
        return low is None and high is None
    return (low is None or value >= low) and (high is None or value <= high)
