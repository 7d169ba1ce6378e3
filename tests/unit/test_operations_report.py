"""The notebooks' plain-text reports: cursor state per table and Delta history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cdf_replicator.operations import HistoryEntry, TableState, unused_state_keys
from cdf_replicator.operations_report import format_history, format_state_overview
from cdf_replicator.state import CursorState, MemoryStateStore


def test_state_overview_shows_each_table_and_a_shortened_cursor() -> None:
    states = [
        TableState("sp/M/1/Pump nodes", "sp_M_1_Pump_nodes", "/lake/a", CursorState("c" * 40, None, 3), 4),
        TableState("sp/M/1/Pump edges", "sp_M_1_Pump_edges", "/lake/b", CursorState(None, 1700000000000, 2), 2),
        TableState("sp/M/1/Valve nodes", "sp_M_1_Valve_nodes", "/lake/c", None, None),
    ]

    text = format_state_overview(states, ["sp_M_0_Pump_nodes"])

    assert text.splitlines() == [
        "table               state key           cursor                                cursor at version  "
        "table version  resync",
        "sp/M/1/Pump nodes   sp_M_1_Pump_nodes   cccccccccccccccc...                   3                  "
        "4              -",
        "sp/M/1/Pump edges   sp_M_1_Pump_edges   none (next run reads from the start)  2                  "
        "2              in progress",
        "sp/M/1/Valve nodes  sp_M_1_Valve_nodes  none (next run reads from the start)  -                  "
        "-              -",
        "unused state key: sp_M_0_Pump_nodes",
    ]


def test_history_lists_commits_with_sorted_metrics() -> None:
    entries = [
        HistoryEntry(2, datetime(2024, 5, 1, 12, 0, 1), "MERGE", {}, {"numTargetRowsUpdated": "1", "a": "0"}),
        HistoryEntry(0, datetime(2024, 5, 1, 11, 0), "CREATE TABLE", {"isManaged": "false"}, {}),
    ]

    assert format_history("sp/M/1/Pump nodes", entries).splitlines() == [
        "sp/M/1/Pump nodes:",
        "  version  timestamp            operation     metrics",
        "  2        2024-05-01 12:00:01  MERGE         a=0, numTargetRowsUpdated=1",
        "  0        2024-05-01 11:00:00  CREATE TABLE  -",
    ]


class _Target:
    def __init__(self, state_key: str) -> None:
        self.state_key = state_key


def test_unused_state_keys_are_the_stored_keys_no_target_uses() -> None:
    store = MemoryStateStore({key: CursorState("x") for key in ("a_nodes", "b_nodes", "old_nodes")})

    targets: list[Any] = [_Target("a_nodes"), _Target("b_nodes"), _Target("new_nodes")]

    assert unused_state_keys(store, targets) == ["old_nodes"]
