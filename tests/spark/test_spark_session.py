"""The Spark factory with a running session: what the local session carries, and the platform path."""

from __future__ import annotations

import logging

import pytest
from pyspark.sql import SparkSession

from cdf_replicator.spark import configure_s3a, get_platform_session, get_session

pytestmark = pytest.mark.spark


def test_the_local_session_has_delta_s3a_jars_utc_and_arrow(spark: SparkSession) -> None:
    packages = spark.sparkContext.getConf().get("spark.jars.packages") or ""
    assert set(packages.split(",")) == {"io.delta:delta-spark_2.12:3.3.2", "org.apache.hadoop:hadoop-aws:3.3.4"}
    assert spark.version.startswith("3.5.")
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"
    assert spark.conf.get("spark.sql.execution.arrow.pyspark.enabled") == "true"
    assert spark.sparkContext.getConf().get("spark.ui.enabled") == "false"
    # hadoop-aws must match the Hadoop that pyspark bundles, or s3a fails at class loading.
    assert spark.sparkContext._jvm.org.apache.hadoop.util.VersionInfo.getVersion() == "3.3.4"


def test_an_active_session_is_used_as_the_platform_session(
    spark: SparkSession, caplog: pytest.LogCaptureFixture
) -> None:
    assert get_session() is spark
    before = spark.conf.get("spark.sql.shuffle.partitions")
    try:
        with caplog.at_level(logging.WARNING, logger="cdf_replicator.spark"):
            session = get_platform_session({"spark.sql.shuffle.partitions": "3", "spark.driver.memory": "1g"})
        assert session is spark
        assert spark.conf.get("spark.sql.shuffle.partitions") == "3"
        assert [r.getMessage() for r in caplog.records] == [
            "Spark setting spark.driver.memory cannot change on a running session; set it on the cluster instead"
        ]
    finally:
        spark.conf.set("spark.sql.shuffle.partitions", before)


def test_configure_s3a_on_a_running_session(spark: SparkSession) -> None:
    configure_s3a(spark, "http://127.0.0.1:9", path_style=True, region="eu-west-1")
    try:
        assert spark.conf.get("fs.s3a.endpoint") == "http://127.0.0.1:9"
        assert spark.conf.get("fs.s3a.path.style.access") == "true"
        assert spark.conf.get("fs.s3a.endpoint.region") == "eu-west-1"
    finally:
        for key in ("endpoint", "path.style.access", "endpoint.region", "connection.ssl.enabled"):
            spark.conf.unset(f"fs.s3a.{key}")
        spark.conf.unset("fs.s3a.aws.credentials.provider")
