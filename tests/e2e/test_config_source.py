"""--config from S3 (the moto server) and DBFS (its /dbfs mount), as Databricks and EMR jobs pass it."""

from __future__ import annotations

from pathlib import Path

import pytest

from cdf_replicator.config_source import load_config_from
from cdf_replicator.errors import ConfigError
from tests.e2e.conftest import S3Server

CONFIG = """
cognite:
  host: https://example.cognitedata.com
  project: p
  token: ${CDF_TOKEN}
data_modeling:
  - space: sp
    data_models: [{external_id: M, version: "3"}]
destination:
  s3: {bucket: lake, prefix: cdf, region: us-east-1}
"""


def test_config_read_from_s3_with_variables_substituted(s3_env: S3Server, monkeypatch: pytest.MonkeyPatch) -> None:
    bucket = s3_env.new_bucket()
    s3_env.client().put_object(Bucket=bucket, Key="conf/replicator.yaml", Body=CONFIG.encode())
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3_env.endpoint_url)
    for uri in (f"s3://{bucket}/conf/replicator.yaml", f"s3a://{bucket}/conf/replicator.yaml"):
        config = load_config_from(uri, env={"CDF_TOKEN": "t0ken"})
        assert config.origin == uri
        assert config.root_uri == "s3a://lake/cdf"
        assert config.cognite.token is not None and config.cognite.token.reveal() == "t0ken"


def test_missing_s3_object_names_the_location(s3_env: S3Server, monkeypatch: pytest.MonkeyPatch) -> None:
    bucket = s3_env.new_bucket()
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3_env.endpoint_url)
    with pytest.raises(ConfigError) as raised:
        load_config_from(f"s3://{bucket}/nope.yaml", env={})
    assert str(raised.value) == f"s3://{bucket}/nope.yaml: cannot read the config object: NoSuchKey"


def test_config_read_from_dbfs_through_its_mount(tmp_path: Path) -> None:
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "replicator.yaml").write_text(CONFIG)
    config = load_config_from("dbfs:/configs/replicator.yaml", env={"CDF_TOKEN": "x"}, dbfs_mount=str(tmp_path))
    assert config.data_modeling[0].data_models[0].version == "3"


def test_dbfs_off_databricks_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="dbfs:/ paths are readable on Databricks only"):
        load_config_from("dbfs:/configs/replicator.yaml", env={}, dbfs_mount=str(tmp_path / "absent"))


def test_unknown_scheme_is_refused() -> None:
    with pytest.raises(ConfigError, match="unsupported config location scheme 'gs:'"):
        load_config_from("gs://bucket/replicator.yaml", env={})
