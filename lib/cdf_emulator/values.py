"""Property values as CDF checks and stores them: one validator per container property type."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import date, datetime, timezone
from typing import Any

from cdf_emulator.errors import ApiError

INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)
MAX_LIST = 1000
MAX_DIRECT_LIST = 100
MAX_TEXT = 128_000
SPACE_PATTERN = re.compile(r"^[a-zA-Z][a-zA-Z0-9_-]{0,41}[a-zA-Z0-9]?$")
_CANONICAL_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+00:00$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$")


class InvalidValueError(Exception):
    """A value that does not fit its property type; the caller names the instance and property."""


def is_valid_space(space: Any) -> bool:
    return isinstance(space, str) and bool(SPACE_PATTERN.match(space))


def is_valid_external_id(xid: Any) -> bool:
    return isinstance(xid, str) and 1 <= len(xid) <= 256 and "\x00" not in xid


def direct_key(value: Any) -> tuple[str, str]:
    """A direct relation reference ``{"space", "externalId"}`` as a key tuple."""
    if not isinstance(value, dict) or set(value) - {"space", "externalId"}:
        raise InvalidValueError("expected a direct relation {space, externalId}")
    space, xid = value.get("space"), value.get("externalId")
    if not is_valid_space(space) or not is_valid_external_id(xid):
        raise InvalidValueError("expected a direct relation with a valid space and externalId")
    return str(space), str(xid)


def timestamp_to_ms(text: str) -> int:
    """Parse CDF's ISO 8601 timestamp form into epoch milliseconds."""
    if not isinstance(text, str) or not _TIMESTAMP.match(text):
        raise InvalidValueError("expected a timestamp such as 2020-03-14T15:09:26.535+00:00")
    normalized = text[:-1] + "+00:00" if text.endswith("Z") else text
    if "." in normalized:
        head, _, rest = normalized.partition(".")
        digits = re.match(r"\d+", rest)
        assert digits is not None  # the pattern above guarantees digits after the dot
        fraction = digits.group(0)
        normalized = head + "." + (fraction + "000000")[:6] + rest[len(fraction) :]
    try:
        parsed = datetime.fromisoformat(normalized)
    except ValueError as error:
        raise InvalidValueError(f"invalid timestamp: {error}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return _exact_ms(parsed)


def _exact_ms(parsed: datetime) -> int:
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    delta = parsed - epoch
    return (delta.days * 86400 + delta.seconds) * 1000 + delta.microseconds // 1000


def ms_to_timestamp(ms: int) -> str:
    """Epoch milliseconds in the form CDF returns: ``2020-03-14T15:09:26.535+00:00``."""
    moment = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}+00:00"


def _text(value: Any, ptype: dict[str, Any]) -> Any:
    if not isinstance(value, str):
        raise InvalidValueError("expected text")
    if len(value) > MAX_TEXT and len(value) > int(ptype.get("maxTextSize") or MAX_TEXT):
        raise InvalidValueError("text is too long")
    return value


def _integer(bounds: tuple[int, int], name: str) -> Callable[[Any, dict[str, Any]], Any]:
    def check(value: Any, ptype: dict[str, Any]) -> Any:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidValueError(f"expected {name}")
        if not bounds[0] <= value <= bounds[1]:
            raise InvalidValueError(f"{value} is out of range for {name}")
        return value

    return check


def _floating(name: str) -> Callable[[Any, dict[str, Any]], Any]:
    def check(value: Any, ptype: dict[str, Any]) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InvalidValueError(f"expected {name}")
        if isinstance(value, float) and not math.isfinite(value):
            raise InvalidValueError(f"expected a finite {name}")
        return value

    return check


def _boolean(value: Any, ptype: dict[str, Any]) -> Any:
    if not isinstance(value, bool):
        raise InvalidValueError("expected boolean")
    return value


def _timestamp(value: Any, ptype: dict[str, Any]) -> Any:
    if isinstance(value, str) and _CANONICAL_TIMESTAMP.match(value):
        try:
            datetime.fromisoformat(value)  # already in the stored form: only check the calendar
            return value
        except ValueError:
            raise InvalidValueError("invalid timestamp") from None
    return ms_to_timestamp(timestamp_to_ms(value))


def _date(value: Any, ptype: dict[str, Any]) -> Any:
    if not isinstance(value, str) or not _DATE.match(value):
        raise InvalidValueError("expected a date YYYY-MM-DD")
    try:
        date.fromisoformat(value)
    except ValueError:
        raise InvalidValueError("expected a valid calendar date YYYY-MM-DD") from None
    return value


def _json(value: Any, ptype: dict[str, Any]) -> Any:
    if value is None:
        raise InvalidValueError("expected a JSON value")
    return value


def _enum(value: Any, ptype: dict[str, Any]) -> Any:
    values = ptype.get("values") or {}
    if not isinstance(value, str) or value not in values:
        raise InvalidValueError(f"expected one of the enum values {sorted(values)}")
    return value


def _direct(value: Any, ptype: dict[str, Any]) -> Any:
    space, xid = direct_key(value)
    return {"space": space, "externalId": xid}


def _reference(value: Any, ptype: dict[str, Any]) -> Any:
    if not is_valid_external_id(value):
        raise InvalidValueError(f"expected the externalId of a {ptype.get('type')}")
    return value


_CHECKS: dict[str, Callable[[Any, dict[str, Any]], Any]] = {
    "text": _text,
    "int32": _integer(INT32, "int32"),
    "int64": _integer(INT64, "int64"),
    "float32": _floating("float32"),
    "float64": _floating("float64"),
    "boolean": _boolean,
    "timestamp": _timestamp,
    "date": _date,
    "json": _json,
    "enum": _enum,
    "direct": _direct,
    "timeseries": _reference,
    "file": _reference,
    "sequence": _reference,
}


Normalizer = Callable[[Any], Any]


def value_normalizer(ptype: dict[str, Any]) -> Normalizer:
    """A function that checks a value against a property type and returns its stored form.

    ``None`` (null) passes through. The function raises :class:`InvalidValueError` with a reason; the
    caller turns it into a 400 that names the instance and the property.
    """
    kind = ptype.get("type")
    check = _CHECKS.get(str(kind))
    if check is None:
        raise InvalidValueError(f"unsupported property type {kind!r}")
    if not ptype.get("list"):
        return lambda value: None if value is None else check(value, ptype)
    maximum = int(ptype.get("maxListSize") or (MAX_DIRECT_LIST if kind == "direct" else MAX_LIST))

    def normalize_list(value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, list):
            raise InvalidValueError(f"expected a list of {kind}")
        if len(value) > maximum:
            raise InvalidValueError(f"a list of {kind} holds at most {maximum} items, got {len(value)}")
        if None in value:
            raise InvalidValueError("lists cannot contain null")
        return [check(item, ptype) for item in value]

    return normalize_list


def normalize_value(value: Any, ptype: dict[str, Any]) -> Any:
    """Check ``value`` against a property type; returns the stored form (``None`` means null)."""
    return value_normalizer(ptype)(value)


def direct_keys(value: Any) -> list[tuple[str, str]]:
    """The node keys a stored direct relation value (single or list) points at."""
    items = value if isinstance(value, list) else [value]
    return [(item["space"], item["externalId"]) for item in items if isinstance(item, dict)]


def bad_value(instance: tuple[str, str], prop: str, reason: str) -> ApiError:
    """The 400 CDF answers for a value that does not fit: it names the instance and the property."""
    return ApiError(400, f"Invalid value for property '{prop}' of instance {instance[0]}:{instance[1]}: {reason}")
