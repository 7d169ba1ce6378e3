"""Load the replicator's YAML config: YAML -> ``${VAR}`` substitution -> strict validation -> :class:`Config`.

The file keeps the older cdf-s3-replicator's shape (``cognite``, ``extractor``, ``data_modeling``,
``destination.s3``) so its users can reuse their files; ``conf/example.yaml`` documents every key. Every
problem is a :class:`~cdf_replicator.errors.ConfigError` naming the file and the dotted path of the field.
This module and the CLI are the only places that read the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cdf_replicator.config_fields import read_mapping
from cdf_replicator.config_model import (
    SYNC_LIMIT_MAX,
    CogniteConfig,
    Config,
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
    Secret,
    SpaceConfig,
    SparkConfig,
    StateStoreConfig,
)
from cdf_replicator.config_sections import (
    TOP_LEVEL,
    TOP_LEVEL_HINTS,
    build_cognite,
    build_data_modeling,
    build_destination,
    build_extractor,
    build_logger,
    build_spark,
    resolve_log_file,
)
from cdf_replicator.config_yaml import read_yaml, substitute_variables
from cdf_replicator.errors import ConfigError

__all__ = [
    "SYNC_LIMIT_MAX",
    "CogniteConfig",
    "Config",
    "ConfigError",
    "ConnectionConfig",
    "ConsoleLogConfig",
    "DataModelConfig",
    "DeltaStateStoreConfig",
    "DestinationConfig",
    "ExtractorConfig",
    "FileLogConfig",
    "LoggerConfig",
    "MemoryStateStoreConfig",
    "OAuthConfig",
    "RawStateStoreConfig",
    "S3Config",
    "Secret",
    "SpaceConfig",
    "SparkConfig",
    "StateStoreConfig",
    "load_config",
    "parse_config",
]


def load_config(source: str | Path, env: Mapping[str, str] | None = None) -> Config:
    """Read and validate the config file at ``source``; ``env`` defaults to ``os.environ``.

    Relative local paths in the file resolve against the file's folder.
    """
    path = Path(source).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else type(error).__name__
        raise ConfigError(f"cannot read the config file: {reason}", origin=str(source)) from None
    return parse_config(text, str(source), env, base_dir=path.absolute().parent)


def parse_config(
    text: str, origin: str, env: Mapping[str, str] | None = None, *, base_dir: Path | None = None
) -> Config:
    """Validate config ``text``; ``origin`` names it in errors, ``base_dir`` (default: cwd) anchors relative paths."""
    try:
        tree = substitute_variables(read_yaml(text), os.environ if env is None else env)
        return build_config(tree, (base_dir or Path.cwd()).absolute(), origin)
    except ConfigError as error:
        raise error.located(origin) from None


def build_config(tree: Any, base_dir: Path, origin: str = "") -> Config:
    """Build a :class:`Config` from an already substituted YAML tree (the config file's top-level mapping)."""
    if tree is None:
        raise ConfigError("the config is empty")
    if not isinstance(tree, dict):
        raise ConfigError("expected a mapping of sections (cognite, extractor, data_modeling, destination, ...)")
    section = read_mapping(tree, "", TOP_LEVEL, TOP_LEVEL_HINTS)
    for required in ("cognite", "data_modeling", "destination"):
        if required not in section:
            raise ConfigError("required section missing", path=required)
    destination = build_destination(section.get("destination"), base_dir)
    return Config(
        cognite=build_cognite(section.get("cognite")),
        extractor=build_extractor(section.get("extractor"), destination.root_uri, base_dir),
        data_modeling=build_data_modeling(section.get("data_modeling")),
        destination=destination,
        logger=resolve_log_file(build_logger(section.get("logger")), base_dir),
        spark=build_spark(section.get("spark")),
        origin=origin,
    )
