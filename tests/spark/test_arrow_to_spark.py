"""A page table -> Spark DataFrame: types, nested columns and UTC instants survive both conversion paths."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pyarrow as pa
import pytest
from chispa import assert_df_equality
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F  # noqa: N812 (the usual PySpark alias)

from cdf_replicator import frames
from cdf_replicator.frames import arrow_to_dataframe
from cdf_replicator.rows import page_to_arrow
from cdf_replicator.schema_mapping import build_batch_struct_type
from cdf_replicator.views import PropertySpec, ViewSpec

pytestmark = pytest.mark.spark

AT = datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=timezone.utc)
SPEC = ViewSpec(
    "sp",
    "Movie",
    "v1",
    "node",
    (
        PropertySpec("title", "text"),
        PropertySpec("runtime", "int32"),
        PropertySpec("views", "int64"),
        PropertySpec("rating", "float32"),
        PropertySpec("budget", "float64"),
        PropertySpec("released", "boolean"),
        PropertySpec("premiere", "timestamp"),
        PropertySpec("day", "date"),
        PropertySpec("meta", "json"),
        PropertySpec("director", "direct"),
        PropertySpec("tags", "text", is_list=True),
        PropertySpec("shows", "timestamp", is_list=True),
        PropertySpec("cast", "direct", is_list=True),
    ),
)
ITEMS: list[dict[str, Any]] = [
    {
        "instanceType": "node",
        "space": "sp",
        "externalId": 'it\'s "ünïcødé" 🚀',
        "version": 2,
        "createdTime": 1700000000000,
        "lastUpdatedTime": 1700000005000,
        "type": {"space": "types", "externalId": "Film"},
        "properties": {
            "sp": {
                "Movie/v1": {
                    "title": "Heat",
                    "runtime": 170,
                    "views": 2**63 - 1,
                    "rating": 8.5,
                    "budget": 6e7,
                    "released": True,
                    "premiere": "1995-12-15T12:00:00.250-08:00",
                    "day": "1995-12-15",
                    "meta": {"a": [1, None]},
                    "director": {"space": "sp", "externalId": "mann"},
                    "tags": ["crime", "la"],
                    "shows": ["1995-12-31T23:30:00+05:30", "1996-01-01T00:00:00Z"],
                    "cast": [{"space": "sp", "externalId": "pacino"}, {"space": "p", "externalId": "deniro"}],
                }
            }
        },
    },
    {
        "instanceType": "node",
        "space": "sp",
        "externalId": "gone",
        "version": 5,
        "createdTime": 1,
        "lastUpdatedTime": 2,
        "deletedTime": 3,
    },
]
PREMIERE = datetime(1995, 12, 15, 20, 0, 0, 250000, tzinfo=timezone.utc)
SHOWS = [datetime(1995, 12, 31, 18, 0, tzinfo=timezone.utc), datetime(1996, 1, 1, tzinfo=timezone.utc)]
EXPECTED_ROWS = [
    (
        "sp",
        'it\'s "ünïcødé" 🚀',
        "node",
        2,
        1700000000000,
        1700000005000,
        ("types", "Film"),
        "Heat",
        170,
        2**63 - 1,
        8.5,
        6e7,
        True,
        PREMIERE,
        date(1995, 12, 15),
        '{"a":[1,null]}',
        ("sp", "mann"),
        ["crime", "la"],
        SHOWS,
        [("sp", "pacino"), ("p", "deniro")],
        AT,
        False,
    ),
    ("sp", "gone", "node", 5, 1, 2, None, *[None] * 13, AT, True),
]

Converter = Callable[[SparkSession, pa.Table, Any], DataFrame]
PATHS: dict[str, Converter] = {
    "public": arrow_to_dataframe,
    "arrow-stream": lambda spark, table, schema: frames._via_arrow_stream(
        spark, frames.conform_table(table, schema), schema
    ),
    "pandas": lambda spark, table, schema: frames._via_pandas(spark, frames.conform_table(table, schema), schema),
}


@pytest.fixture()
def far_from_utc(spark: SparkSession) -> Iterator[None]:
    """Run with a session time zone far from UTC, so a conversion that shifts instants by it shows up."""
    previous = spark.conf.get("spark.sql.session.timeZone")
    spark.conf.set("spark.sql.session.timeZone", "Pacific/Kiritimati")
    yield
    spark.conf.set("spark.sql.session.timeZone", previous)


@pytest.mark.parametrize("path", sorted(PATHS))
def test_a_page_table_becomes_the_expected_dataframe(spark: SparkSession, far_from_utc: None, path: str) -> None:
    schema = build_batch_struct_type(SPEC, "nodes")
    table = page_to_arrow(ITEMS, SPEC, "nodes", AT)

    actual = PATHS[path](spark, table, schema)

    assert actual.schema == schema
    assert_df_equality(actual, spark.createDataFrame(EXPECTED_ROWS, schema))
    instants = actual.select(
        F.unix_micros("premiere").alias("premiere"),
        F.transform("shows", F.unix_micros).alias("shows"),
        F.unix_micros("_replicatedAt").alias("replicated"),
    ).collect()
    assert [tuple(row) for row in instants] == [
        (_micros(PREMIERE), [_micros(show) for show in SHOWS], _micros(AT)),
        (None, None, _micros(AT)),
    ]


def test_columns_in_another_order_and_a_lossless_widening_are_conformed(spark: SparkSession) -> None:
    schema = build_batch_struct_type(SPEC, "nodes")
    table = page_to_arrow(ITEMS, SPEC, "nodes", AT)
    runtime = table.schema.get_field_index("runtime")
    shuffled = table.set_column(runtime, "runtime", table.column("runtime").cast(pa.int16())).select(
        list(reversed(table.column_names))
    )

    assert_df_equality(arrow_to_dataframe(spark, shuffled, schema), spark.createDataFrame(EXPECTED_ROWS, schema))


def test_a_lossy_conversion_is_refused(spark: SparkSession) -> None:
    schema = build_batch_struct_type(SPEC, "nodes")
    table = page_to_arrow(ITEMS, SPEC, "nodes", AT)
    runtime = table.schema.get_field_index("runtime")
    wrong = table.set_column(runtime, "runtime", pa.array([170.5, None], pa.float64()))

    with pytest.raises(pa.ArrowInvalid):
        arrow_to_dataframe(spark, wrong, schema)


def test_an_empty_page_is_an_empty_dataframe_with_the_schema(spark: SparkSession) -> None:
    schema = build_batch_struct_type(SPEC, "nodes")

    actual = arrow_to_dataframe(spark, page_to_arrow([], SPEC, "nodes", AT), schema)

    assert actual.schema == schema
    assert actual.collect() == []


def _micros(moment: datetime) -> int:
    return (moment - datetime(1970, 1, 1, tzinfo=timezone.utc)) // timedelta(microseconds=1)
