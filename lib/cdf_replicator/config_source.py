"""Read the config file from wherever the job finds it: a local path, S3 (``s3://``/``s3a://``) or DBFS (``dbfs:/``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlparse

from cdf_replicator.config import Config, load_config, parse_config
from cdf_replicator.errors import ConfigError

DBFS_MOUNT = "/dbfs"


def load_config_from(uri: str, env: Mapping[str, str] | None = None, dbfs_mount: str = DBFS_MOUNT) -> Config:
    """Load and validate a config from a local path or URI.

    S3 objects are read with boto3 and the standard AWS credential chain (``AWS_ENDPOINT_URL_S3`` or
    ``AWS_ENDPOINT_URL`` point it at an S3-compatible store). ``dbfs:/`` paths are read through the
    ``/dbfs`` mount every Databricks cluster has. Relative paths inside a remote config resolve against the
    current directory.
    """
    scheme = urlparse(uri).scheme.lower()
    if scheme in ("s3", "s3a"):
        return parse_config(read_s3_text(uri), uri, env, base_dir=Path.cwd())
    if scheme == "dbfs":
        return load_config(dbfs_local_path(uri, dbfs_mount), env)
    if scheme == "file":
        return load_config(urlparse(uri).path, env)
    if scheme and len(scheme) > 1:
        raise ConfigError(
            f"unsupported config location scheme '{scheme}:' (use a local path, s3://, s3a:// or dbfs:/)", origin=uri
        )
    return load_config(uri, env)


def dbfs_local_path(uri: str, mount: str = DBFS_MOUNT) -> Path:
    """``dbfs:/folder/file.yaml`` -> ``/dbfs/folder/file.yaml``; an error off Databricks, where no mount exists."""
    relative = urlparse(uri).path.lstrip("/")
    if not os.path.isdir(mount):
        raise ConfigError(
            f"cannot read {uri}: dbfs:/ paths are readable on Databricks only (no {mount} mount here)", origin=uri
        )
    return Path(mount) / relative


def read_s3_text(uri: str) -> str:
    """The text of an S3 object; errors name the object, never credentials."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    parsed = urlparse(uri)
    bucket, key = parsed.netloc, parsed.path.lstrip("/")
    if not bucket or not key:
        raise ConfigError("an S3 config location needs a bucket and a key: s3://bucket/path/config.yaml", origin=uri)
    try:
        body = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "error")
        raise ConfigError(f"cannot read the config object: {code}", origin=uri) from None
    except BotoCoreError as error:
        raise ConfigError(f"cannot read the config object: {error}", origin=uri) from None
    try:
        return str(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError("the config object is not UTF-8 text", origin=uri) from None
