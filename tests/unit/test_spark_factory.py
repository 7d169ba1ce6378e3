"""The Spark factory's pure parts: platform detection and the s3a settings (no session is created here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cdf_replicator.spark import DEFAULT_CREDENTIALS_PROVIDER, detect_platform, local_session_conf, s3a_settings


@pytest.mark.parametrize(
    ("environ", "platform"),
    [
        ({"DATABRICKS_RUNTIME_VERSION": "15.4", "SPARK_HOME": "/databricks/spark"}, "databricks"),
        ({"EMR_RELEASE_LABEL": "emr-7.5.0"}, "emr"),
        ({"SPARK_HOME": "/usr/lib/spark/"}, "emr"),
        ({"PYSPARK_GATEWAY_PORT": "41234", "SPARK_HOME": "/opt/spark"}, "spark-submit"),
        ({"SPARK_HOME": "/opt/spark", "HOME": "/home/me"}, None),
        ({}, None),
    ],
)
def test_detect_platform(environ: dict[str, str], platform: str | None, tmp_path: Path) -> None:
    assert detect_platform(environ, emr_spark_home=str(tmp_path / "absent")) == platform


def test_an_emr_spark_directory_means_emr(tmp_path: Path) -> None:
    assert detect_platform({}, emr_spark_home=str(tmp_path)) == "emr"


def test_s3a_settings_for_a_local_http_server() -> None:
    assert s3a_settings("http://127.0.0.1:9000", path_style=True, region="us-east-1") == {
        "fs.s3a.path.style.access": "true",
        "fs.s3a.endpoint": "http://127.0.0.1:9000",
        "fs.s3a.connection.ssl.enabled": "false",
        "fs.s3a.endpoint.region": "us-east-1",
        "fs.s3a.aws.credentials.provider": DEFAULT_CREDENTIALS_PROVIDER,
    }


def test_s3a_settings_for_aws_keep_ssl_and_never_hold_secrets() -> None:
    settings = s3a_settings("https://s3.eu-west-1.amazonaws.com", credentials_provider=None)
    assert settings == {
        "fs.s3a.path.style.access": "false",
        "fs.s3a.endpoint": "https://s3.eu-west-1.amazonaws.com",
        "fs.s3a.connection.ssl.enabled": "true",
    }
    assert not any("key" in name or "secret" in name or "token" in name for name in s3a_settings("http://x:1"))


def test_local_session_is_small_and_utc() -> None:
    conf = local_session_conf(shuffle_partitions=2)
    assert conf["spark.sql.shuffle.partitions"] == "2"
    assert conf["spark.ui.enabled"] == "false"
    assert conf["spark.sql.session.timeZone"] == "UTC"
    assert conf["spark.sql.extensions"] == "io.delta.sql.DeltaSparkSessionExtension"


def test_configure_s3a_on_a_builder_prefixes_hadoop_settings() -> None:
    from pyspark.sql import SparkSession

    from cdf_replicator.spark import configure_s3a

    builder = configure_s3a(SparkSession.builder, "http://127.0.0.1:9000", path_style=True)
    assert builder._options["spark.hadoop.fs.s3a.endpoint"] == "http://127.0.0.1:9000"
    assert builder._options["spark.hadoop.fs.s3a.path.style.access"] == "true"
    assert builder._options["spark.hadoop.fs.s3a.connection.ssl.enabled"] == "false"
