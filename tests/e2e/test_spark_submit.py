"""``spark-submit jobs/replicate.py`` as the EMR step runs it, against the emulator and the S3 server.

The command is the one in ``conf/emr/step.json``: client deploy mode, Delta through ``--packages`` and the two
Delta ``--conf`` settings, ``spark.pyspark.python`` naming the interpreter, and the wheel built from ``setup.py``
passed with ``--py-files``, with these local differences:

- ``hadoop-aws`` is added to ``--packages``: EMR ships the S3A connector, pip's pyspark does not.
- The master is spark-submit's default ``local[*]`` (YARN on EMR), with 2 shuffle partitions and no UI.
- The interpreter is a bare virtual environment that sees the test environment's third-party packages through
  ``PYTHONPATH`` but not this repository's editable install (a ``.pth`` file is read only in site directories),
  so ``cdf_replicator`` can only come from the wheel: ``--py-files`` with a wheel does import (a wheel is a zip
  archive, and the package is pure Python).

The Delta tables the job writes to ``s3a://`` are then read with the test's own Spark session and compared, every
row and column, with what the emulator holds.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import time
import venv
from pathlib import Path
from typing import Any

import pytest

from cdf_replicator.state import DeltaStateStore
from tests.e2e.lake import ModelRef, assert_lake_matches, table_versions, write_config

REPO = Path(__file__).resolve().parents[2]
SPARK_SUBMIT = Path(sys.executable).with_name("spark-submit")
DELTA_PACKAGE = "io.delta:delta-spark_2.12:3.3.2"
HADOOP_AWS_PACKAGE = "org.apache.hadoop:hadoop-aws:3.3.4"
MOVIES = ModelRef("movies", "Movies", "1")

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("java") is None, reason="spark-submit needs Java"),
]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``pip wheel --no-deps . -w <tmp>``: the artifact the EMR step's ``--py-files`` names."""
    out = tmp_path_factory.mktemp("wheel")
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(out), str(REPO)]
    subprocess.run(command, check=True, timeout=600)
    [built] = out.glob("cdf_replicator-*-py3-none-any.whl")
    return built


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An interpreter that cannot import ``cdf_replicator`` by itself (checked), like EMR's before ``--py-files``."""
    folder = tmp_path_factory.mktemp("bare-python")
    venv.create(folder, with_pip=False)
    python = folder / "bin" / "python"
    probe = subprocess.run(
        [str(python), "-c", "import cdf_replicator"], env=_driver_env(python), capture_output=True, check=False
    )
    assert probe.returncode != 0, "the bare interpreter must not find cdf_replicator without the wheel"
    return python


def _driver_env(python: Path) -> dict[str, str]:
    """This process's environment (AWS variables included) minus Spark's own, plus the third-party packages."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYSPARK_", "SPARK_"))}
    env["PYTHONPATH"] = os.pathsep.join(site.getsitepackages())
    return env


def emr_step_command(wheel: Path, python: Path, config: str) -> list[str]:
    return [
        str(SPARK_SUBMIT),
        "--deploy-mode",
        "client",
        "--packages",
        f"{DELTA_PACKAGE},{HADOOP_AWS_PACKAGE}",
        "--conf",
        "spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension",
        "--conf",
        "spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "--conf",
        f"spark.pyspark.python={python}",
        "--conf",
        f"spark.pyspark.driver.python={python}",
        "--conf",
        "spark.sql.shuffle.partitions=2",
        "--conf",
        "spark.ui.enabled=false",
        "--py-files",
        str(wheel),
        str(REPO / "jobs" / "replicate.py"),
        "--config",
        config,
    ]


def point_hadoop_at_bucket(spark: Any, s3: dict[str, Any]) -> None:
    """Per-bucket S3A settings in the SparkContext's Hadoop configuration, as a cluster's core-site would hold them.

    Setting them on the session (``configure_s3a`` on a running session) reaches Spark's and Delta's reads, but not
    Hadoop ``FileSystem`` calls made with the context's configuration (the lake helpers' directory listing), which
    would then go to AWS with no credentials.
    """
    from cdf_replicator.spark import s3a_settings

    conf = spark._jsc.hadoopConfiguration()
    for key, value in s3a_settings(s3["endpoint-url"], path_style=True, region=s3["region"]).items():
        conf.set(f"fs.s3a.bucket.{s3['bucket']}.{key.removeprefix('fs.s3a.')}", value)


def test_spark_submit_replicates_movies_into_s3_as_the_emr_step(
    spark: Any, s3_lake: Any, emulator_factory: Any, wheel: Path, bare_python: Path, tmp_path: Path
) -> None:
    emulator = emulator_factory(seed="movies")
    config = write_config(tmp_path, emulator, s3_lake, MOVIES)

    started = time.monotonic()
    job = subprocess.run(
        emr_step_command(wheel, bare_python, config),
        env=_driver_env(bare_python),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    seconds = time.monotonic() - started

    assert job.returncode == 0, f"spark-submit exited {job.returncode} after {seconds:.0f}s:\n{job.stderr[-4000:]}"
    point_hadoop_at_bucket(spark, s3_lake.destination["s3"])
    tables = assert_lake_matches(spark, s3_lake.root, emulator, MOVIES)
    assert f"{len(tables)} tables in" in job.stdout and ", 0 failed" in job.stdout, job.stdout
    versions = table_versions(spark, s3_lake.root, tables)
    store = DeltaStateStore(spark, f"{s3_lake.root}/_state/cursors")
    for path, version in versions.items():
        view, kind = path.split("/")[-2:]
        state = store.get(f"movies_Movies_1_{view}_{kind}")
        assert state is not None and state.cursor is not None, path
        assert state.table_version == version, f"{path}: the cursor names the commit that holds its rows"
