"""Cursor state per (view, nodes|edges): the value, the store protocol, and the in-memory store.

The cursor of a key is saved only after the Delta commit that holds the rows it read: a pipeline merges a batch,
gets the commit's table version, and only then calls ``store.set(key, state.advanced(cursor, version))``. A kill
between the two replays the batch, which the MERGE ignores, so nothing is lost or duplicated.

Stores, all answering the ``StateStore`` protocol: ``MemoryStateStore`` (tests), ``DeltaStateStore`` (the default:
a Delta table under ``<root>/_state``, needs no CDF write access) and ``RawStateStore`` (CDF RAW, like the seed
tool and extractor-utils).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

from cdf_replicator.errors import StateError

if TYPE_CHECKING:
    from cognite.client import CogniteClient
    from pyspark.sql import DataFrame, SparkSession

logger = logging.getLogger(__name__)

Kind = Literal["nodes", "edges"]
T = TypeVar("T")


def state_key(space: str, model: str, version: str, view: str, kind: Kind) -> str:
    """The state key of one table: ``<space>_<model>_<version>_<view>_nodes|edges`` (the seed tool's keys)."""
    if kind not in ("nodes", "edges"):
        raise ValueError(f"kind must be 'nodes' or 'edges', not {kind!r}")
    return f"{space}_{model}_{version}_{view}_{kind}"


@dataclass(frozen=True)
class CursorState:
    """Where a table's sync stands.

    ``cursor``: the sync cursor to continue from (``None``: backfill from the start).
    ``resync_started_at``: epoch ms when a full resync began (after an expired cursor); set until the resync has
    deleted the rows it did not see, so a killed resync continues instead of starting over.
    ``table_version``: the Delta version of the commit that holds the rows the cursor has read (for time travel
    and for logs), ``None`` before the first commit.
    """

    cursor: str | None = None
    resync_started_at: int | None = None
    table_version: int | None = None

    @property
    def resyncing(self) -> bool:
        return self.resync_started_at is not None

    def advanced(self, cursor: str, table_version: int | None = None) -> CursorState:
        """The state after a commit (``table_version``) or an idle refresh (no version: the last one stays)."""
        version = self.table_version if table_version is None else table_version
        return replace(self, cursor=cursor, table_version=version)

    def resync_started(self, now_ms: int) -> CursorState:
        """The state of a full resync that starts now: no cursor, the start time recorded."""
        return replace(self, cursor=None, resync_started_at=now_ms)

    def resync_finished(self) -> CursorState:
        """The state once the resync has deleted every row it did not see."""
        return replace(self, resync_started_at=None)

    def to_json(self) -> str:
        return json.dumps(
            {"cursor": self.cursor, "resync_started_at": self.resync_started_at, "table_version": self.table_version},
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str, key: str = "") -> CursorState:
        """Parse ``to_json`` output; unknown fields are ignored, wrong types raise ``StateError``."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise StateError(f"state of {key or 'a key'} is not JSON: {e.msg}") from e
        if not isinstance(data, dict):
            raise StateError(f"state of {key or 'a key'} is not a JSON object")
        return cls.from_fields(data, key)

    @classmethod
    def from_fields(cls, data: dict[str, Any], key: str = "") -> CursorState:
        """Build a state from a dict, checking each field's type."""
        cursor, started, version = data.get("cursor"), data.get("resync_started_at"), data.get("table_version")
        if cursor is not None and not isinstance(cursor, str):
            raise StateError(f"state of {key or 'a key'}: cursor must be a string, not {type(cursor).__name__}")
        for name, value in (("resync_started_at", started), ("table_version", version)):
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
                raise StateError(f"state of {key or 'a key'}: {name} must be an integer, not {type(value).__name__}")
        return cls(cursor=cursor, resync_started_at=started, table_version=version)


class StateStore(Protocol):
    """Where cursor states live, one per state key. Implementations are safe to use from several threads."""

    def get(self, key: str) -> CursorState | None:
        """The state of ``key``, ``None`` when there is none (never synced, or deleted)."""
        ...

    def set(self, key: str, state: CursorState) -> None:
        """Replace the state of ``key``; durable when this returns."""
        ...

    def delete(self, key: str) -> None:
        """Forget ``key`` (the next run backfills it); a key without state is not an error."""
        ...

    def keys(self) -> list[str]:
        """Every key that has a state, sorted."""
        ...


class MemoryStateStore:
    """A ``StateStore`` in a dict, for tests and dry runs."""

    def __init__(self, states: dict[str, CursorState] | None = None) -> None:
        self._states = dict(states or {})
        self._lock = threading.Lock()

    def get(self, key: str) -> CursorState | None:
        with self._lock:
            return self._states.get(key)

    def set(self, key: str, state: CursorState) -> None:
        with self._lock:
            self._states[key] = state

    def delete(self, key: str) -> None:
        with self._lock:
            self._states.pop(key, None)

    def keys(self) -> list[str]:
        with self._lock:
            return sorted(self._states)


class DeltaStateStore:
    """A ``StateStore`` in a Delta table of ``(key, state, written_at)`` rows; the newest row of a key wins.

    Every ``set`` and ``delete`` is a blind append (``delete`` appends a row whose ``state`` is null). Delta never
    makes blind appends conflict, so views running concurrently, in threads or processes, never fail each other's
    state writes. ``compact`` drops superseded rows; run it when a run ends.
    """

    SCHEMA_DDL = "key STRING NOT NULL, state STRING, written_at TIMESTAMP NOT NULL"

    def __init__(self, spark: SparkSession, path: str) -> None:
        self._spark = spark
        self._path = path
        self._lock = threading.Lock()
        self._last_written: datetime | None = None
        self._run: _RunCache | None = None

    @contextmanager
    def run_cache(self) -> Iterator[None]:
        """Within the block, read the table once: ``get`` answers from that read, ``compact`` counts files from it.

        For a replicate run, which owns the keys of its tables: every ``set`` and ``delete`` still goes to the
        table before it returns, and updates the cache too. What another process writes during the block is not
        seen, which is right for keys this run owns (a table has one writer) and why the cache lives no longer.
        Saves a Spark query per table and the file count (a snapshot of the table) when the run ends.
        """
        self._run = self._read_all()
        try:
            yield
        finally:
            self._run = None

    def get(self, key: str) -> CursorState | None:
        from pyspark.sql import functions as F  # noqa: N812 (the usual PySpark alias)

        run = self._run
        if run is not None:
            with self._lock:
                text = run.states.get(key)
            return None if text is None else CursorState.from_json(text, key)
        if not self._exists():
            return None
        rows = self._spark.read.format("delta").load(self._path).where(F.col("key") == key)
        newest = rows.orderBy(F.col("written_at").desc()).select("state").limit(1).collect()
        text = newest[0]["state"] if newest else None
        return None if text is None else CursorState.from_json(text, key)

    def set(self, key: str, state: CursorState) -> None:
        self._append(key, state.to_json())

    def delete(self, key: str) -> None:
        self._append(key, None)

    def keys(self) -> list[str]:
        if not self._exists():
            return []
        return sorted(row["key"] for row in self._latest().where("state IS NOT NULL").select("key").collect())

    def compact(self, min_files: int = 1) -> bool:
        """Delete every row that a newer row of its key supersedes (and deleted keys), then compact the files.

        Does nothing while the table has fewer than ``min_files`` data files (every ``set`` adds one), so a caller
        can let a few runs' rows pile up instead of paying a MERGE and an OPTIMIZE after each. Returns whether it
        compacted. Under Delta's default WriteSerializable isolation this MERGE cannot conflict with concurrent
        appends.
        """
        from delta.tables import DeltaTable

        run = self._run
        # An open run cache counted the files as it read and wrote them; otherwise the table's detail says.
        # No file means no table (or nothing to compact), whatever ``min_files`` is.
        if (run.files if run is not None else self._data_files()) < max(min_files, 1):
            return False
        table = DeltaTable.forPath(self._spark, self._path)
        current = self._latest().where("state IS NOT NULL").select("key", "written_at")
        condition = "t.key = s.key AND t.written_at = s.written_at"
        table.alias("t").merge(current.alias("s"), condition).whenNotMatchedBySourceDelete().execute()
        table.optimize().executeCompaction()
        if run is not None:
            run.files = 1
        logger.info("compacted the state table %s", self._path)
        return True

    def _data_files(self) -> int:
        """The table's data files (0 when there is no table yet), from its detail."""
        from delta.tables import DeltaTable

        if not self._exists():
            return 0
        files = DeltaTable.forPath(self._spark, self._path).detail().select("numFiles").first()
        return 0 if files is None else int(files[0])

    def _latest(self) -> DataFrame:
        from pyspark.sql import Window
        from pyspark.sql import functions as F  # noqa: N812

        newest_first = Window.partitionBy("key").orderBy(F.col("written_at").desc())
        rows = self._spark.read.format("delta").load(self._path)
        return rows.withColumn("_rank", F.row_number().over(newest_first)).where("_rank = 1").drop("_rank")

    def _exists(self) -> bool:
        from delta.tables import DeltaTable

        return bool(DeltaTable.isDeltaTable(self._spark, self._path))

    def _read_all(self) -> _RunCache:
        """The newest state of every key and the number of data files, from one scan of the table."""
        from pyspark.sql import functions as F  # noqa: N812

        if not self._exists():
            return _RunCache({}, 0)
        rows = (
            self._spark.read.format("delta")
            .load(self._path)
            .select("key", "state", "written_at", F.input_file_name().alias("file"))
            .collect()
        )
        newest: dict[str, Any] = {}
        for row in rows:
            if row["key"] not in newest or row["written_at"] > newest[row["key"]]["written_at"]:
                newest[row["key"]] = row
        return _RunCache({key: row["state"] for key, row in newest.items()}, len({row["file"] for row in rows}))

    def _append(self, key: str, text: str | None) -> None:
        with self._lock:
            self._create_once()
            written_at = self._next_written_at()
        row = self._spark.createDataFrame([(key, text, written_at)], self.SCHEMA_DDL)
        row.write.format("delta").mode("append").save(self._path)
        run = self._run
        if run is not None:
            with self._lock:
                run.states[key] = text
                run.files += 1  # a one-row append writes one file

    def _create_once(self) -> None:
        from delta import exceptions as conflicts
        from delta.tables import DeltaTable

        if self._exists():
            return
        try:
            schema = self._spark.createDataFrame([], self.SCHEMA_DDL).schema
            DeltaTable.createIfNotExists(self._spark).location(self._path).addColumns(schema).execute()
        except (
            conflicts.DeltaConcurrentModificationException,
            conflicts.ConcurrentWriteException,
            conflicts.MetadataChangedException,
            conflicts.ProtocolChangedException,
        ):
            # Another process created it at the same instant; any other outcome is an error.
            if not self._exists():
                raise

    def _next_written_at(self) -> datetime:
        """Now, but strictly later than this store's previous write (Spark timestamps hold microseconds)."""
        now = datetime.now(timezone.utc)
        if self._last_written is not None and now <= self._last_written:
            now = self._last_written + timedelta(microseconds=1)
        self._last_written = now
        return now


@dataclass
class _RunCache:
    """What ``DeltaStateStore.run_cache`` read: the newest state text per key, and the table's data files."""

    states: dict[str, str | None]
    files: int


class RawStateStore:
    """A ``StateStore`` in a CDF RAW table: row key = state key, columns ``{"high": <cursor>, ...}``.

    The ``high`` column is where extractor-utils' ``RawStateStore`` (and the seed tool) keep a cursor, so either
    tool reads the other's cursors; our extra fields sit beside it. The database and table are created on the
    first write (CDF answers 400 when they already exist), so reading never writes.
    """

    def __init__(self, client: CogniteClient, database: str, table: str) -> None:
        self._client = client
        self._database = database
        self._table = table
        self._ensured = False
        self._lock = threading.Lock()

    def get(self, key: str) -> CursorState | None:
        row = self._call("read", key, lambda: self._client.raw.rows.retrieve(self._database, self._table, key))
        if row is None or row.columns is None:
            return None
        columns = dict(row.columns)
        high = columns.get("high")
        columns["cursor"] = high if isinstance(high, str) else None
        return CursorState.from_fields(columns, key)

    def set(self, key: str, state: CursorState) -> None:
        columns = {"high": state.cursor, "resync_started_at": state.resync_started_at}
        columns["table_version"] = state.table_version
        self._ensure_table()
        self._call("write", key, lambda: self._client.raw.rows.insert(self._database, self._table, {key: columns}))

    def delete(self, key: str) -> None:
        from cognite.client.exceptions import CogniteNotFoundError

        try:
            self._call("delete", key, lambda: self._client.raw.rows.delete(self._database, self._table, key))
        except StateError as e:
            if not isinstance(e.__cause__, CogniteNotFoundError):
                raise

    def keys(self) -> list[str]:
        from cognite.client.exceptions import CogniteNotFoundError

        try:
            rows = self._call(
                "list", "keys", lambda: self._client.raw.rows.list(self._database, self._table, limit=None)
            )
        except StateError as e:
            if isinstance(e.__cause__, CogniteNotFoundError):
                return []
            raise
        return sorted(row.key for row in rows if row.key is not None)

    def _ensure_table(self) -> None:
        from cognite.client.exceptions import CogniteAPIError

        with self._lock:
            if self._ensured:
                return
            for create in (
                lambda: self._client.raw.databases.create(self._database),
                lambda: self._client.raw.tables.create(self._database, self._table),
            ):
                try:
                    create()
                except CogniteAPIError as e:
                    if e.code != 400:  # 400: it already exists
                        raise StateError(f"cannot create RAW {self._where}: {e.code} {e.message}") from e
            self._ensured = True

    @property
    def _where(self) -> str:
        return f"{self._database}/{self._table}"

    def _call(self, action: str, key: str, call: Callable[[], T]) -> T:
        from cognite.client.exceptions import CogniteAPIError

        try:
            return call()
        except CogniteAPIError as e:
            raise StateError(f"cannot {action} state {key} in RAW {self._where}: {e.code} {e.message}") from e
