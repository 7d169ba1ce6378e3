"""One column of raw JSON values -> one Arrow array of its declared type, strictly and fast.

Pure. The values are exactly what ``json.loads`` made of CDF's response. The happy path checks the set of
Python types of a column at C speed and lets Arrow convert the whole list at once; only when something does
not fit does a slower scan find the first offending value. Nothing is cast silently: pyarrow on its own would
truncate 1.5 to an int, turn ``true`` into 1.0, split a string into a list of characters and fill a missing
struct field with null, so those cases are rejected before Arrow sees them.

A value that does not fit raises :class:`BadValueError` with its index; :mod:`cdf_replicator.rows` turns that into
a :class:`~cdf_replicator.errors.SchemaMappingError` naming the instance and the property.
"""

from __future__ import annotations

import json
import math
import re
from bisect import bisect_right
from collections.abc import Callable
from itertools import accumulate, chain
from operator import itemgetter
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from cdf_replicator import columns as col
from cdf_replicator.schema_mapping import ARROW_REF, ARROW_TIMESTAMP, TYPE_TABLE

NoneType = type(None)
Converter = Callable[[list[Any]], pa.Array]

# What Arrow's string -> timestamp cast parses; anything else that CDF may write is normalized first.
_TIMESTAMP_CANONICAL = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$"
_TIMESTAMP_LOOSE = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})?")
_DATE = r"^\d{4}-\d{2}-\d{2}$"
# One encoder for all values: json.dumps with non-default arguments builds a new encoder per call.
_JSON_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
_GET_SPACE = itemgetter(col.REF_SPACE)
_GET_EXTERNAL_ID = itemgetter(col.REF_EXTERNAL_ID)
_FLOAT32_MAX = 3.4028234663852886e38
_JSON_TYPE_NAMES = {str: "string", bool: "boolean", int: "integer", float: "number", dict: "object", list: "array"}


class BadValueError(Exception):
    """The value at ``index`` of a column does not fit the column's type; ``reason`` says how."""

    def __init__(self, index: int, reason: str) -> None:
        super().__init__(reason)
        self.index = index
        self.reason = reason


def json_type_name(value: object) -> str:
    """The JSON name of a decoded value's type (``string``, ``integer``, ``object``, ...)."""
    return _JSON_TYPE_NAMES.get(type(value), type(value).__name__)


def converter_for(cdf_type: str, is_list: bool) -> Converter:
    """The converter of a CDF property type (a key of the schema mapping's type table)."""
    element = _SCALAR_CONVERTERS[cdf_type]
    if not is_list:
        return element
    arrow_type = pa.list_(TYPE_TABLE[cdf_type][1])
    return lambda values: convert_list(values, element, arrow_type, cdf_type)


def require_present(values: list[Any], array: pa.Array) -> pa.Array:
    """``array`` when it has no nulls; otherwise :class:`BadValueError` for the first missing value."""
    if array.null_count:
        raise BadValueError(values.index(None), "the value is missing")
    return array


def convert_strings(values: list[Any]) -> pa.Array:
    return _convert_primitive(values, (str,), pa.string(), "a string", strict_in_arrow=True)


def convert_int32(values: list[Any]) -> pa.Array:
    return _convert_primitive(values, (int,), pa.int32(), "an int32")


def convert_int64(values: list[Any]) -> pa.Array:
    return _convert_primitive(values, (int,), pa.int64(), "an int64")


def convert_float64(values: list[Any]) -> pa.Array:
    return _convert_primitive(values, (int, float), pa.float64(), "a float64")


def convert_float32(values: list[Any]) -> pa.Array:
    array = _convert_primitive(values, (int, float), pa.float32(), "a float32")
    if array.null_count < len(array) and pc.any(pc.is_inf(array)).as_py():
        for index, value in enumerate(values):
            if value is not None and math.isfinite(value) and abs(value) > _FLOAT32_MAX:
                raise BadValueError(index, "a number too large for float32")
    return array


def convert_booleans(values: list[Any]) -> pa.Array:
    return _convert_primitive(values, (bool,), pa.bool_(), "a boolean", strict_in_arrow=True)


def convert_json(values: list[Any]) -> pa.Array:
    """Any JSON value -> compact JSON text (key order kept as CDF sent it)."""
    encode = _JSON_ENCODER.encode
    texts = [None if value is None else encode(value) for value in values]
    return pa.array(texts, type=pa.string())


def convert_timestamps(values: list[Any]) -> pa.Array:
    """``YYYY-MM-DDTHH:MM:SS[.fff][Z|±HH:MM]`` -> UTC microseconds; no offset means UTC."""
    strings = _convert_primitive(values, (str,), pa.string(), "a timestamp string", strict_in_arrow=True)
    if not _all_match(strings, _TIMESTAMP_CANONICAL):
        strings = pa.array(
            [None if v is None else _canonical_timestamp(i, v) for i, v in enumerate(values)], pa.string()
        )
    return _cast_strings(strings, ARROW_TIMESTAMP, "a valid timestamp")


def convert_dates(values: list[Any]) -> pa.Array:
    """``YYYY-MM-DD`` -> date."""
    strings = _convert_primitive(values, (str,), pa.string(), "a date string", strict_in_arrow=True)
    if not _all_match(strings, _DATE):
        raise _first_bad(values, lambda v: re.fullmatch(_DATE, v) is not None, "a date YYYY-MM-DD", format_check=True)
    return _cast_strings(strings, pa.date32(), "a valid date")


