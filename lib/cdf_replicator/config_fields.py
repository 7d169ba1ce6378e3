"""Strict readers for YAML values: every error is a :class:`ConfigError` naming the dotted path of the field.

Each ``get_*`` reader takes a section (a mapping already checked by :func:`read_mapping`), a key and the section's
path. Values substituted from environment variables arrive as strings, so numeric and boolean readers also
accept a :class:`Substituted` string that spells a number or boolean; a string written in the YAML does not pass
for a number. Errors about string fields never echo the value (it may be a secret); numbers and durations do.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Collection, Mapping
from typing import Any
from urllib.parse import urlsplit

from cdf_replicator.config_model import Secret
from cdf_replicator.config_yaml import Substituted
from cdf_replicator.errors import ConfigError

_MISSING: Any = object()
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def child(path: str, key: object) -> str:
    """The dotted path of ``key`` inside the section at ``path``."""
    return f"{path}.{key}" if path else str(key)


def item(path: str, index: int) -> str:
    """The path of list element ``index`` of the list at ``path``."""
    return f"{path}[{index}]"


def kind(value: object) -> str:
    """How a YAML value's type reads in an error message."""
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def read_mapping(
    value: Any, path: str, allowed: Collection[str], hints: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Check that ``value`` is a mapping whose keys are all in ``allowed``; an empty section reads as ``{}``.

    An unknown key is an error at its own path, with ``hints[key]`` or a "did you mean" suggestion.
    """
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"expected a mapping, got {kind(value)}", path=path)
    for key in value:
        if not isinstance(key, str) or key not in allowed:
            raise ConfigError(_unknown_key(key, allowed, hints or {}), path=child(path, key))
    return value


def _unknown_key(key: object, allowed: Collection[str], hints: Mapping[str, str]) -> str:
    if isinstance(key, str) and key in hints:
        return f"unknown key ({hints[key]})"
    text = str(key)
    for variant in (text.replace("_", "-"), text.replace("-", "_")):
        if variant in allowed:
            return f"unknown key (did you mean '{variant}'?)"
    close = difflib.get_close_matches(text, list(allowed), n=1, cutoff=0.6)
    if close:
        return f"unknown key (did you mean '{close[0]}'?)"
    return "unknown key (expected one of: " + ", ".join(sorted(allowed)) + ")"


def exactly_one(section: Mapping[str, Any], keys: Collection[str], path: str, required: bool = True) -> str | None:
    """The one key of ``keys`` present in ``section``; two or more (or none, when ``required``) is an error."""
    present = [key for key in keys if key in section]
    quoted = " and ".join(f"'{key}'" for key in keys)
    if len(present) > 1:
        return _raise(f"{quoted} are mutually exclusive; give only one", path)
    if not present and required:
        return _raise(f"one of {quoted.replace(' and ', ' or ')} is required", path)
    return present[0] if present else None


def _raise(problem: str, path: str) -> Any:
    raise ConfigError(problem, path=path)


def get_text(
    section: Mapping[str, Any], key: str, path: str, default: Any = _MISSING, allow_empty: bool = False
) -> Any:
    """A string (``default`` when the key is absent; required when no default is given)."""
    value = _present(section, key, path, default)
    if value is default and default is not _MISSING:
        return default
    where = child(path, key)
    if not isinstance(value, str):
        raise ConfigError(f"expected a string, got {kind(value)}", path=where)
    if not value.strip() and not allow_empty:
        raise ConfigError("must not be empty", path=where)
    return str(value)


def get_secret(section: Mapping[str, Any], key: str, path: str) -> Secret:
    """A required secret string, wrapped so that it never shows in repr, str or logs."""
    return Secret(get_text(section, key, path))


def get_url(section: Mapping[str, Any], key: str, path: str, default: Any = _MISSING) -> Any:
    """An ``http(s)://host[...]`` URL without a trailing slash."""
    value = get_text(section, key, path, default)
    if value is default and default is not _MISSING:
        return default
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"expected an http(s) URL like 'https://host', got '{value}'", path=child(path, key))
    return value.strip().rstrip("/")


