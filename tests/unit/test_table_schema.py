"""Schema evolution rules, without Spark: what is added, what widens, what is refused and how the error reads."""

from __future__ import annotations

import pytest
from pyspark.sql.types import (
    ArrayType,
    DateType,
    DoubleType,
    FloatType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from cdf_replicator.errors import SchemaChangeError
from cdf_replicator.table_schema import SchemaDiff, diff_schemas, sql_type, type_relation, widest_type

REF = StructType([StructField("space", StringType()), StructField("externalId", StringType())])


def schema(**columns: object) -> StructType:
    return StructType([StructField(name, data_type, True) for name, data_type in columns.items()])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("old", "new", "relation"),
    [
        (IntegerType(), IntegerType(), "same"),
        (IntegerType(), LongType(), "widen"),
        (FloatType(), DoubleType(), "widen"),
        (LongType(), IntegerType(), "same"),  # already widened: int values still fit
        (DoubleType(), FloatType(), "same"),
        (ArrayType(IntegerType()), ArrayType(LongType()), "widen"),
        (ArrayType(IntegerType(), False), ArrayType(IntegerType(), True), "same"),
        (REF, REF, "same"),
        (IntegerType(), DoubleType(), "incompatible"),
        (LongType(), DoubleType(), "incompatible"),
        (StringType(), LongType(), "incompatible"),
        (TimestampType(), DateType(), "incompatible"),
        (ArrayType(StringType()), StringType(), "incompatible"),
        (REF, StringType(), "incompatible"),
        (REF, StructType([StructField("space", StringType())]), "incompatible"),
    ],
)
def test_type_relation(old: object, new: object, relation: str) -> None:
    assert type_relation(old, new) == relation  # type: ignore[arg-type]


def test_diff_adds_new_columns_as_nullable_and_widens_in_place() -> None:
    current = schema(space=StringType(), count=IntegerType(), score=FloatType(), gone=StringType())
    wanted = StructType(
        [
            StructField("space", StringType(), False),
            StructField("Count", LongType(), False),  # Spark resolves names case-insensitively
            StructField("score", FloatType(), True),
            StructField("tags", ArrayType(StringType()), False),
        ]
    )
    assert diff_schemas(current, wanted) == SchemaDiff(
        added=(StructField("tags", ArrayType(StringType()), True),),
        widened=(StructField("count", LongType(), True),),
    )


def test_widest_type_never_narrows_a_struct_field() -> None:
    old = StructType([StructField("a", LongType()), StructField("b", FloatType())])
    new = StructType([StructField("a", IntegerType()), StructField("b", DoubleType())])
    assert widest_type(old, new) == StructType([StructField("a", LongType()), StructField("b", DoubleType())])


def test_an_incompatible_change_names_column_types_and_the_reset_command() -> None:
    with pytest.raises(SchemaChangeError) as raised:
        diff_schemas(schema(title=StringType()), schema(title=ArrayType(StringType())), "s3a://b/raw/t", "sp/M/1/Movie")
    assert str(raised.value) == (
        "s3a://b/raw/t: column 'title' changed type from string to array<string>, which cannot be converted without "
        "loss; reprocess the view with `cdf-replicator reset-view --view sp/M/1/Movie --drop-tables`"
    )


def test_sql_type_spells_nested_types_for_ddl() -> None:
    assert sql_type(LongType()) == "BIGINT"
    assert sql_type(ArrayType(REF)) == "ARRAY<STRUCT<`space`: STRING, `externalId`: STRING>>"
    assert sql_type(TimestampType()) == "TIMESTAMP"
