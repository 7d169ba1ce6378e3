"""The one Spark factory: the platform's session on Databricks/EMR, a local Delta-enabled session elsewhere.

Platform detection (``detect_platform``) decides which one ``get_session`` returns:

- ``databricks``: ``DATABRICKS_RUNTIME_VERSION`` is set (every Databricks runtime sets it, jobs and notebooks).
- ``emr``: an ``EMR_*`` variable is set, or Spark lives in EMR's ``/usr/lib/spark`` (``SPARK_HOME`` or the
  directory itself; EMR on EC2 and Serverless both install Spark there). Other Bigtop-packaged clusters (Dataproc)
  match too, and rightly: their session is also configured by the cluster.
- ``spark-submit``: the Python driver was started by ``spark-submit`` (``PYSPARK_GATEWAY_PORT`` is set by Spark's
  ``PythonRunner``). The JVM already carries the submitted ``--conf``/``--packages``, exactly as on an EMR step, so
  it is treated like a platform: nothing is added.

On a platform, or when a session is already active (a notebook), the active session is used as is: Delta, jars,
credentials and memory are the platform's business. Otherwise a local ``local[*]`` session with Delta and hadoop-aws
is built; its jars come from Maven Central through ``spark.jars.packages`` (cached in ``~/.ivy2`` after the first
run).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from pyspark.sql import SparkSession

logger = logging.getLogger(__name__)

DELTA_EXTENSION = "io.delta.sql.DeltaSparkSessionExtension"
DELTA_CATALOG = "org.apache.spark.sql.delta.catalog.DeltaCatalog"
# pyspark 3.5.x bundles Hadoop 3.3.4 (pyspark/jars/hadoop-client-api-3.3.4.jar); hadoop-aws must match it exactly,
# and brings the aws-java-sdk-bundle it was built against.
HADOOP_AWS_PACKAGE = "org.apache.hadoop:hadoop-aws:3.3.4"
# AWS SDK v1 chain: environment (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN), Java system
# properties, web identity, ~/.aws profile, container and instance roles. No secret ever enters a conf string.
DEFAULT_CREDENTIALS_PROVIDER = "com.amazonaws.auth.DefaultAWSCredentialsProviderChain"
EMR_SPARK_HOME = "/usr/lib/spark"


def create_local_session(
    app_name: str = "cdf-replicator",
    shuffle_partitions: int = 2,
    master: str = "local[*]",
    extra_conf: Mapping[str, str] | None = None,
) -> SparkSession:
    """Build (or return the already running) local Spark session with Delta Lake and s3a support.

    ``extra_conf`` entries are applied last and override the defaults (for example ``spark.driver.memory`` or
    ``spark.hadoop.fs.s3a.*`` settings from ``configure_s3a``). When a session already runs in this process,
    Spark returns it and only runtime (SQL) settings of the new builder take effect.
    """
    from delta import configure_spark_with_delta_pip

    builder = SparkSession.builder.master(master).appName(app_name)
    for key, value in local_session_conf(shuffle_partitions).items():
        builder = builder.config(key, value)
    for key, value in (extra_conf or {}).items():
        builder = builder.config(key, value)
    # Adds io.delta:delta-spark_2.12:<installed delta-spark version> to spark.jars.packages, plus hadoop-aws.
    session = configure_spark_with_delta_pip(builder, extra_packages=[HADOOP_AWS_PACKAGE]).getOrCreate()
    # Spark's own WARN lines (plan hints, native libraries) drown the replicator's summary on a console.
    session.sparkContext.setLogLevel("ERROR")
    logger.info("local Spark %s session %r on %s", session.version, app_name, master)
    return session


def local_session_conf(shuffle_partitions: int) -> dict[str, str]:
    """The settings of the local session: Delta on, UI off, small shuffles, UTC, Arrow transfers."""
    return {
        "spark.sql.extensions": DELTA_EXTENSION,
        "spark.sql.catalog.spark_catalog": DELTA_CATALOG,
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.shuffle.partitions": str(shuffle_partitions),
        "spark.default.parallelism": str(max(shuffle_partitions, 1)),
        # Delta rebuilds table snapshots with this many partitions (default 50): far too many for small tables.
        "spark.databricks.delta.snapshotPartitions": str(max(shuffle_partitions, 1)),
        # The JVM reserves heap lazily, so a generous ceiling costs nothing until a large batch needs it.
        "spark.driver.memory": "4g",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.execution.arrow.pyspark.fallback.enabled": "false",
    }


def get_platform_session(config_spark: Mapping[str, str] | None = None) -> SparkSession:
    """Return the platform's session (Databricks, EMR, spark-submit, a notebook), adding nothing it provides.

    Only settings the user put in the config's ``spark`` section are applied, and only those Spark can change at
    runtime; the others must be set on the cluster or the ``spark-submit`` command, which a WARNING says.
    """
    session = SparkSession.getActiveSession() or SparkSession.builder.getOrCreate()
    for key, value in (config_spark or {}).items():
        if session.conf.isModifiable(key):
            session.conf.set(key, value)
        else:
            logger.warning("Spark setting %s cannot change on a running session; set it on the cluster instead", key)
    if detect_platform() == "emr" and DELTA_EXTENSION not in (session.conf.get("spark.sql.extensions", "") or ""):
        logger.warning(
            "Delta Lake is not enabled on this EMR session: enable the delta-defaults classification or pass "
            "--conf spark.sql.extensions=%s --conf spark.sql.catalog.spark_catalog=%s",
            DELTA_EXTENSION,
            DELTA_CATALOG,
        )
    logger.info("using the platform Spark %s session", session.version)
    return session


def get_session(config_spark: Mapping[str, str] | None = None, local: bool = False) -> SparkSession:
    """Return the session a run uses: the local one when asked for or when nothing else is there.

    ``local=True`` forces the local Delta session (demo, tests, laptop). Otherwise an active session or a detected
    platform (see the module docstring) wins, and the local session is the fallback.
    """
    if not local and (SparkSession.getActiveSession() is not None or detect_platform() is not None):
        return get_platform_session(config_spark)
    return create_local_session(extra_conf=config_spark)


def detect_platform(environ: Mapping[str, str] | None = None, emr_spark_home: str = EMR_SPARK_HOME) -> str | None:
    """Name the platform this process runs on (``databricks``, ``emr``, ``spark-submit``) or ``None`` for local."""
    env = os.environ if environ is None else environ
    if env.get("DATABRICKS_RUNTIME_VERSION"):
        return "databricks"
    if any(name.startswith("EMR_") for name in env) or env.get("SPARK_HOME", "").rstrip("/") == EMR_SPARK_HOME:
        return "emr"
    if Path(emr_spark_home).is_dir():
        return "emr"
    if env.get("PYSPARK_GATEWAY_PORT"):
        return "spark-submit"
    return None


def s3a_settings(
    endpoint_url: str | None = None,
    path_style: bool = False,
    region: str | None = None,
    credentials_provider: str | None = DEFAULT_CREDENTIALS_PROVIDER,
) -> dict[str, str]:
    """The Hadoop ``fs.s3a.*`` settings for an S3 endpoint (without the ``spark.hadoop.`` prefix).

    An ``http://`` endpoint turns SSL off (S3-compatible servers on a laptop or in tests). Credentials are never
    part of the settings: ``credentials_provider`` names the class that finds them (environment, profile, role).
    """
    settings: dict[str, str] = {"fs.s3a.path.style.access": "true" if path_style else "false"}
    if endpoint_url:
        settings["fs.s3a.endpoint"] = endpoint_url
        scheme = urlparse(endpoint_url).scheme
        settings["fs.s3a.connection.ssl.enabled"] = "false" if scheme == "http" else "true"
    if region:
        settings["fs.s3a.endpoint.region"] = region
    if credentials_provider:
        settings["fs.s3a.aws.credentials.provider"] = credentials_provider
    return settings


def configure_s3a(
    target: Any,
    endpoint_url: str | None = None,
    path_style: bool = False,
    region: str | None = None,
    credentials_provider: str | None = DEFAULT_CREDENTIALS_PROVIDER,
) -> Any:
    """Apply ``s3a_settings`` to a ``SparkSession.Builder`` (as ``spark.hadoop.*``) or to a running session.

    On a running session the settings go into the session conf, which Spark copies into the Hadoop configuration
    of every read and write (Delta included). They must be set before the first ``s3a://`` access: Hadoop caches
    one file system per bucket. Returns ``target`` so builder calls can chain.
    """
    settings = s3a_settings(endpoint_url, path_style, region, credentials_provider)
    if isinstance(target, SparkSession.Builder):
        for key, value in settings.items():
            target = target.config(f"spark.hadoop.{key}", value)
        return target
    for key, value in settings.items():
        target.conf.set(key, value)
    logger.info("s3a configured: endpoint %s, path style %s", endpoint_url or "AWS default", path_style)
    return target
