"""Identifier rules, references and cursor paging shared by the data-modeling schema endpoints.

Patterns and reserved words are the ones the OpenAPI document gives for spaces, external ids,
versions and property identifiers.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from cdf_emulator.bodies import check_fields
from cdf_emulator.errors import ApiError

SPACE_PATTERN = re.compile(r"^[a-zA-Z][a-zA-Z0-9_-]{0,41}[a-zA-Z0-9]?$")
RESERVED_SPACES = frozenset({"space", "cdf", "dms", "pg3", "shared", "system", "node", "edge"})
EXTERNAL_ID_PATTERN = re.compile(r"^[a-zA-Z]([a-zA-Z0-9_]{0,253}[a-zA-Z0-9])?$")
VERSION_PATTERN = re.compile(r"^[a-zA-Z0-9]([.a-zA-Z0-9_-]{0,41}[a-zA-Z0-9])?$")
PROPERTY_ID_PATTERN = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_-]{0,253}[a-zA-Z0-9]?$")
RESERVED_PROPERTY_IDS = frozenset(
    {
        "space",
        "externalId",
        "createdTime",
        "lastUpdatedTime",
        "deletedTime",
        "edge_id",
        "node_id",
        "project_id",
        "property_group",
        "seq",
        "tg_table_name",
        "extensions",
    }
)
RESERVED_TYPE_IDS = frozenset(
    {
        "Query",
        "Mutation",
        "Subscription",
        "String",
        "Int32",
        "Int64",
        "Int",
        "Float32",
        "Float64",
        "Float",
        "Timestamp",
        "JSONObject",
        "Date",
        "Numeric",
        "Boolean",
        "PageInfo",
        "File",
        "Sequence",
        "TimeSeries",
    }
)
NAME_MAX = 255
DESCRIPTION_MAX = 1024
MAX_ITEMS = 100
MAX_PROPERTIES = 100

ViewKey = tuple[str, str, str]
ContainerKey = tuple[str, str]
T = TypeVar("T")


def check_space(value: Any, field: str, *, creating: bool = False) -> str:
    """A space id; ``creating`` also rejects the reserved space names."""
    if not isinstance(value, str) or not SPACE_PATTERN.match(value):
        raise ApiError(400, f"Invalid space identifier '{value}' at '{field}': must match {SPACE_PATTERN.pattern}")
    if creating and value in RESERVED_SPACES:
        raise ApiError(400, f"Space identifier '{value}' is reserved")
    return value


def check_external_id(value: Any, field: str, *, type_id: bool = False) -> str:
    """A schema external id (container, view, data model); views and containers also reserve type names."""
    if not isinstance(value, str) or not EXTERNAL_ID_PATTERN.match(value):
        raise ApiError(400, f"Invalid externalId '{value}' at '{field}': must match {EXTERNAL_ID_PATTERN.pattern}")
    if type_id and value in RESERVED_TYPE_IDS:
        raise ApiError(400, f"externalId '{value}' at '{field}' is reserved")
    return value


def check_version(value: Any, field: str) -> str:
    if not isinstance(value, str) or not VERSION_PATTERN.match(value):
        raise ApiError(400, f"Invalid version '{value}' at '{field}': must match {VERSION_PATTERN.pattern}")
    return value


def check_property_id(value: str, field: str) -> str:
    if not PROPERTY_ID_PATTERN.match(value) or len(value) > 255:
        raise ApiError(400, f"Invalid property identifier '{value}' at '{field}'")
    if value in RESERVED_PROPERTY_IDS:
        raise ApiError(400, f"Property identifier '{value}' at '{field}' is reserved")
    return value


def check_text(obj: dict[str, Any], key: str, maximum: int, where: str) -> None:
    """Optional ``name``/``description`` strings with their documented maximum lengths."""
    value = obj.get(key)
    if value is None:
        return
    if not isinstance(value, str):
        raise ApiError(400, f"Invalid type for field '{where}.{key}': expected a string")
    if len(value) > maximum:
        raise ApiError(400, f"'{where}.{key}' must be at most {maximum} characters")


def check_bool(obj: dict[str, Any], key: str, default: bool, where: str) -> bool:
    value = obj.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ApiError(400, f"Invalid type for field '{where}.{key}': expected a boolean")
    return value


def copy_texts(source: dict[str, Any], target: dict[str, Any]) -> dict[str, Any]:
    """Copy ``name`` and ``description`` when they are set."""
    for key in ("name", "description"):
        if source.get(key) is not None:
            target[key] = source[key]
    return target


def parse_view_ref(obj: Any, where: str, *, version_required: bool = True) -> tuple[str, str, str | None]:
    """A ``ViewReference`` (``type`` may be left out, as some clients do)."""
    check_fields(obj, ("type", "space", "externalId", "version"), ("space", "externalId"), where)
    if obj.get("type", "view") != "view":
        raise ApiError(400, f"Expected a view reference at '{where}', got type '{obj.get('type')}'")
    version = obj.get("version")
    if version is None and version_required:
        raise ApiError(400, f"Missing required field '{where}.version'")
    return (
        check_space(obj["space"], f"{where}.space"),
        check_external_id(obj["externalId"], f"{where}.externalId"),
        None if version is None else check_version(version, f"{where}.version"),
    )


def parse_container_ref(obj: Any, where: str) -> ContainerKey:
    """A ``ContainerReference`` (``type`` may be left out)."""
    check_fields(obj, ("type", "space", "externalId"), ("space", "externalId"), where)
    if obj.get("type", "container") != "container":
        raise ApiError(400, f"Expected a container reference at '{where}', got type '{obj.get('type')}'")
    return check_space(obj["space"], f"{where}.space"), check_external_id(obj["externalId"], f"{where}.externalId")


def view_ref(key: Sequence[str]) -> dict[str, str]:
    return {"type": "view", "space": key[0], "externalId": key[1], "version": key[2]}


def container_ref(key: Sequence[str]) -> dict[str, str]:
    return {"type": "container", "space": key[0], "externalId": key[1]}


def encode_cursor(position: Sequence[Any]) -> str:
    """An opaque cursor for the item after ``position`` (the sort key of the last item returned)."""
    raw = json.dumps(["dms-schema", list(position)], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        tag, position = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise ApiError(400, "Invalid cursor provided.") from None
    if tag != "dms-schema" or not isinstance(position, list):
        raise ApiError(400, "Invalid cursor provided.")
    return position


def paginate(
    items: list[T], sort_key: Callable[[T], list[Any]], limit: int, cursor: str | None
) -> tuple[list[T], str | None]:
    """One page of ``items`` in ``sort_key`` order, starting after ``cursor``; returns the page and the next cursor."""
    ordered = sorted(items, key=sort_key)
    if cursor:
        after = decode_cursor(cursor)
        try:
            ordered = [item for item in ordered if sort_key(item) > after]
        except TypeError:
            raise ApiError(400, "Invalid cursor provided.") from None
    page = ordered[:limit]
    next_cursor = encode_cursor(sort_key(page[-1])) if len(ordered) > limit else None
    return page, next_cursor
