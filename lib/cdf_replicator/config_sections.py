"""Validation of each config section: substituted YAML tree -> frozen config dataclasses.

Key spellings follow the older cdf-s3-replicator's files (hyphens in ``cognite`` and ``extractor``, underscores in
``data_modeling``) so that its users can keep their files; keys added here follow the same convention per section.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from pathlib import Path
from types import MappingProxyType
from typing import Any

from cdf_replicator.config_fields import (
    child,
    exactly_one,
    get_bool,
    get_int,
    get_log_level,
    get_seconds,
    get_secret,
    get_text,
    get_text_list,
    get_url,
    item,
    kind,
    read_mapping,
)
from cdf_replicator.config_locations import local_path, resolve_root, s3_root
from cdf_replicator.config_model import (
    SYNC_LIMIT_MAX,
    CogniteConfig,
    ConnectionConfig,
    ConsoleLogConfig,
    DataModelConfig,
    DeltaStateStoreConfig,
    DestinationConfig,
    ExtractorConfig,
    FileLogConfig,
    LoggerConfig,
    MemoryStateStoreConfig,
    OAuthConfig,
    RawStateStoreConfig,
    S3Config,
    SpaceConfig,
    SparkConfig,
    StateStoreConfig,
)
from cdf_replicator.errors import ConfigError

TOP_LEVEL = ("logger", "cognite", "extractor", "data_modeling", "destination", "spark")
TOP_LEVEL_HINTS = {
    "data-modeling": "did you mean 'data_modeling'? This key is spelled with an underscore",
    "type": "the 'type' key of cognite extractor configs is not used; remove it",
    "version": "config file versions are not used; remove it",
}
_SPACE_HINTS = {"views": "views belong to a data model: data_models[].views"}
_MODEL_HINTS = {"external-id": "did you mean 'external_id'? Data model keys are spelled with underscores"}


def build_logger(value: Any) -> LoggerConfig:
    """``logger``: ``console.level`` and optionally ``file.path``/``file.level``."""
    section = read_mapping(value, "logger", ("console", "file"))
    console = read_mapping(section.get("console"), "logger.console", ("level",))
    result = LoggerConfig(console=ConsoleLogConfig(level=get_log_level(console, "level", "logger.console")))
    if section.get("file") is None:
        return result
    file = read_mapping(section["file"], "logger.file", ("path", "level"))
    log_file = FileLogConfig(
        path=str(get_text(file, "path", "logger.file")), level=get_log_level(file, "level", "logger.file")
    )
    return LoggerConfig(console=result.console, file=log_file)


def build_cognite(value: Any) -> CogniteConfig:
    """``cognite``: host, project, and ``idp-authentication`` (client credentials) or a static ``token``."""
    allowed = ("host", "project", "idp-authentication", "token", "client-name", "extraction-pipeline", "connection")
    section = read_mapping(value, "cognite", allowed)
    auth = exactly_one(section, ("idp-authentication", "token"), "cognite")
    pipeline = read_mapping(section.get("extraction-pipeline"), "cognite.extraction-pipeline", ("external-id",))
    return CogniteConfig(
        host=get_url(section, "host", "cognite"),
        project=get_text(section, "project", "cognite"),
        oauth=_oauth(section["idp-authentication"]) if auth == "idp-authentication" else None,
        token=get_secret(section, "token", "cognite") if auth == "token" else None,
        client_name=get_text(section, "client-name", "cognite", "cdf-replicator"),
        extraction_pipeline=get_text(pipeline, "external-id", "cognite.extraction-pipeline", None),
        connection=_connection(section.get("connection")),
    )


def _oauth(value: Any) -> OAuthConfig:
    path = "cognite.idp-authentication"
    allowed = ("token-url", "tenant", "authority", "client-id", "secret", "scopes", "audience", "resource")
    section = read_mapping(value, path, allowed)
    if exactly_one(section, ("token-url", "tenant"), path) == "token-url":
        if "authority" in section:
            raise ConfigError("only used with 'tenant', not with 'token-url'", path=child(path, "authority"))
        token_url = get_url(section, "token-url", path)
    else:
        authority = get_url(section, "authority", path, "https://login.microsoftonline.com")
        token_url = f"{authority}/{get_text(section, 'tenant', path).strip()}/oauth2/v2.0/token"
    return OAuthConfig(
        token_url=token_url,
        client_id=get_text(section, "client-id", path),
        secret=get_secret(section, "secret", path),
        scopes=get_text_list(section, "scopes", path, allow_empty=True) or (),
        audience=get_text(section, "audience", path, None),
        resource=get_text(section, "resource", path, None),
    )


def _connection(value: Any) -> ConnectionConfig:
    path = "cognite.connection"
    section = read_mapping(value, path, ("timeout", "max-retries", "disable-ssl"))
    defaults = ConnectionConfig()
    return ConnectionConfig(
        timeout=get_seconds(section, "timeout", path, defaults.timeout),
        max_retries=get_int(section, "max-retries", path, defaults.max_retries, minimum=0),
        disable_ssl=get_bool(section, "disable-ssl", path, defaults.disable_ssl),
    )


def build_extractor(value: Any, root_uri: str, base_dir: Path) -> ExtractorConfig:
    """``extractor``: state store (default delta under ``<root>/_state``), schedule and batch sizes."""
    allowed = (
        "state-store",
        "poll-time",
        "snapshot-interval",
        "subscription-batch-size",
        "ingest-batch-size",
        "s3-ingest-batch-size",
        "workers",
        "max-page-buffer",
    )
    section = read_mapping(value, "extractor", allowed)
    defaults = ExtractorConfig(state_store=MemoryStateStoreConfig())
    return ExtractorConfig(
        state_store=_state_store(section.get("state-store"), root_uri, base_dir),
        poll_time=get_seconds(section, "poll-time", "extractor", defaults.poll_time),
        snapshot_interval=get_seconds(section, "snapshot-interval", "extractor", defaults.snapshot_interval),
        subscription_batch_size=_sync_page_size(section),
        ingest_batch_size=get_int(section, "ingest-batch-size", "extractor", defaults.ingest_batch_size, minimum=1),
        s3_ingest_batch_size=get_int(section, "s3-ingest-batch-size", "extractor", None, minimum=1),
        workers=get_int(section, "workers", "extractor", defaults.workers, minimum=1),
        max_page_buffer=get_int(section, "max-page-buffer", "extractor", defaults.max_page_buffer, minimum=0),
    )


def _sync_page_size(section: dict[str, Any]) -> int:
    size = int(get_int(section, "subscription-batch-size", "extractor", 1000, minimum=1))
    if size > SYNC_LIMIT_MAX:
        raise ConfigError(
            f"{size} is above {SYNC_LIMIT_MAX}, the largest page CDF's sync API returns; use at most {SYNC_LIMIT_MAX}",
            path="extractor.subscription-batch-size",
        )
    return size


def _state_store(value: Any, root_uri: str, base_dir: Path) -> StateStoreConfig:
    path = "extractor.state-store"
    section = read_mapping(value, path, ("delta", "raw", "memory"))
    store = exactly_one(section, ("delta", "raw", "memory"), path, required=False)
    if store == "raw":
        raw = read_mapping(section["raw"], child(path, "raw"), ("database", "table"))
        return RawStateStoreConfig(
            database=get_text(raw, "database", f"{path}.raw"), table=get_text(raw, "table", f"{path}.raw")
        )
    if store == "memory":
        read_mapping(section["memory"], child(path, "memory"), ())
        return MemoryStateStoreConfig()
    delta = read_mapping(section.get("delta"), child(path, "delta"), ("path",))
    location = get_text(delta, "path", f"{path}.delta", None)
    if location is None:
        return DeltaStateStoreConfig(path=f"{root_uri}/_state")
    return DeltaStateStoreConfig(path=resolve_root(location, base_dir, f"{path}.delta.path"))


def build_data_modeling(value: Any) -> tuple[SpaceConfig, ...]:
    """``data_modeling``: a non-empty list of spaces, each with a non-empty list of data models."""
    path = "data_modeling"
    if value is None:
        raise ConfigError("required: list the spaces and data models to replicate", path=path)
    if not isinstance(value, list):
        raise ConfigError(f"expected a list of spaces, got {kind(value)}", path=path)
    if not value:
        raise ConfigError("empty list: list the spaces and data models to replicate", path=path)
    spaces = tuple(_space(entry, item(path, index)) for index, entry in enumerate(value))
    _reject_duplicate_models(spaces)
    return spaces


def _space(value: Any, path: str) -> SpaceConfig:
    section = read_mapping(value, path, ("space", "data_models", "instance_spaces"), _SPACE_HINTS)
    space = get_text(section, "space", path)
    models = section.get("data_models")
    if models is None or models == []:
        raise ConfigError(
            f"space '{space}' has no data_models (the older cdf-s3-replicator silently ignored such entries); "
            "list the data models to replicate",
            path=child(path, "data_models"),
        )
    if not isinstance(models, list):
        raise ConfigError(f"expected a list of data models, got {kind(models)}", path=child(path, "data_models"))
    where = child(path, "data_models")
    return SpaceConfig(
        space=space,
        data_models=tuple(_data_model(model, item(where, index)) for index, model in enumerate(models)),
        instance_spaces=get_text_list(section, "instance_spaces", path),
    )


def _data_model(value: Any, path: str) -> DataModelConfig:
    section = read_mapping(value, path, ("external_id", "version", "views"), _MODEL_HINTS)
    return DataModelConfig(
        external_id=get_text(section, "external_id", path),
        version=_model_version(section.get("version"), child(path, "version")),
        views=get_text_list(section, "views", path),
    )


def _model_version(version: Any, path: str) -> str | None:
    if version is None:
        return None
    if isinstance(version, int) and not isinstance(version, bool):
        return str(version)  # `version: 2` is as common as `version: "2"`
    if isinstance(version, str) and version.strip():
        return version.strip()
    if isinstance(version, str):
        raise ConfigError("must not be empty; leave the key out for the latest version", path=path)
    hint = " (quote it: '1.0')" if isinstance(version, float) else ""
    raise ConfigError(f"expected a string, got {kind(version)}{hint}", path=path)


def _reject_duplicate_models(spaces: tuple[SpaceConfig, ...]) -> None:
    seen: set[tuple[str, str, str | None]] = set()
    for space_index, space in enumerate(spaces):
        for model_index, model in enumerate(space.data_models):
            key = (space.space, model.external_id, model.version)
            if key in seen:
                where = f"data_modeling[{space_index}].data_models[{model_index}]"
                raise ConfigError(f"data model {space.space}/{model.external_id} is listed twice", path=where)
            seen.add(key)


def build_destination(value: Any, base_dir: Path) -> DestinationConfig:
    """``destination``: a ``path`` (Hadoop URI or local folder) or ``s3`` (bucket, prefix, region, endpoint)."""
    section = read_mapping(value, "destination", ("path", "s3", "deletion-vectors"))
    deletion_vectors = get_bool(section, "deletion-vectors", "destination", True)
    if exactly_one(section, ("path", "s3"), "destination") == "path":
        location = get_text(section, "path", "destination")
        root = resolve_root(location, base_dir, "destination.path")
        return DestinationConfig(root_uri=root, deletion_vectors=deletion_vectors)
    s3 = _s3(section["s3"])
    return DestinationConfig(root_uri=s3_root(s3.bucket, s3.prefix), s3=s3, deletion_vectors=deletion_vectors)


def _s3(value: Any) -> S3Config:
    path = "destination.s3"
    section = read_mapping(value, path, ("bucket", "prefix", "region", "endpoint-url", "path-style"))
    bucket = get_text(section, "bucket", path).strip()
    if "/" in bucket or ":" in bucket:
        raise ConfigError(f"expected a bucket name (no scheme or '/'), got '{bucket}'", path=child(path, "bucket"))
    endpoint = get_url(section, "endpoint-url", path, None)
    return S3Config(
        bucket=bucket,
        region=get_text(section, "region", path).strip(),
        prefix=get_text(section, "prefix", path, "", allow_empty=True).strip().strip("/"),
        endpoint_url=endpoint,
        path_style=get_bool(section, "path-style", path, endpoint is not None),
    )


def resolve_log_file(logger: LoggerConfig, base_dir: Path) -> LoggerConfig:
    """The logger config with a relative log file path made absolute against the config file's folder."""
    if logger.file is None:
        return logger
    resolved = FileLogConfig(path=str(local_path(logger.file.path, base_dir)), level=logger.file.level)
    return LoggerConfig(console=logger.console, file=resolved)


def build_spark(value: Any) -> SparkConfig:
    """``spark``: master, extra Spark conf and shuffle partitions for the local session."""
    section = read_mapping(value, "spark", ("master", "conf", "shuffle-partitions"))
    conf = read_mapping(section.get("conf"), "spark.conf", _AnyKey())
    return SparkConfig(
        master=get_text(section, "master", "spark", None),
        conf=MappingProxyType({key: _spark_conf_value(conf[key], child("spark.conf", key)) for key in conf}),
        shuffle_partitions=get_int(section, "shuffle-partitions", "spark", None, minimum=1),
    )


class _AnyKey(Collection[str]):
    """Every string is an allowed key (Spark conf names are open-ended)."""

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and bool(key)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def _spark_conf_value(value: Any, path: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"  # Spark's spelling, not Python's
    if isinstance(value, (str, int, float)):
        return str(value)
    raise ConfigError(f"expected a string, number or boolean, got {kind(value)}", path=path)
