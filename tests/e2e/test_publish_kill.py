"""SIGKILL a publish between writing its file and moving it into place: the old file stays, the next run finishes.

The publish runs in a real subprocess with its own Spark JVM, armed with the ``publish_before_move`` failpoint
(``cdf_replicator.failpoints``): it dies with the new file complete in ``_tmp_nodes_<uuid>/``, not yet moved. The
rerun happens in this process (the shared Spark session).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from cdf_replicator.publish import PublishTarget
from cdf_replicator.publish_run import publish_model
from tests.publish_support import JSON_COLUMNS, load_table, node, node_schema, read_rows

pytestmark = [pytest.mark.e2e, pytest.mark.spark]

REPO = Path(__file__).resolve().parents[2]
SCRIPT = """
import sys
from cdf_replicator.spark import create_local_session
from tests.e2e.test_publish_kill import publish_once
publish_once(create_local_session(app_name="publish-kill", shuffle_partitions=1), sys.argv[1])
"""


def target(lake: str) -> PublishTarget:
    return PublishTarget(
        f"file:{lake}/raw/sp/Plant/1/views/Asset/nodes",
        f"file:{lake}/publish/sp/Plant/1/Asset/nodes.parquet",
        "nodes",
        node_schema(),
        "Asset nodes",
        JSON_COLUMNS,
    )


def publish_once(spark: SparkSession, lake: str) -> None:
    publish_model(spark, [target(lake)], f"file:{lake}/publish/sp/Plant/1/_manifest.json")


def kill_at(failpoint: str, lake: Path) -> str:
    """Publish in a subprocess armed with ``failpoint``; require that it died there. Returns its stderr."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYSPARK_")}
    env["CDF_REPLICATOR_FAILPOINT"] = failpoint
    process = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(lake)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        _, err = process.communicate(timeout=600)
    finally:
        # The Spark JVM exits when its Python parent dies; make sure of it before this process reads the files.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == -signal.SIGKILL, f"exit {process.returncode}, expected SIGKILL:\n{err[-3000:]}"
    assert f"failpoint {failpoint}" in err, err[-3000:]
    return err


def test_a_publish_killed_before_its_move_leaves_the_old_file_and_the_next_one_completes(
    spark: SparkSession, tmp_path: Path
) -> None:
    lake = tmp_path / "lake"
    view_dir = lake / "publish" / "sp" / "Plant" / "1" / "Asset"
    manifest = lake / "publish" / "sp" / "Plant" / "1" / "_manifest.json"
    load_table(spark, target(str(lake)).table_path, "nodes", [node("a", name="first")])
    publish_once(spark, str(lake))
    before = (view_dir / "nodes.parquet").read_bytes(), manifest.read_text()
    load_table(spark, target(str(lake)).table_path, "nodes", [node("a", 2, 2000, name="second"), node("b")])

    kill_at("publish_before_move", lake)

    assert ((view_dir / "nodes.parquet").read_bytes(), manifest.read_text()) == before
    leftovers = [path for path in view_dir.iterdir() if path.name.startswith("_tmp_nodes_")]
    assert len(leftovers) == 1 and any(p.name.startswith("part-") for p in leftovers[0].iterdir())

    publish_once(spark, str(lake))

    assert [(row["externalId"], row["name"]) for row in read_rows(view_dir / "nodes.parquet")[1]] == [
        ("a", "second"),
        ("b", None),
    ]
    assert sorted(path.name for path in view_dir.iterdir()) == ["nodes.parquet"]
    entry = json.loads(manifest.read_text())["files"][0]
    assert (entry["status"], entry["tableVersion"], entry["rows"]) == ("published", 2, 2)
