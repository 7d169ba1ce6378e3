"""``cdf-replicator replicate`` end to end: emulator -> CLI -> Delta (S3 server or local), compared whole.

Every comparison reads each Delta table with Spark and checks every row and every column against what the
emulator itself holds (``tests/e2e/expected.py``), after a backfill, after changes of every kind, after an idle
run, after an invalid cursor and after expired cursors with deletes that CDF no longer reports.
"""

from __future__ import annotations

from typing import Any

import pytest

from cdf_replicator.state import CursorState, DeltaStateStore
from tests.e2e import scenarios
from tests.e2e.lake import (
    ModelRef,
    assert_lake_matches,
    cursor_states,
    local_lake,
    replicate,
    resync_removals,
    table_versions,
    write_config,
)

pytestmark = pytest.mark.e2e

MOVIES = ModelRef("movies", "Movies", "1")
DEMO = ModelRef("demo_model", "Plant", "v1")


def _keys(tables: dict[str, Any]) -> dict[str, set[tuple[str, str]]]:
    return {path: set(table.rows) for path, table in tables.items()}


def _label(model: ModelRef, path: str) -> str:
    """``space/model/version/view kind``, as the replicator names a table in its log."""
    view, kind = path.split("/")[-2:]
    return f"{model.space}/{model.model}/{model.version}/{view} {kind}"


def _removed(model: ModelRef, before: dict[str, set[Any]], after: dict[str, set[Any]]) -> dict[str, int]:
    """Rows each table must lose: keys it had that the emulator no longer has."""
    return {_label(model, path): len(keys - after.get(path, set())) for path, keys in before.items()}


def test_movies_on_s3_backfill_changes_idle_invalid_and_expired_cursors(
    spark: Any, s3_lake: Any, emulator_factory: Any, tmp_path: Any, capsys: Any
) -> None:
    emulator = emulator_factory(seed="movies")
    config = write_config(tmp_path, emulator, s3_lake, MOVIES)
    root = s3_lake.root
    scenarios.prepare_movies(emulator)

    replicate(config, capsys)
    assert_lake_matches(spark, root, emulator, MOVIES)

    scenarios.mutate_movies(emulator)
    replicate(config, capsys)
    tables = assert_lake_matches(spark, root, emulator, MOVIES)
    assert "nationality" in tables["raw/movies/Movies/1/views/Person/nodes"].columns

    # Idle: nothing changes, yet every cursor is renewed so it cannot expire while the job is scheduled.
    states, versions = cursor_states(spark, root), table_versions(spark, root, tables)
    replicate(config, capsys)
    assert_lake_matches(spark, root, emulator, MOVIES)
    assert table_versions(spark, root, tables) == versions
    renewed = cursor_states(spark, root)
    assert renewed.keys() == states.keys() and len(states) == len(tables)
    assert all(renewed[key].cursor not in (None, states[key].cursor) for key in states)

    # An invalid cursor (the stored state tampered with) resyncs that table and drops what CDF no longer has.
    person_key = "movies_Movies_1_Person_nodes"
    emulator.state.instances.delete([{"instanceType": "node", "space": "movies", "externalId": "person:lana"}])
    DeltaStateStore(spark, f"{root}/_state/cursors").set(person_key, CursorState(cursor="bm90LWEtY3Vyc29y.000000"))
    log = replicate(config, capsys)
    tables = assert_lake_matches(spark, root, emulator, MOVIES)
    assert "movies/Movies/1/Person nodes" in log and "Invalid cursor provided" in log
    assert resync_removals(log) == {"movies/Movies/1/Person nodes": 1}
    assert cursor_states(spark, root)[person_key].resync_started_at is None

    # Expired cursors, with deletes whose tombstones CDF purged while the job was not running.
    before = _keys(tables)
    scenarios.delete_before_expiry_movies(emulator)
    emulator.clock.advance("4d")
    scenarios.change_after_expiry_movies(emulator)
    log = replicate(config, capsys)
    tables = assert_lake_matches(spark, root, emulator, MOVIES)
    expected_removals = _removed(MOVIES, before, _keys(tables))
    assert resync_removals(log) == expected_removals
    assert expected_removals["movies/Movies/1/Person nodes"] == 2  # carrie (purged tombstone) and omar
    assert expected_removals["movies/Movies/1/Actor edges"] >= 1  # laurence's edges went with him


def test_demo_on_local_path_backfill_changes_and_expired_cursors(
    spark: Any, emulator_factory: Any, tmp_path: Any, capsys: Any
) -> None:
    emulator = emulator_factory(seed="demo")
    lake = local_lake(tmp_path / "lake")
    config = write_config(tmp_path, emulator, lake, DEMO)
    scenarios.prepare_demo(emulator)

    replicate(config, capsys)
    assert_lake_matches(spark, lake.root, emulator, DEMO)

    scenarios.mutate_demo(emulator)
    replicate(config, capsys)
    tables = assert_lake_matches(spark, lake.root, emulator, DEMO)
    assert "note" in tables["raw/demo_model/Plant/v1/views/WorkOrder/edges"].columns
    assert "ratedFlow" in tables["raw/demo_model/Plant/v1/views/Equipment/nodes"].columns

    before = _keys(tables)
    scenarios.delete_before_expiry_demo(emulator)
    emulator.clock.advance("4d")
    log = replicate(config, capsys)
    tables = assert_lake_matches(spark, lake.root, emulator, DEMO)
    expected_removals = _removed(DEMO, before, _keys(tables))
    assert resync_removals(log) == expected_removals
    assert expected_removals["demo_model/Plant/v1/Flow edges"] >= 2
