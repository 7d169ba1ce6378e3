"""Kill ``cdf-replicator replicate`` with SIGKILL at the dangerous instants, rerun, compare: nothing lost or doubled.

The replicate process is a real ``python -m cdf_replicator.cli`` subprocess with its own Spark JVM. The failpoint
facility (``cdf_replicator.failpoints``) makes it SIGKILL itself exactly: while paging, just before a MERGE, and
between a Delta commit and the cursor save. Small pages and batches give several commits per run. Each rerun
happens in this process (the shared Spark session) and is compared whole with the emulator.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cdf_emulator import Emulator
from cdf_emulator.seeds import movies
from cdf_emulator.seeds._build import node
from tests.e2e.expected import expected_tables
from tests.e2e.lake import ModelRef, assert_table_matches, cursor_states, local_lake, replicate, write_config

pytestmark = pytest.mark.e2e

MOVIES = ModelRef("movies", "Movies", "1")
VIEW = "movies/Movies/1/Person"
TABLE = "raw/movies/Movies/1/views/Person/nodes"
STATE_KEY = "movies_Movies_1_Person_nodes"


def _kill_at(config: str, failpoint: str, workdir: Path) -> str:
    """Run replicate in a subprocess armed with ``failpoint``; require that it died there. Returns its stderr."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYSPARK_")}
    env["CDF_REPLICATOR_FAILPOINT"] = failpoint
    process = subprocess.Popen(
        [sys.executable, "-m", "cdf_replicator.cli", "replicate", "--config", config, "--view", VIEW],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        _, err = process.communicate(timeout=300)
    finally:
        # The Spark JVM exits when its Python parent dies; make sure of it before this process touches the tables.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == -signal.SIGKILL, f"exit {process.returncode}, expected SIGKILL:\n{err[-3000:]}"
    assert f"failpoint {failpoint.split(':')[0]}" in err, err[-3000:]
    return err


def _expected(emulator: Emulator) -> Any:
    return expected_tables(emulator, MOVIES.space, MOVIES.model, MOVIES.version)[TABLE]


def _table_differs(spark: Any, root: str, emulator: Emulator) -> bool:
    try:
        assert_table_matches(spark, root, _expected(emulator))
    except AssertionError:
        return True
    return False


def _change_people(emulator: Emulator, round_: int) -> None:
    """Updates, a delete and new people: more rows than one batch, so the run makes several commits."""
    s = movies.SPACE
    people = [node(s, f"person:extra-{round_}-{i}", movies.PERSON, {"name": f"Extra {round_}.{i}"}) for i in range(3)]
    updates = [node(s, "person:keanu", movies.PERSON, {"birthYear": 1964 + round_})]
    updates.append(node(s, "person:omar", movies.PERSON, {"name": f"Omar Sharif ({round_})"}))
    emulator.state.instances.apply(updates + people)
    gone = "person:david" if round_ == 1 else "person:extra-1-0"
    emulator.state.instances.delete([{"instanceType": "node", "space": s, "externalId": gone}])


def test_sigkill_while_paging_before_merge_and_before_cursor_save_loses_and_duplicates_nothing(
    spark: Any, emulator_factory: Any, tmp_path: Path, capsys: Any
) -> None:
    emulator = emulator_factory(seed="movies")
    lake = local_lake(tmp_path / "lake")
    batches = {"subscription-batch-size": 2, "ingest-batch-size": 2, "max-page-buffer": 1}
    config = write_config(tmp_path, emulator, lake, MOVIES, extractor=batches, spark_master="local[2]")

    # 1. Killed while paging the backfill, after two of four pages were committed.
    _kill_at(config, "after_page:3", tmp_path)
    assert _table_differs(spark, lake.root, emulator)
    replicate(config, capsys, "--view", VIEW)
    assert_table_matches(spark, lake.root, _expected(emulator))

    # 2. Killed just before the second MERGE of an incremental run.
    _change_people(emulator, 1)
    _kill_at(config, "before_merge:2", tmp_path)
    assert _table_differs(spark, lake.root, emulator)
    replicate(config, capsys, "--view", VIEW)
    assert_table_matches(spark, lake.root, _expected(emulator))

    # 3. Killed after a MERGE committed but before its cursor was saved: the rerun replays that batch.
    _change_people(emulator, 2)
    _kill_at(config, "after_merge_before_cursor:1", tmp_path)
    from delta.tables import DeltaTable

    committed = DeltaTable.forPath(spark, f"{lake.root}/{TABLE}").history(1).collect()[0]["version"]
    assert cursor_states(spark, lake.root)[STATE_KEY].table_version < committed
    replicate(config, capsys, "--view", VIEW)
    assert_table_matches(spark, lake.root, _expected(emulator))
    assert cursor_states(spark, lake.root)[STATE_KEY].table_version is not None