def convert_refs(values: list[Any]) -> pa.Array:
    """``{"space", "externalId"}`` objects (or null) -> struct<space, externalId>."""
    _check_types(values, (dict,), "an object {space, externalId}")
    nulls = values.count(None)
    try:
        if nulls:
            spaces = pa.array([None if v is None else v.get(col.REF_SPACE) for v in values], pa.string())
            external_ids = pa.array([None if v is None else v.get(col.REF_EXTERNAL_ID) for v in values], pa.string())
        else:
            spaces = pa.array(list(map(_GET_SPACE, values)), pa.string())
            external_ids = pa.array(list(map(_GET_EXTERNAL_ID, values)), pa.string())
    except (pa.ArrowTypeError, KeyError):
        raise _first_bad(values, _is_ref, "an object {space, externalId} of strings") from None
    if spaces.null_count != nulls or external_ids.null_count != nulls:
        raise _first_bad(values, _is_ref, "an object {space, externalId} of strings")
    mask = pa.array([v is None for v in values], pa.bool_()) if nulls else None
    return pa.StructArray.from_arrays([spaces, external_ids], fields=list(ARROW_REF), mask=mask)


def convert_list(values: list[Any], element: Converter, arrow_type: pa.DataType, element_name: str) -> pa.Array:
    """Arrays (or null) -> a list array, converting all elements of the column in one go."""
    _check_types(values, (list,), f"an array of {element_name}")
    offsets = list(accumulate([len(v) if v else 0 for v in values], initial=0))
    flat = list(chain.from_iterable(filter(None, values)))
    try:
        flat_array = element(flat)
    except BadValueError as bad:
        row = bisect_right(offsets, bad.index) - 1
        raise BadValueError(row, f"element {bad.index - offsets[row]}: {bad.reason}") from None
    mask = pa.array([v is None for v in values], pa.bool_()) if None in values else None
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), flat_array, type=arrow_type, mask=mask)


def _convert_primitive(
    values: list[Any],
    allowed: tuple[type, ...],
    arrow_type: pa.DataType,
    expected: str,
    *,
    strict_in_arrow: bool = False,
) -> pa.Array:
    """Check the Python types (unless Arrow itself rejects every other type for ``arrow_type``), then convert."""
    if not strict_in_arrow:
        _check_types(values, allowed, expected)
    try:
        return pa.array(values, type=arrow_type)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        _check_types(values, allowed, expected)
        raise _first_unconvertible(values, arrow_type, f"{expected} in range") from None


def _check_types(values: list[Any], allowed: tuple[type, ...], expected: str) -> None:
    if not _only_types(values, allowed):
        raise _first_bad(values, lambda v: type(v) in allowed, expected)


def _only_types(values: list[Any], allowed: tuple[type, ...]) -> bool:
    kinds = set(map(type, values))
    kinds.discard(NoneType)
    return kinds.issubset(allowed)


def _first_bad(
    values: list[Any], fits: Callable[[Any], bool], expected: str, *, format_check: bool = False
) -> BadValueError:
    """The first non-null value that does not fit; a format check reports strings as such, not as their type."""
    for index, value in enumerate(values):
        if value is not None and not fits(value):
            got = "a string in another format" if format_check and isinstance(value, str) else json_type_name(value)
            return BadValueError(index, f"expected {expected}, got {got}")
    raise AssertionError("a column failed its check but no value is at fault")


def _first_unconvertible(values: list[Any], arrow_type: pa.DataType, expected: str) -> BadValueError:
    def fits(value: Any) -> bool:
        try:
            pa.array([value], type=arrow_type)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            return False
        return True

    return _first_bad(values, fits, expected)


def _is_ref(value: Any) -> bool:
    return type(value) is dict and type(value.get(col.REF_SPACE)) is str and type(value.get(col.REF_EXTERNAL_ID)) is str


def _all_match(strings: pa.Array, pattern: str) -> bool:
    return strings.null_count == len(strings) or bool(pc.all(pc.match_substring_regex(strings, pattern)).as_py())


def _canonical_timestamp(index: int, value: str) -> str:
    """CDF's looser timestamp forms in the one form Arrow parses: fraction cut to microseconds, UTC if no offset."""
    match = _TIMESTAMP_LOOSE.fullmatch(value)
    if match is None:
        raise BadValueError(
            index, "expected a timestamp YYYY-MM-DDTHH:MM:SS[.fff][Z|±HH:MM], got a string in another format"
        )
    seconds, fraction, offset = match.groups()
    return f"{seconds}{'.' + fraction[:6] if fraction else ''}{offset or 'Z'}"


def _cast_strings(strings: pa.Array, arrow_type: pa.DataType, expected: str) -> pa.Array:
    try:
        return strings.cast(arrow_type)
    except pa.ArrowInvalid:
        values = strings.to_pylist()

        def fits(value: str) -> bool:
            try:
                pa.array([value], pa.string()).cast(arrow_type)
            except pa.ArrowInvalid:
                return False
            return True

        raise _first_bad(values, fits, expected, format_check=True) from None


_SCALAR_CONVERTERS: dict[str, Converter] = {
    "text": convert_strings,
    "enum": convert_strings,
    "int32": convert_int32,
    "int64": convert_int64,
    "float32": convert_float32,
    "float64": convert_float64,
    "boolean": convert_booleans,
    "timestamp": convert_timestamps,
    "date": convert_dates,
    "json": convert_json,
    "direct": convert_refs,
    "timeseries": convert_strings,
    "file": convert_strings,
    "sequence": convert_strings,
}
