"""``python -m tests.bench.run`` (what ``make bench`` runs) at a tiny size: every stage measured, tables verified.

The harness is run as a command, in its own process with its own emulator child and Spark session, exactly as
``make bench`` runs it; only the size is small. Timings are not asserted (performance is measured by the
harness, never by tests); the counts, the report and the verification are.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
NODES, EDGES = 3000, 600


def test_a_tiny_benchmark_measures_every_stage_and_verifies_the_tables(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    command = [
        sys.executable,
        "-m",
        "tests.bench.run",
        f"--nodes={NODES}",
        f"--edges={EDGES}",
        "--batch-rows=1000",
        "--raw-passes=1",
        "--idle-cycles=1",
        "--driver-memory=1g",
        f"--out={out}",
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    finished = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]

    document = json.loads(out.read_text())
    stages = document["stages"]
    assert list(stages) == ["raw_fetch", "initial", "incremental", "idle", "publish"]
    assert stages["raw_fetch"]["instances"] == stages["initial"]["instances"] == NODES + EDGES
    initial_tables = {table["table"]: table for table in stages["initial"]["tables"]}
    assert sum(table["commits"] for table in initial_tables.values()) >= NODES // 1000  # batches of 1,000 rows
    # 1% updates and 0.1% deletes of the nodes; a deleted node takes its edges along.
    verification = document["verification"]
    assert document["ok"] and verification["ok"] and verification["problems"] == []
    counts = verification["counts"]
    assert counts["nodes"]["table"] == counts["nodes"]["emulator"] == NODES - 3
    assert counts["edges"]["table"] == counts["edges"]["emulator"] < EDGES
    assert stages["incremental"]["instances"] > 0 and stages["idle"]["instances"] == 0
    assert document["ratio_initial_over_raw_fetch"] > 0
    # The timeline says which thread ran which step when: the MERGE of the incremental cycle runs on a view thread.
    merges = [event for event in stages["incremental"]["timeline"] if event["step"].endswith("MERGE execute")]
    assert merges and all(event["thread"].startswith("view") and event["seconds"] > 0 for event in merges)
    assert {check["target"] for check in document["targets"]} >= {"initial load instances/s", "publish s"}
    assert document["memory"]["driver_rss_high_water_mb"] > 0 and document["memory"]["jvm_heap_peak_mb"] > 0
    # The printed report has the stage table, the ratio and the targets.
    assert "(b) initial load" in finished.stdout and "ratio (b)/(a)" in finished.stdout
    assert "targets (issue 7)" in finished.stdout and "verification: OK" in finished.stdout
