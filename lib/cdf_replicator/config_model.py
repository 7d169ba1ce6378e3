"""The validated configuration: frozen dataclasses built by :mod:`cdf_replicator.config` and passed down.

Secret values live in :class:`Secret`, whose ``repr`` and ``str`` are ``***``, so a config can be logged,
printed or put in an exception without leaking them; only the CDF adapter calls :meth:`Secret.reveal`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

DEFAULT_CLIENT_NAME = "cdf-replicator"
SYNC_LIMIT_MAX = 2000  # CDF's largest /models/instances/sync page (TableExpressionSyncLimit)
REDACTED = "***"


class Secret:
    """A secret string: ``repr``/``str`` show ``***``; :meth:`reveal` returns the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret value, for the one place that must send it (the CDF credentials)."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret('{REDACTED}')"

    def __str__(self) -> str:
        return REDACTED

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclasses.dataclass(frozen=True)
class ConsoleLogConfig:
    """``logger.console``: the level of log lines written to stderr."""

    level: str = "INFO"


@dataclasses.dataclass(frozen=True)
class FileLogConfig:
    """``logger.file``: also log to a local file (path resolved against the config file's folder)."""

    path: str
    level: str = "INFO"


@dataclasses.dataclass(frozen=True)
class LoggerConfig:
    """``logger``: console logging is always on; file logging when ``file`` is set."""

    console: ConsoleLogConfig = ConsoleLogConfig()
    file: FileLogConfig | None = None


@dataclasses.dataclass(frozen=True)
class OAuthConfig:
    """``cognite.idp-authentication``: OAuth 2.0 client credentials."""

    token_url: str
    client_id: str
    secret: Secret
    scopes: tuple[str, ...] = ()
    audience: str | None = None
    resource: str | None = None


@dataclasses.dataclass(frozen=True)
class ConnectionConfig:
    """``cognite.connection``: HTTP timeout (seconds), retries and TLS verification of the CDF client."""

    timeout: float = 60.0
    max_retries: int = 10
    disable_ssl: bool = False


@dataclasses.dataclass(frozen=True)
class CogniteConfig:
    """``cognite``: the CDF project and how to authenticate to it (exactly one of ``oauth`` and ``token``)."""

    host: str
    project: str
    oauth: OAuthConfig | None = None
    token: Secret | None = None
    client_name: str = DEFAULT_CLIENT_NAME
    extraction_pipeline: str | None = None
    connection: ConnectionConfig = ConnectionConfig()


@dataclasses.dataclass(frozen=True)
class DeltaStateStoreConfig:
    """Cursors in a Delta table at ``path`` (default ``<root>/_state``); needs no CDF write access."""

    path: str


@dataclasses.dataclass(frozen=True)
class RawStateStoreConfig:
    """Cursors in CDF RAW, as the older cdf-s3-replicator keeps them."""

    database: str
    table: str


@dataclasses.dataclass(frozen=True)
class MemoryStateStoreConfig:
    """Cursors in process memory only (tests): every run backfills."""


StateStoreConfig = DeltaStateStoreConfig | RawStateStoreConfig | MemoryStateStoreConfig


@dataclasses.dataclass(frozen=True)
class ExtractorConfig:
    """``extractor``: state store, schedule and batch sizes.

    ``s3_ingest_batch_size`` is accepted so that files written for the older cdf-s3-replicator still load; it is
    unused (Delta commits are bounded by ``ingest_batch_size``).
    """

    state_store: StateStoreConfig
    poll_time: float = 3600.0
    snapshot_interval: float = 900.0
    subscription_batch_size: int = 1000
    ingest_batch_size: int = 200_000
    s3_ingest_batch_size: int | None = None
    workers: int = 4
    max_page_buffer: int = 2


@dataclasses.dataclass(frozen=True)
class DataModelConfig:
    """One data model to replicate; ``version`` None means the latest, ``views`` None means all its views."""

    external_id: str
    version: str | None = None
    views: tuple[str, ...] | None = None


