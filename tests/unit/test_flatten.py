"""The flat publish schema, computed from a table schema without a Spark session (frames: tests/spark)."""

from __future__ import annotations

import pytest
from pyspark.sql.types import (
    ArrayType,
    BooleanType,
    DataType,
    DateType,
    DoubleType,
    FloatType,
    IntegerType,
    LongType,
    MapType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from cdf_replicator.flatten import flat_schema, is_reference, plan_flat_columns
from cdf_replicator.schema_mapping import SPARK_REF
from tests.publish_support import EDGE_COLUMNS, NODE_COLUMNS, edge_schema, node_schema

ARROW_TO_SPARK: dict[str, DataType] = {
    "string": StringType(),
    "int64": LongType(),
    "int32": IntegerType(),
    "float": FloatType(),
    "double": DoubleType(),
    "bool": BooleanType(),
    "timestamp[us, tz=UTC]": TimestampType(),
    "date32[day]": DateType(),
}


def expected_columns(columns: list[tuple[str, object]]) -> list[tuple[str, DataType]]:
    return [(name, ARROW_TO_SPARK[str(arrow_type)]) for name, arrow_type in columns]


def names_and_types(schema: StructType) -> list[tuple[str, DataType]]:
    return [(field.name, field.dataType) for field in schema.fields]


@pytest.mark.parametrize(
    ("schema", "expected"),
    [(node_schema(), NODE_COLUMNS), (edge_schema(), EDGE_COLUMNS)],
    ids=["nodes", "edges"],
)
def test_the_flat_schema_of_a_view_table_is_the_documented_one(schema: StructType, expected: list) -> None:
    assert names_and_types(flat_schema(schema, ["metas"])) == expected_columns(expected)


def test_references_expand_in_place_and_keep_nullability() -> None:
    schema = StructType(
        [
            StructField("startNode", SPARK_REF, False),
            StructField("n", LongType(), False),
        ]
    )
    assert flat_schema(schema) == StructType(
        [
            StructField("startNode.space", StringType(), True),
            StructField("startNode.externalId", StringType(), True),
            StructField("n", LongType(), False),
        ]
    )
    strict_ref = StructType([StructField("space", StringType(), False), StructField("externalId", StringType(), False)])
    strict = flat_schema(StructType([StructField("endNode", strict_ref, False)]))
    assert [field.nullable for field in strict.fields] == [False, False]


def test_arrays_maps_and_other_structs_become_json_text_and_the_deleted_flag_goes() -> None:
    other = StructType([StructField("a", IntegerType()), StructField("b", StringType())])
    schema = StructType(
        [
            StructField("xs", ArrayType(LongType())),
            StructField("m", MapType(StringType(), LongType())),
            StructField("s", other),
            StructField("ts", TimestampType()),
            StructField("_deleted", BooleanType(), False),
        ]
    )
    plan = plan_flat_columns(schema)
    assert [(c.name, c.operation, c.data_type) for c in plan] == [
        ("xs", "json", StringType()),
        ("m", "json", StringType()),
        ("s", "json", StringType()),
        ("ts", "keep", TimestampType()),
    ]


def test_json_columns_only_change_arrays_of_text() -> None:
    schema = StructType([StructField("metas", ArrayType(StringType())), StructField("meta", StringType())])
    assert [c.operation for c in plan_flat_columns(schema, ["METAS", "meta"])] == ["json_list", "keep"]


def test_colliding_flat_names_are_refused() -> None:
    schema = StructType([StructField("type", SPARK_REF), StructField("Type.Space", StringType())])
    with pytest.raises(ValueError, match="collide"):
        plan_flat_columns(schema)


@pytest.mark.parametrize(
    ("data_type", "expected"),
    [
        (SPARK_REF, True),
        (StructType([StructField("externalId", StringType()), StructField("space", StringType())]), True),
        (StructType([StructField("space", StringType())]), False),
        (StructType([*SPARK_REF.fields, StructField("version", StringType())]), False),
        (StringType(), False),
        (ArrayType(SPARK_REF), False),
    ],
)
def test_a_reference_is_a_struct_of_exactly_space_and_external_id(data_type: DataType, expected: bool) -> None:
    assert is_reference(data_type) is expected
