"""Schema mapping: the type table, table schemas for nodes and edges, edge-source merging (no Spark session)."""

from __future__ import annotations

import pyarrow as pa
import pytest
from pyspark.sql.pandas.types import to_arrow_schema
from pyspark.sql.types import (
    ArrayType,
    BooleanType,
    DataType,
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

from cdf_replicator.errors import SchemaMappingError
from cdf_replicator.schema_mapping import (
    TYPE_TABLE,
    build_arrow_schema,
    build_batch_arrow_schema,
    build_batch_struct_type,
    build_struct_type,
    edge_properties_for,
    property_types,
    table_properties,
)
from cdf_replicator.sync_query import ViewRef
from cdf_replicator.views import EdgeConnectionSpec, PropertySpec, ViewSpec

REF = StructType([StructField("space", StringType(), True), StructField("externalId", StringType(), True)])
ARROW_REF = pa.struct([("space", pa.string()), ("externalId", pa.string())])
UTC_MICROS = pa.timestamp("us", tz="UTC")

NODE_SYSTEM = [
    StructField("space", StringType(), False),
    StructField("externalId", StringType(), False),
    StructField("instanceType", StringType(), False),
    StructField("version", LongType(), False),
    StructField("createdTime", LongType(), False),
    StructField("lastUpdatedTime", LongType(), False),
    StructField("type", REF, True),
]
EDGE_SYSTEM = [
    *NODE_SYSTEM[:6],
    StructField("type", REF, False),
    StructField("startNode", REF, False),
    StructField("endNode", REF, False),
]
REPLICATED_AT = StructField("_replicatedAt", TimestampType(), False)

ROLE = ViewRef("sp", "Role", "v1")
CREDIT = ViewRef("sp", "Credit", "v1")


def node_view(*properties: PropertySpec, connections: tuple[EdgeConnectionSpec, ...] = ()) -> ViewSpec:
    return ViewSpec("sp", "Movie", "v1", "node", properties, connections)


def connection(name: str, edge_source: ViewRef | None) -> EdgeConnectionSpec:
    return EdgeConnectionSpec(name, ("sp", f"Movie.{name}"), "outwards", ViewRef("sp", "Person", "v1"), edge_source)


@pytest.mark.parametrize(
    ("cdf_type", "spark_type", "arrow_type"),
    [
        ("text", StringType(), pa.string()),
        ("enum", StringType(), pa.string()),
        ("int32", IntegerType(), pa.int32()),
        ("int64", LongType(), pa.int64()),
        ("float32", FloatType(), pa.float32()),
        ("float64", DoubleType(), pa.float64()),
        ("boolean", BooleanType(), pa.bool_()),
        ("timestamp", TimestampType(), UTC_MICROS),
        ("date", DateType(), pa.date32()),
        ("json", StringType(), pa.string()),
        ("direct", REF, ARROW_REF),
        ("timeseries", StringType(), pa.string()),
        ("file", StringType(), pa.string()),
        ("sequence", StringType(), pa.string()),
    ],
)
def test_every_property_type_maps_to_its_column_type(
    cdf_type: str, spark_type: DataType, arrow_type: pa.DataType
) -> None:
    spec = node_view()

    assert property_types(spec, PropertySpec("p", cdf_type)) == (spark_type, arrow_type)
    assert property_types(spec, PropertySpec("p", cdf_type, is_list=True)) == (
        ArrayType(spark_type, containsNull=True),
        pa.list_(arrow_type),
    )


def test_the_type_table_covers_exactly_the_documented_types() -> None:
    documented = {"text", "enum", "int32", "int64", "float32", "float64", "boolean", "timestamp", "date", "json"}
    documented |= {"direct", "timeseries", "file", "sequence"}

    assert set(TYPE_TABLE) == documented


@pytest.mark.parametrize("prop", [PropertySpec("shape", "geometry"), PropertySpec("shape", "TEXT", is_list=True)])
def test_an_unknown_type_raises_naming_view_and_property(prop: PropertySpec) -> None:
    spec = node_view(PropertySpec("title", "text"), prop)

    with pytest.raises(
        SchemaMappingError, match=rf"view sp:Movie/v1, property 'shape': unknown property type '{prop.type}'"
    ):
        build_struct_type(spec, "nodes")
    with pytest.raises(SchemaMappingError, match="unknown property type"):
        build_arrow_schema(spec, "nodes")


def test_node_table_schema_has_system_columns_then_properties_then_metadata() -> None:
    spec = node_view(
        PropertySpec("title", "text", nullable=False),
        PropertySpec("released", "date"),
        PropertySpec("ratings", "float64", is_list=True),
        PropertySpec("director", "direct"),
        PropertySpec("cast", "direct", is_list=True),
        PropertySpec("premiere", "timestamp"),
        connections=(connection("actors", ROLE),),
    )

    assert build_struct_type(spec, "nodes") == StructType(
        [
            *NODE_SYSTEM,
            StructField("title", StringType(), True),
            StructField("released", DateType(), True),
            StructField("ratings", ArrayType(DoubleType(), True), True),
            StructField("director", REF, True),
            StructField("cast", ArrayType(REF, True), True),
            StructField("premiere", TimestampType(), True),
            REPLICATED_AT,
        ]
    )


def test_edge_table_schema_of_a_node_view_holds_the_edge_source_properties() -> None:
    spec = node_view(PropertySpec("title", "text"), connections=(connection("actors", ROLE),))
    edge_properties = (PropertySpec("role", "text"), PropertySpec("billing", "int32"))

    assert build_struct_type(spec, "edges", edge_properties) == StructType(
        [
            *EDGE_SYSTEM,
            StructField("role", StringType(), True),
            StructField("billing", IntegerType(), True),
            REPLICATED_AT,
        ]
    )
    assert build_struct_type(spec, "edges") == StructType([*EDGE_SYSTEM, REPLICATED_AT])


def test_edge_table_schema_of_an_edge_view_holds_its_own_properties() -> None:
    spec = ViewSpec("sp", "Role", "v1", "edge", (PropertySpec("role", "text"), PropertySpec("since", "timestamp")))

    assert build_struct_type(spec, "edges") == StructType(
        [
            *EDGE_SYSTEM,
            StructField("role", StringType(), True),
            StructField("since", TimestampType(), True),
            REPLICATED_AT,
        ]
    )


def test_properties_named_like_system_columns_get_a_trailing_underscore() -> None:
    spec = node_view(
        PropertySpec("type", "enum"), PropertySpec("Version", "int64"), PropertySpec("startNode", "direct")
    )

    assert build_struct_type(spec, "nodes").fieldNames() == [
        "space",
        "externalId",
        "instanceType",
        "version",
        "createdTime",
        "lastUpdatedTime",
        "type",
        "type_",
        "Version_",
        "startNode_",
        "_replicatedAt",
    ]


def test_properties_that_differ_only_in_case_raise() -> None:
    spec = node_view(PropertySpec("name", "text"), PropertySpec("Name", "text"))

    with pytest.raises(SchemaMappingError, match="view sp:Movie/v1: properties 'name' and 'Name' differ only in case"):
        build_struct_type(spec, "nodes")


def test_batch_schemas_add_the_deleted_flag_last() -> None:
    spec = node_view(PropertySpec("title", "text"))

    assert build_batch_struct_type(spec, "nodes") == StructType(
        [
            *NODE_SYSTEM,
            StructField("title", StringType(), True),
            REPLICATED_AT,
            StructField("_deleted", BooleanType(), False),
        ]
    )
    assert build_batch_arrow_schema(spec, "nodes").names == [
        *[f.name for f in NODE_SYSTEM],
        "title",
        "_replicatedAt",
        "_deleted",
    ]
    assert build_batch_arrow_schema(spec, "nodes").field("_deleted") == pa.field("_deleted", pa.bool_(), nullable=False)


@pytest.mark.parametrize("kind", ["nodes", "edges"])
def test_arrow_schema_is_what_spark_expects_for_the_struct_type(kind: str) -> None:
    """The Arrow path feeds Spark, so its schema must equal Spark's own Arrow rendering of the StructType."""
    all_types = tuple(PropertySpec(f"p_{name}", name) for name in TYPE_TABLE)
    all_lists = tuple(PropertySpec(f"l_{name}", name, is_list=True) for name in TYPE_TABLE)
    spec = ViewSpec("sp", "Everything", "v1", "all", all_types + all_lists)

    expected = to_arrow_schema(build_batch_struct_type(spec, kind))  # type: ignore[arg-type]

    assert build_batch_arrow_schema(spec, kind).equals(expected, check_metadata=False)  # type: ignore[arg-type]


def test_edge_properties_merge_edge_sources_in_order_once_each() -> None:
    spec = node_view(
        connections=(connection("actors", ROLE), connection("writers", CREDIT), connection("directors", ROLE))
    )
    sources = {
        ROLE: ViewSpec("sp", "Role", "v1", "edge", (PropertySpec("role", "text"), PropertySpec("order", "int32"))),
        CREDIT: ViewSpec("sp", "Credit", "v1", "edge", (PropertySpec("order", "int32"), PropertySpec("note", "json"))),
    }

    assert edge_properties_for(spec, sources) == (
        PropertySpec("role", "text"),
        PropertySpec("order", "int32"),
        PropertySpec("note", "json"),
    )
    assert edge_properties_for(node_view(connections=(connection("sequel", None),)), {}) == ()


def test_edge_properties_with_one_name_and_two_types_raise() -> None:
    spec = node_view(connections=(connection("actors", ROLE), connection("writers", CREDIT)))
    sources = {
        ROLE: ViewSpec("sp", "Role", "v1", "edge", (PropertySpec("order", "int32"),)),
        CREDIT: ViewSpec("sp", "Credit", "v1", "edge", (PropertySpec("order", "int32", is_list=True),)),
    }

    with pytest.raises(
        SchemaMappingError,
        match=r"view sp:Movie/v1: edge property 'order' is int32 in sp:Role/v1 but list of int32 in sp:Credit/v1",
    ):
        edge_properties_for(spec, sources)


def test_a_missing_edge_source_definition_raises() -> None:
    spec = node_view(connections=(connection("actors", ROLE),))

    with pytest.raises(SchemaMappingError, match=r"edge connection 'actors'.*sp:Role/v1 is missing"):
        edge_properties_for(spec, {})


def test_an_edge_view_with_an_edge_source_property_of_another_type_raises() -> None:
    spec = ViewSpec("sp", "Role", "v1", "all", (PropertySpec("order", "int64"),))

    with pytest.raises(
        SchemaMappingError, match="edge property 'order' is int64 in sp:Role/v1 but int32 in its edge sources"
    ):
        table_properties(spec, "edges", (PropertySpec("order", "int32"),))
    assert table_properties(spec, "edges", (PropertySpec("order", "int64"), PropertySpec("x", "text"))) == (
        PropertySpec("order", "int64"),
        PropertySpec("x", "text"),
    )
    assert table_properties(spec, "nodes", (PropertySpec("x", "text"),)) == (PropertySpec("order", "int64"),)
