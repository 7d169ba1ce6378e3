"""The notebooks in ``notebooks/``, executed as plain Python against the demo seed, and judged by their effects.

A module fixture replicates the ``Site`` view of the demo model twice (a backfill, then one changed site), so its
table has the history CREATE, MERGE (backfill), MERGE (update), and publishes it. Each test runs one notebook
file with ``runpy`` on its own copy of that lake, in this process, so the notebook finds the test's Spark
session as its active session; its parameters come from ``CDF_REPLICATOR_<NAME>`` variables, as off Databricks.
The emulator is shared and never changed by a test, so "equal to the emulator" means the same thing in each.
"""

from __future__ import annotations

import logging
import runpy
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from cdf_emulator import Emulator
from cdf_emulator.seeds._build import node
from cdf_emulator.seeds.demo_instances import SITE
from cdf_replicator.state import CursorState, DeltaStateStore
from tests.e2e.expected import ExpectedTable, expected_tables
from tests.e2e.lake import assert_table_matches

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
DEMO_CONFIG = REPO / "conf" / "demo.yaml"
VIEW = "demo_model/Plant/v1/Site"
TABLE = "raw/demo_model/Plant/v1/views/Site/nodes"
PUBLISH_FILE = "publish/demo_model/Plant/v1/Site/nodes.parquet"
STATE_KEY = "demo_model_Plant_v1_Site_nodes"
RENAMED_SITE = ("plant_north", "plant_north:site")
NEW_NAME = "North plant (renamed)"


@dataclass(frozen=True)
class DemoLake:
    """The replicated lake every test copies, and the emulator it mirrors."""

    emulator: Emulator
    root: Path


@contextmanager
def kept_logging() -> Iterator[None]:
    """Put the root logger back after code that calls ``cli.main`` (it reconfigures logging for the process)."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)


def demo_env(mp: pytest.MonkeyPatch, emulator: Emulator, root: Path) -> None:
    """What ``conf/demo.yaml`` reads: the emulator's address and project, and the lake's folder."""
    mp.setenv("CDF_EMULATOR_URL", emulator.base_url)
    mp.setenv("CDF_EMULATOR_PROJECT", emulator.project)
    mp.setenv("CDF_REPLICATOR_ROOT", str(root))


def cli(*argv: str) -> None:
    from cdf_replicator.cli import main

    with kept_logging():
        code = main([*argv, "--config", str(DEMO_CONFIG), "--view", VIEW])
    assert code == 0, f"{argv[0]} exited {code}"


@pytest.fixture(scope="module")
def demo_lake(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoLake]:
    root = tmp_path_factory.mktemp("demo-lake")
    with Emulator(seed="demo") as emulator, pytest.MonkeyPatch.context() as mp:
        demo_env(mp, emulator, root)
        cli("replicate")
        emulator.state.instances.apply([node(*RENAMED_SITE, SITE, {"name": NEW_NAME})])
        cli("replicate")
        cli("publish")
        yield DemoLake(emulator, root)


@pytest.fixture()
def lake(demo_lake: DemoLake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the demo lake, which the config (and so every notebook) now points at."""
    root = tmp_path / "lake"
    shutil.copytree(demo_lake.root, root)
    demo_env(monkeypatch, demo_lake.emulator, root)
    monkeypatch.setenv("CDF_REPLICATOR_CONFIG", str(DEMO_CONFIG))
    return root


def run_notebook(name: str, monkeypatch: pytest.MonkeyPatch, **params: str) -> None:
    for key, value in params.items():
        monkeypatch.setenv(f"CDF_REPLICATOR_{key.upper()}", value)
    with kept_logging():
        runpy.run_path(str(NOTEBOOKS / f"{name}.py"), run_name="__main__")


def expected_site_table(emulator: Emulator) -> ExpectedTable:
    return expected_tables(emulator, "demo_model", "Plant", "v1")[TABLE]


def history(spark: Any, path: Path) -> list[tuple[int, str]]:
    from delta.tables import DeltaTable

    rows = DeltaTable.forPath(spark, str(path)).history().select("version", "operation").collect()
    return sorted((int(row["version"]), str(row["operation"])) for row in rows)


def site_rows(spark: Any, path: Path, version: int | None = None) -> list[dict[str, Any]]:
    reader = spark.read.format("delta")
    if version is not None:
        reader = reader.option("versionAsOf", version)
    rows = [row.asDict(recursive=True) for row in reader.load(str(path)).collect()]
    return sorted(rows, key=lambda row: (row["space"], row["externalId"]))


def saved_state(spark: Any, root: Path) -> CursorState | None:
    return DeltaStateStore(spark, f"{root}/_state/cursors").get(STATE_KEY)


def test_the_fixture_lake_has_three_versions_and_matches_the_emulator(spark: Any, demo_lake: DemoLake) -> None:
    """The premise of the other tests: versions 0-2 exist and version 1 still holds the old site name."""
    assert [version for version, _ in history(spark, demo_lake.root / TABLE)] == [0, 1, 2]
    assert_table_matches(spark, str(demo_lake.root), expected_site_table(demo_lake.emulator))
    old_names = {row["externalId"]: row["name"] for row in site_rows(spark, demo_lake.root / TABLE, version=1)}
    assert old_names[RENAMED_SITE[1]] != NEW_NAME