@dataclasses.dataclass(frozen=True)
class SpaceConfig:
    """One ``data_modeling`` entry: data models of ``space``; ``instance_spaces`` None means instances in any space."""

    space: str
    data_models: tuple[DataModelConfig, ...]
    instance_spaces: tuple[str, ...] | None = None


@dataclasses.dataclass(frozen=True)
class S3Config:
    """``destination.s3``: credentials never come from the config but from the AWS default chain (env, role)."""

    bucket: str
    region: str
    prefix: str = ""
    endpoint_url: str | None = None
    path_style: bool = False


@dataclasses.dataclass(frozen=True)
class DestinationConfig:
    """Where tables go: ``root_uri`` is a Hadoop URI (``file:/...``, ``s3a://...``, ``dbfs:/...``, ...)."""

    root_uri: str
    s3: S3Config | None = None
    # New tables get deletion vectors: a MERGE then marks replaced rows instead of rewriting whole files.
    deletion_vectors: bool = True


@dataclasses.dataclass(frozen=True)
class SparkConfig:
    """``spark``: used only for the local session; on Databricks/EMR the platform's session is used as is."""

    master: str | None = None
    conf: Mapping[str, str] = dataclasses.field(default_factory=lambda: MappingProxyType({}))
    shuffle_partitions: int | None = None


@dataclasses.dataclass(frozen=True)
class Config:
    """The whole validated configuration."""

    cognite: CogniteConfig
    extractor: ExtractorConfig
    data_modeling: tuple[SpaceConfig, ...]
    destination: DestinationConfig
    logger: LoggerConfig = LoggerConfig()
    spark: SparkConfig = SparkConfig()
    origin: str = ""

    @property
    def root_uri(self) -> str:
        """The destination root (no trailing slash): ``raw/``, ``publish/`` and ``_state/`` live under it."""
        return self.destination.root_uri

    @property
    def state_root(self) -> str | None:
        """The Delta state table's location when the state store is ``delta``, otherwise None."""
        store = self.extractor.state_store
        return store.path if isinstance(store, DeltaStateStoreConfig) else None

    def redacted(self) -> dict[str, Any]:
        """The config as plain data (dicts, lists, scalars) with every secret replaced by ``***``."""
        plain = {field.name: _plain(getattr(self, field.name)) for field in dataclasses.fields(self)}
        store = self.extractor.state_store
        plain["extractor"]["state_store"] = {_STATE_STORE_KINDS[type(store)]: _plain(store)}
        return plain

    def describe(self) -> str:
        """A few human-readable lines: where from, where to, how state is kept and what is replicated."""
        oauth = self.cognite.oauth
        auth = f"OAuth client {oauth.client_id}" if oauth else "static token"
        lines = [
            f"CDF: project {self.cognite.project} at {self.cognite.host} ({auth})",
            f"Destination: {self.root_uri}",
            f"State store: {_describe_state_store(self.extractor.state_store)}",
        ]
        for space in self.data_modeling:
            for model in space.data_models:
                views = ", ".join(model.views) if model.views else "all views"
                lines.append(f"Model: {space.space}/{model.external_id}/{model.version or 'latest'} ({views})")
        return "\n".join(lines)


_STATE_STORE_KINDS = {DeltaStateStoreConfig: "delta", RawStateStoreConfig: "raw", MemoryStateStoreConfig: "memory"}


def _describe_state_store(store: StateStoreConfig) -> str:
    if isinstance(store, DeltaStateStoreConfig):
        return f"delta at {store.path}"
    if isinstance(store, RawStateStoreConfig):
        return f"CDF RAW {store.database}/{store.table}"
    return "memory (not persisted)"


def _plain(value: Any) -> Any:
    if isinstance(value, Secret):
        return REDACTED
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: _plain(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (tuple, list)):
        return [_plain(item) for item in value]
    return value
