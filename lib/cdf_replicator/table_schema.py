"""Pure schema comparison for table evolution: which columns to add, which to widen, which changes to refuse.

Only lossless changes are applied: ``int -> long`` and ``float -> double`` (also inside arrays and structs).
A column whose type in the view got *narrower* than the table's (after an earlier widening) is left alone: its
values still fit. Names are compared case-insensitively, like Spark and Delta resolve them by default.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pyspark.sql.types import (
    ArrayType,
    DataType,
    DoubleType,
    FloatType,
    IntegerType,
    LongType,
    MapType,
    StructField,
    StructType,
)

from cdf_replicator.errors import SchemaChangeError

Relation = Literal["same", "widen", "incompatible"]
_WIDENINGS: frozenset[tuple[type[DataType], type[DataType]]] = frozenset(
    {(IntegerType, LongType), (FloatType, DoubleType)}
)
VIEW_PLACEHOLDER = "<space>/<model>/<version>/<view>"


@dataclass(frozen=True)
class SchemaDiff:
    """Columns of the wanted schema missing from the table, and columns whose type must widen (new type)."""

    added: tuple[StructField, ...] = ()
    widened: tuple[StructField, ...] = ()


def diff_schemas(current: StructType, wanted: StructType, table: str = "", view_id: str | None = None) -> SchemaDiff:
    """Compare a table's schema with the schema its view now maps to.

    Raises ``SchemaChangeError`` for the first column whose type cannot change losslessly, naming the column, both
    types and the ``reset-view`` command that reprocesses the view (``view_id`` is ``space/model/version/view``).
    """
    existing = {field.name.lower(): field for field in current.fields}
    added: list[StructField] = []
    widened: list[StructField] = []
    for field in wanted.fields:
        old = existing.get(field.name.lower())
        if old is None:
            added.append(StructField(field.name, field.dataType, True, field.metadata))
            continue
        relation = type_relation(old.dataType, field.dataType)
        if relation == "widen":
            widened.append(StructField(old.name, widest_type(old.dataType, field.dataType), old.nullable, old.metadata))
        elif relation == "incompatible":
            raise SchemaChangeError(
                f"{table or 'table'}: column {old.name!r} changed type from {old.dataType.simpleString()} to "
                f"{field.dataType.simpleString()}, which cannot be converted without loss; reprocess the view with "
                f"`cdf-replicator reset-view --view {view_id or VIEW_PLACEHOLDER} --drop-tables`"
            )
    return SchemaDiff(tuple(added), tuple(widened))


def type_relation(old: DataType, new: DataType) -> Relation:
    """``same`` when ``new`` values fit the ``old`` column, ``widen`` when the column must become ``new``."""
    if isinstance(old, ArrayType) and isinstance(new, ArrayType):
        return type_relation(old.elementType, new.elementType)
    if isinstance(old, StructType) and isinstance(new, StructType):
        return _struct_relation(old, new)
    if isinstance(old, MapType) and isinstance(new, MapType):
        relations = {type_relation(old.keyType, new.keyType), type_relation(old.valueType, new.valueType)}
        return _combine(relations)
    if type(old) is type(new) and old == new:
        return "same"
    if (type(old), type(new)) in _WIDENINGS:
        return "widen"
    if (type(new), type(old)) in _WIDENINGS:
        return "same"
    return "incompatible"


def _struct_relation(old: StructType, new: StructType) -> Relation:
    if [f.name.lower() for f in old.fields] != [f.name.lower() for f in new.fields]:
        return "incompatible"
    return _combine({type_relation(o.dataType, n.dataType) for o, n in zip(old.fields, new.fields, strict=True)})


def _combine(relations: set[Relation]) -> Relation:
    if "incompatible" in relations:
        return "incompatible"
    return "widen" if "widen" in relations else "same"


def widest_type(old: DataType, new: DataType) -> DataType:
    """The type holding the values of both ``old`` and ``new``, for a pair ``type_relation`` does not refuse."""
    if isinstance(old, ArrayType) and isinstance(new, ArrayType):
        return ArrayType(widest_type(old.elementType, new.elementType), old.containsNull)
    if isinstance(old, StructType) and isinstance(new, StructType):
        fields = [
            StructField(o.name, widest_type(o.dataType, n.dataType), o.nullable, o.metadata)
            for o, n in zip(old.fields, new.fields, strict=True)
        ]
        return StructType(fields)
    if isinstance(old, MapType) and isinstance(new, MapType):
        key, value = widest_type(old.keyType, new.keyType), widest_type(old.valueType, new.valueType)
        return MapType(key, value, old.valueContainsNull)
    return new if (type(old), type(new)) in _WIDENINGS else old


def sql_type(data_type: DataType) -> str:
    """The SQL DDL spelling of a Spark type, for ``ALTER TABLE ... ADD COLUMNS`` (``ARRAY<BIGINT>``...)."""
    if isinstance(data_type, StructType):
        fields = ", ".join(f"`{f.name.replace('`', '``')}`: {sql_type(f.dataType)}" for f in data_type.fields)
        return f"STRUCT<{fields}>"
    if isinstance(data_type, ArrayType):
        return f"ARRAY<{sql_type(data_type.elementType)}>"
    if isinstance(data_type, MapType):
        return f"MAP<{sql_type(data_type.keyType)}, {sql_type(data_type.valueType)}>"
    return data_type.simpleString().upper()
