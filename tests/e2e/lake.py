"""End-to-end helpers: write a replicator config, run the CLI in-process, read the lake back and compare it whole."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from cdf_emulator import Emulator
from tests.e2e.expected import REPLICATED_AT, ExpectedTable, canonical_actual, expected_tables

TOKEN = "e2e-static-token"  # the emulator accepts any bearer token


@dataclass(frozen=True)
class Lake:
    """A destination: the config's ``destination`` section and the root URI the tables end up under."""

    destination: dict[str, Any]
    root: str


@dataclass
class ModelRef:
    space: str
    model: str
    version: str
    instance_spaces: tuple[str, ...] = field(default=())


def local_lake(folder: Path) -> Lake:
    return Lake({"path": str(folder)}, str(folder))


def write_config(
    folder: Path,
    emulator: Emulator | str,
    lake: Lake,
    model: ModelRef,
    views: list[str] | None = None,
    extractor: dict[str, Any] | None = None,
    cognite: dict[str, Any] | None = None,
    spark_master: str | None = None,
) -> str:
    """A config file in ``folder`` for one data model (its latest version: the config names none)."""
    host = emulator if isinstance(emulator, str) else emulator.base_url
    project = "emulated" if isinstance(emulator, str) else emulator.project
    data_model: dict[str, Any] = {"external_id": model.model}
    if views is not None:
        data_model["views"] = views
    config: dict[str, Any] = {
        "logger": {"console": {"level": "INFO"}},
        "cognite": {"host": host, "project": project, "token": TOKEN, "connection": {"max-retries": 5}}
        | (cognite or {}),
        "extractor": {"state-store": {"delta": {}}, "workers": 2} | (extractor or {}),
        "data_modeling": [{"space": model.space, "data_models": [data_model]}],
        "destination": lake.destination,
    }
    if spark_master:
        config["spark"] = {"master": spark_master, "shuffle-partitions": 2}
    path = folder / "replicator.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return str(path)


@dataclass(frozen=True)
class CliRun:
    """What one CLI run returned and printed."""

    code: int
    out: str
    err: str


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> CliRun:
    """``main(argv)`` in this process; returns the exit code and what it printed on stdout and stderr.

    The CLI configures the root logger for the process (``basicConfig(force=True)``); the previous handlers are
    put back afterwards so pytest's own logging capture keeps working.
    """
    from cdf_replicator.cli import main

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    capsys.readouterr()
    try:
        code = main(argv)
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)
    captured = capsys.readouterr()
    return CliRun(code, captured.out, captured.err)


def replicate(config: str, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    """Run ``cdf-replicator replicate`` and require success; returns stderr (the log)."""
    run = run_cli(["replicate", "--config", config, *extra], capsys)
    assert run.code == 0, f"replicate exited {run.code}:\n{run.out}\n{run.err}"
    return run.err


def table_paths(spark: Any, root: str, model: ModelRef) -> set[str]:
    """The Delta tables under the model version's ``views`` folder, as paths relative to ``root``."""
    jvm = spark._jvm
    pattern = jvm.org.apache.hadoop.fs.Path(f"{root}/raw/{model.space}/{model.model}/{model.version}/views/*/*")
    fs = pattern.getFileSystem(spark._jsc.hadoopConfiguration())
    found = fs.globStatus(pattern) or []
    prefix = f"raw/{model.space}/{model.model}/{model.version}/views/"
    return {prefix + "/".join(str(status.getPath()).rstrip("/").split("/")[-2:]) for status in found}


def read_rows(spark: Any, uri: str) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """A Delta table's column types (``simpleString``) and its rows as plain dicts."""
    df = spark.read.format("delta").load(uri)
    types = {f.name: f.dataType.simpleString() for f in df.schema.fields}
    return types, [row.asDict(recursive=True) for row in df.collect()]


def assert_table_matches(spark: Any, root: str, table: ExpectedTable) -> None:
    """The table at ``root/table.path`` has exactly the expected columns (names and types) and rows."""
    types, rows = read_rows(spark, f"{root}/{table.path}")
    expected_types = {name: column.spark_type for name, column in table.columns.items()}
    assert types == expected_types, f"{table.path}: columns differ\n actual   {types}\n expected {expected_types}"
    assert all(row[REPLICATED_AT] is not None for row in rows), f"{table.path}: null {REPLICATED_AT}"
    actual: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        key = (row["space"], row["externalId"])
        assert key not in actual, f"{table.path}: key {key} appears twice"
        row.pop(REPLICATED_AT)
        actual[key] = canonical_actual(row, table.columns)
    problems = describe_differences(table.rows, actual)
    assert not problems, f"{table.path} differs from the emulator:\n" + "\n".join(problems)


def describe_differences(
    expected: dict[tuple[str, str], dict[str, Any]], actual: dict[tuple[str, str], dict[str, Any]], limit: int = 5
) -> list[str]:
    """Readable differences: missing keys, extra keys, and differing columns of common keys."""
    problems = []
    missing = sorted(set(expected) - set(actual))
    extra = sorted(set(actual) - set(expected))
    if missing:
        problems.append(f"  {len(missing)} rows missing, e.g. {missing[:limit]}")
    if extra:
        problems.append(f"  {len(extra)} rows that should not be there, e.g. {extra[:limit]}")
    differing = [key for key in sorted(set(expected) & set(actual)) if expected[key] != actual[key]]
    for key in differing[:limit]:
        columns = {
            name: (expected[key].get(name), actual[key].get(name))
            for name in set(expected[key]) | set(actual[key])
            if expected[key].get(name) != actual[key].get(name)
        }
        problems.append(f"  {key}: (expected, actual) {columns}")
    if len(differing) > limit:
        problems.append(f"  ... {len(differing)} rows differ in all")
    return problems


def assert_lake_matches(spark: Any, root: str, emulator: Emulator, model: ModelRef) -> dict[str, ExpectedTable]:
    """Every table of the model equals the emulator's current data, and no other table exists."""
    expected = expected_tables(emulator, model.space, model.model, model.version)
    assert table_paths(spark, root, model) == set(expected)
    for table in expected.values():
        assert_table_matches(spark, root, table)
    return expected


def cursor_states(spark: Any, root: str) -> dict[str, Any]:
    """The saved state of every table (the default Delta state store under ``<root>/_state``)."""
    from cdf_replicator.state import DeltaStateStore

    store = DeltaStateStore(spark, f"{root}/_state/cursors")
    keys = store.keys()
    return {key: store.get(key) for key in keys}


def table_versions(spark: Any, root: str, paths: Iterable[str]) -> dict[str, int]:
    from delta.tables import DeltaTable

    return {path: int(DeltaTable.forPath(spark, f"{root}/{path}").history(1).collect()[0]["version"]) for path in paths}


def resync_removals(log: str) -> dict[str, int]:
    """``{table label: rows removed}`` from the WARNINGs a full resync logs when it finishes."""
    pattern = re.compile(r"WARNING .*?(\S+/\S+ (?:nodes|edges)): full resync\b.*?\bremoved (\d+) rows")
    return {match.group(1): int(match.group(2)) for match in pattern.finditer(log)}