def get_int(
    section: Mapping[str, Any],
    key: str,
    path: str,
    default: Any = _MISSING,
    minimum: int | None = None,
    maximum: int | None = None,
) -> Any:
    """An integer in ``[minimum, maximum]``; a variable's value like ``"42"`` also counts."""
    value = _present(section, key, path, default)
    if value is default and default is not _MISSING:
        return default
    where = child(path, key)
    if isinstance(value, Substituted) and re.fullmatch(r"\s*[-+]?\d+\s*", value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"expected an integer, got {_describe(value)}", path=where)
    if minimum is not None and value < minimum:
        raise ConfigError(f"must be at least {minimum}, got {value}", path=where)
    if maximum is not None and value > maximum:
        raise ConfigError(f"must be at most {maximum}, got {value}", path=where)
    return value


def get_seconds(section: Mapping[str, Any], key: str, path: str, default: Any = _MISSING, positive: bool = True) -> Any:
    """Seconds as a number (``900``, ``0.5``) or a duration string (``15m``, ``1h30m``, ``2d``, ``500ms``)."""
    value = _present(section, key, path, default)
    if value is default and default is not _MISSING:
        return default
    where = child(path, key)
    seconds = _parse_seconds(value)
    if seconds is None:
        raise ConfigError(f"expected seconds or a duration like '15m' or '1h30m', got {_describe(value)}", path=where)
    if seconds < 0 or (positive and seconds == 0):
        raise ConfigError(f"must be {'greater than 0' if positive else 'at least 0'}, got {value}", path=where)
    return seconds


def _parse_seconds(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    if not isinstance(value, str):
        return None
    text = value.strip().replace(" ", "")
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return float(text)
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(number + unit for number, unit in parts) != text:
        return None
    return sum(float(number) * _DURATION_UNITS[unit] for number, unit in parts)


def get_bool(section: Mapping[str, Any], key: str, path: str, default: Any = _MISSING) -> Any:
    """A boolean; a variable's value ``true/false/yes/no/on/off/1/0`` also counts."""
    value = _present(section, key, path, default)
    if value is default and default is not _MISSING:
        return default
    if isinstance(value, Substituted) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    if not isinstance(value, bool):
        raise ConfigError(f"expected a boolean (true or false), got {_describe(value)}", path=child(path, key))
    return value


def get_text_list(section: Mapping[str, Any], key: str, path: str, allow_empty: bool = False) -> tuple[str, ...] | None:
    """An optional list of distinct non-empty strings (None when the key is absent)."""
    if key not in section:
        return None
    where = child(path, key)
    values = section[key]
    if not isinstance(values, list):
        raise ConfigError(f"expected a list of strings, got {kind(values)}", path=where)
    if not values and not allow_empty:
        raise ConfigError("empty list; leave the key out instead", path=where)
    result: list[str] = []
    for index, value in enumerate(values):
        if not isinstance(value, str):
            raise ConfigError(f"expected a string, got {kind(value)}", path=item(where, index))
        if not value.strip():
            raise ConfigError("must not be empty", path=item(where, index))
        if value in result:
            raise ConfigError(f"'{value}' is listed twice", path=item(where, index))
        result.append(str(value))
    return tuple(result)


def get_log_level(section: Mapping[str, Any], key: str, path: str, default: str = "INFO") -> str:
    """A logging level name (any case), returned upper-case."""
    level = get_text(section, key, path, default).strip().upper()
    if level not in LOG_LEVELS:
        raise ConfigError(f"expected one of {', '.join(LOG_LEVELS)}, got '{level}'", path=child(path, key))
    return str(level)


def _present(section: Mapping[str, Any], key: str, path: str, default: Any) -> Any:
    value = section.get(key)
    # An optional key whose variable is empty (`${PIPELINE:-}`) counts as absent, so one file serves both cases.
    if isinstance(value, Substituted) and not value.strip() and default is not _MISSING:
        return default
    if value is not None:
        return value
    if default is _MISSING:
        raise ConfigError(
            "required key missing" if key not in section else "required value is empty", path=child(path, key)
        )
    return default


def _describe(value: Any) -> str:
    if isinstance(value, str):
        return f"the string '{value}'"
    return kind(value)
