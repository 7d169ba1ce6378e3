"""CDF misbehaving during a run: throttling and unavailability are survived, a broken view fails alone."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from cdf_emulator.seeds import movies
from cdf_emulator.seeds._build import node
from tests.e2e.expected import expected_tables
from tests.e2e.lake import (
    ModelRef,
    assert_lake_matches,
    assert_table_matches,
    cursor_states,
    local_lake,
    read_rows,
    replicate,
    run_cli,
    table_versions,
    write_config,
)

pytestmark = pytest.mark.e2e

MOVIES = ModelRef("movies", "Movies", "1")
SYNC = r"/models/instances/sync$"
PERSON_TABLE = "raw/movies/Movies/1/views/Person/nodes"
PERSON_KEY = "movies_Movies_1_Person_nodes"
# The sync body of the Person table (and no other) names the view Person: hasData and its source.
PERSON_SYNC_BODY = r'"externalId":\s*"Person"'
NOT_PERSON_SYNC_BODY = r'^(?![\s\S]*"externalId":\s*"Person")'


def _sorted_rows(spark: Any, root: str) -> list[dict[str, Any]]:
    columns, rows = read_rows(spark, f"{root}/{PERSON_TABLE}")
    assert "name" in columns
    return sorted(rows, key=lambda row: (row["space"], row["externalId"]))


def test_throttling_burst_is_survived_and_a_failing_view_fails_alone(
    spark: Any, emulator_factory: Any, tmp_path: Any, capsys: Any
) -> None:
    statuses: Counter[tuple[str, int]] = Counter()
    emulator = emulator_factory(seed="movies", on_response=lambda m, path, r: statuses.update([(path, r.status)]))
    lake = local_lake(tmp_path / "lake")
    config = write_config(tmp_path, emulator, lake, MOVIES)
    sync_path = f"/api/v1/projects/{emulator.project}/models/instances/sync"

    # A burst of 429 and 503 answers on the sync endpoint: retried, and the result is the complete lake.
    emulator.faults.fail(SYNC, 429, count=3, body=NOT_PERSON_SYNC_BODY)
    emulator.faults.fail(SYNC, 503, count=2, body=PERSON_SYNC_BODY)
    replicate(config, capsys)
    assert statuses[(sync_path, 429)] == 3 and statuses[(sync_path, 503)] == 2
    assert_lake_matches(spark, lake.root, emulator, MOVIES)

    # A 500 on the Person sync: that table fails and stays as it was; every other table is brought up to date.
    s = movies.SPACE
    emulator.state.instances.apply(
        [
            node(s, "person:keanu", movies.PERSON, {"birthYear": 1999}),
            node(s, "movie:matrix", movies.MOVIE, {"releaseYear": 2000}),
            node(s, "actor:keanu", movies.ACTOR, {"wonOscar": True}),
        ]
    )
    person_before = _sorted_rows(spark, lake.root)
    version_before = table_versions(spark, lake.root, [PERSON_TABLE])
    state_before = cursor_states(spark, lake.root)[PERSON_KEY]
    emulator.faults.fail(SYNC, 500, count=3, body=PERSON_SYNC_BODY)

    run = run_cli(["replicate", "--config", config], capsys)

    assert run.code != 0
    failed = [line for line in run.out.splitlines() if "FAILED" in line]
    assert len(failed) == 1 and "movies/Movies/1/Person nodes" in failed[0] and "500" in failed[0], run.out
    assert "ERROR cdf_replicator.pipeline: movies/Movies/1/Person nodes failed" in run.err, run.err
    assert _sorted_rows(spark, lake.root) == person_before
    assert table_versions(spark, lake.root, [PERSON_TABLE]) == version_before
    assert cursor_states(spark, lake.root)[PERSON_KEY] == state_before
    expected = expected_tables(emulator, MOVIES.space, MOVIES.model, MOVIES.version)
    for path, table in expected.items():
        if path != PERSON_TABLE:
            assert_table_matches(spark, lake.root, table)

    # Once CDF answers again, the failed table catches up.
    emulator.faults.clear()
    replicate(config, capsys, "--view", "movies/Movies/1/Person")
    assert_lake_matches(spark, lake.root, emulator, MOVIES)