@pytest.mark.parametrize("drop_tables", ["false", "true"])
def test_reprocess_view_resyncs_a_drifted_table(
    spark: Any, demo_lake: DemoLake, lake: Path, monkeypatch: pytest.MonkeyPatch, drop_tables: str
) -> None:
    """A row lost and a row invented behind the replicator's back: only a backfill from scratch repairs both."""
    from delta.tables import DeltaTable
    from pyspark.sql import functions as F  # noqa: N812

    table = DeltaTable.forPath(spark, str(lake / TABLE))
    table.delete(F.col("externalId") == "plant_south:site")
    invented = spark.read.format("delta").load(str(lake / TABLE)).withColumn("externalId", F.lit("plant_north:ghost"))
    invented.write.format("delta").mode("append").save(str(lake / TABLE))

    run_notebook("reprocess_view", monkeypatch, view=VIEW, drop_tables=drop_tables)

    assert_table_matches(spark, str(lake), expected_site_table(demo_lake.emulator))
    state = saved_state(spark, lake)
    assert state is not None and state.cursor is not None and not state.resyncing
    commits = history(spark, lake / TABLE)
    if drop_tables == "true":
        assert [version for version, _ in commits] == [0, 1], "the dropped table is created anew: create, backfill"
        assert not (lake / PUBLISH_FILE).exists(), "--drop-tables also removes the view's publish file"
    else:
        assert commits[:3] == history(spark, demo_lake.root / TABLE), "the table and its history are kept"


def test_rebuild_publish_rewrites_a_damaged_file(
    spark: Any, demo_lake: DemoLake, lake: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """The table has not changed since the last publish, so only a forced rebuild replaces the damaged file."""
    (lake / PUBLISH_FILE).write_bytes(b"not parquet")

    run_notebook("rebuild_publish", monkeypatch, view=VIEW)

    published = pq.read_table(lake / PUBLISH_FILE).to_pylist()
    expected = expected_site_table(demo_lake.emulator).rows
    assert {(row["space"], row["externalId"]): (row["version"], row["name"]) for row in published} == {
        key: (row["version"], row["name"]) for key, row in expected.items()
    }
    report = capsys.readouterr().out.splitlines()
    line = next(line for line in report if line.startswith(f"{VIEW} nodes"))
    assert line.split()[2:5] == ["published", "2", "2"], line


def test_inspect_state_prints_cursor_state_and_history(
    spark: Any, lake: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    DeltaStateStore(spark, f"{lake}/_state/cursors").set("demo_model_Plant_v0_Site_nodes", CursorState("old"))
    capsys.readouterr()

    run_notebook("inspect_state", monkeypatch, view="", history="2")

    out = capsys.readouterr().out
    state_line = next(line for line in out.splitlines() if line.startswith(f"{VIEW} nodes "))
    cells = state_line.split("  ")
    assert [cell.strip() for cell in cells if cell.strip()][1:] == [STATE_KEY, _cursor_cell(spark, lake), "2", "2", "-"]
    assert "unused state key: demo_model_Plant_v0_Site_nodes" in out
    history_block = out[out.index(f"{VIEW} nodes:") :].splitlines()[2:5]
    assert [line.split()[0] for line in history_block[:2]] == ["2", "1"], "newest first"
    assert not history_block[2].strip(), "limited to 2 commits"
    for line, commit in zip(history_block, _delta_history(spark, lake / TABLE, 2), strict=False):
        assert f" {commit['operation']} " in line
        assert all(f"{name}={value}" in line for name, value in commit["operationMetrics"].items()), line
    assert "demo_model/Plant/v1/Asset nodes: no Delta table at" in out


def _delta_history(spark: Any, path: Path, limit: int) -> list[dict[str, Any]]:
    from delta.tables import DeltaTable

    return [row.asDict() for row in DeltaTable.forPath(spark, str(path)).history(limit).collect()]


def _cursor_cell(spark: Any, lake: Path) -> str:
    state = saved_state(spark, lake)
    assert state is not None and state.cursor is not None
    return state.cursor[:16] + "..."


def test_restore_table_goes_back_and_the_next_run_reconciles(
    spark: Any, demo_lake: DemoLake, lake: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old_rows = site_rows(spark, lake / TABLE, version=1)

    run_notebook("restore_table", monkeypatch, view=VIEW, kind="nodes", version="1")

    assert site_rows(spark, lake / TABLE) == old_rows
    assert history(spark, lake / TABLE)[-1] == (3, "RESTORE")
    assert saved_state(spark, lake) is None, "the cursor is forgotten, so the next run resyncs"

    with monkeypatch.context() as mp:
        demo_env(mp, demo_lake.emulator, lake)
        cli("replicate")
    assert_table_matches(spark, str(lake), expected_site_table(demo_lake.emulator))


def test_restore_table_refuses_a_version_the_table_does_not_have(
    spark: Any, lake: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cdf_replicator.errors import StorageError

    with pytest.raises(StorageError, match=r"version 7 is not in the table's history \(available: 0, 1, 2;"):
        run_notebook("restore_table", monkeypatch, view=VIEW, version="7")
    assert saved_state(spark, lake) is not None, "nothing is reset when the restore cannot happen"
