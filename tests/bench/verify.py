"""Correctness after the benchmark, so a fast but wrong run cannot pass.

1. Every table's row count equals the emulator's live count (nodes of ``Item``; edges of the connection's type).
2. A sample of rows, spread over the key range and including updated nodes, deleted nodes and the edges those
   deletes took along, equals what the data generator wrote: every property value, typed as the table holds it,
   and the system fields the emulator reports (``version``, ``createdTime``, ``lastUpdatedTime``). Deleted
   instances must be absent. Expected values come from :mod:`tests.bench.dataset`, not from the replicator's
   conversion code, so a conversion bug shows up here.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any

from pyspark.sql import SparkSession
from pyspark.sql import functions as F  # noqa: N812 (the usual PySpark alias)

from tests.bench import dataset
from tests.bench.dataset import Changes, Sizes
from tests.bench.emulator_host import EmulatorHost

logger = logging.getLogger("tests.bench")
TIMESTAMPS = {"nodes": ("installedAt",), "edges": ("linkedAt",)}
SAMPLE = 400


@dataclass
class Verification:
    """What was checked and every mismatch found (empty ``problems``: the tables are right)."""

    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    rows_compared: int = 0
    absent_checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "counts": self.counts,
            "rows_compared": self.rows_compared,
            "deleted_checked_absent": self.absent_checked,
            "problems": self.problems[:50],
        }


def verify(
    spark: SparkSession, host: EmulatorHost, tables: dict[str, str], sizes: Sizes, changes: Changes
) -> Verification:
    """Check the ``nodes`` and ``edges`` tables (paths by kind) against the emulator."""
    result = Verification()
    started = time.perf_counter()
    live = host.call("live_counts")
    for kind, path in tables.items():
        rows = spark.read.format("delta").load(path).count()
        result.counts[kind] = {"table": rows, "emulator": live[kind]}
        if rows != live[kind]:
            result.problems.append(f"{kind}: the table has {rows} rows, the emulator {live[kind]} live instances")
    logger.info("verify: counts in %.1f s", time.perf_counter() - started)
    updated = set(changes.updated)
    nodes = _node_sample(sizes, changes)
    _check_sample(spark, host, tables["nodes"], "nodes", nodes, lambda i: _expected_node(i, i in updated), result)
    logger.info("verify: node sample in %.1f s", time.perf_counter() - started)
    edges = _edge_sample(sizes, changes)
    _check_sample(spark, host, tables["edges"], "edges", edges, lambda j: _expected_edge(j, sizes.nodes), result)
    logger.info("verify: edge sample in %.1f s", time.perf_counter() - started)
    return result


def _node_sample(sizes: Sizes, changes: Changes) -> list[int]:
    step = max(1, sizes.nodes // SAMPLE)
    picked = set(range(0, sizes.nodes, step)) | set(changes.updated[:50]) | set(changes.deleted[:50])
    return sorted(picked)


def _edge_sample(sizes: Sizes, changes: Changes) -> list[int]:
    """Spread edges plus the edges that start at a deleted node (deleted with it)."""
    if sizes.edges == 0:
        return []
    step = max(1, sizes.edges // SAMPLE)
    picked = set(range(0, sizes.edges, step))
    picked |= {i for i in changes.deleted[:50] if i < sizes.edges}
    return sorted(picked)


def _check_sample(
    spark: SparkSession,
    host: EmulatorHost,
    path: str,
    kind: str,
    indexes: list[int],
    expect: Any,
    result: Verification,
) -> None:
    """Compare the sampled rows with ``expect(index)`` and the emulator's system fields."""
    xid_of = dataset.node_xid if kind == "nodes" else dataset.edge_xid
    by_xid = {xid_of(i): i for i in indexes}
    truth = host.call("records", kind[:-1], list(by_xid))
    found = _table_rows(spark, path, kind, list(by_xid))
    for xid, index in by_xid.items():
        system, row = truth[xid], found.get(xid)
        if system is None:
            result.absent_checked += 1
            if row is not None:
                result.problems.append(f"{kind} {xid}: deleted in the emulator but still in the table")
            continue
        if row is None:
            result.problems.append(f"{kind} {xid}: live in the emulator but missing from the table")
            continue
        result.rows_compared += 1
        for name, value in (system | expect(index)).items():
            if not _same(row.get(name, _MISSING), value):
                result.problems.append(
                    f"{kind} {xid}.{name}: table has {row.get(name, _MISSING)!r}, expected {value!r}"
                )
        if row.get("_replicatedAt") is None:
            result.problems.append(f"{kind} {xid}: _replicatedAt is null")


_MISSING = "<no such column>"


def _table_rows(spark: SparkSession, path: str, kind: str, xids: list[str]) -> dict[str, dict[str, Any]]:
    """The rows of ``xids`` as dicts; timestamps as epoch microseconds (no time zone in play)."""
    table = spark.read.format("delta").load(path)
    stamps = TIMESTAMPS[kind]
    columns = [F.unix_micros(F.col(name)).alias(name) if name in stamps else F.col(name) for name in table.columns]
    rows = table.where(F.col("externalId").isin(xids)).select(*columns).collect()
    return {row["externalId"]: row.asDict(recursive=True) for row in rows}


def _expected_node(index: int, updated: bool) -> dict[str, Any]:
    item = dataset.node_item(index, generation=1 if updated else 0)
    values = item["sources"][0]["properties"]
    expected = {
        "space": dataset.SPACE,
        "instanceType": "node",
        "type": None,
        **{name: values.get(name) for name in dataset.ITEM_PROPERTIES},
    }
    expected["installedAt"] = _micros(values["installedAt"])
    expected["commissioned"] = date.fromisoformat(values["commissioned"])
    expected["spec"] = _JsonText(values["spec"])
    return expected


def _expected_edge(index: int, nodes: int) -> dict[str, Any]:
    item = dataset.edge_item(index, nodes)
    values = item["sources"][0]["properties"]
    return {
        "space": dataset.SPACE,
        "instanceType": "edge",
        "type": item["type"],
        "startNode": item["startNode"],
        "endNode": item["endNode"],
        "role": values["role"],
        "rank": values["rank"],
        "linkedAt": _micros(values["linkedAt"]),
    }


def _micros(text: str) -> int:
    moment = datetime.fromisoformat(text).astimezone(timezone.utc)
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    delta = moment - epoch
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


class _JsonText:
    """Matches JSON text holding the same value (key order and spacing are free)."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return f"JSON {json.dumps(self.value)}"


def _same(actual: Any, expected: Any) -> bool:
    if isinstance(expected, _JsonText):
        return isinstance(actual, str) and json.loads(actual) == expected.value
    if expected is None:
        return actual is None
    return type(actual) is type(expected) and bool(actual == expected)
