"""Config loading: valid files in every supported shape, and the exact text of every kind of error."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from cdf_replicator.config import (
    CogniteConfig,
    Config,
    ConnectionConfig,
    DataModelConfig,
    DeltaStateStoreConfig,
    DestinationConfig,
    ExtractorConfig,
    LoggerConfig,
    MemoryStateStoreConfig,
    OAuthConfig,
    RawStateStoreConfig,
    S3Config,
    Secret,
    SpaceConfig,
    load_config,
    parse_config,
)
from cdf_replicator.config_model import ConsoleLogConfig
from cdf_replicator.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]

# The example of the older cdf-s3-replicator's README, as its users have it (but with a page size CDF accepts).
SEED_SHAPE = """
logger:
  console:
    level: INFO
cognite:
  host: ${COGNITE_BASE_URL}
  project: ${COGNITE_PROJECT}
  idp-authentication:
    token-url: ${COGNITE_TOKEN_URL}
    client-id: ${COGNITE_CLIENT_ID}
    secret: ${COGNITE_CLIENT_SECRET}
    scopes:
      - ${COGNITE_TOKEN_SCOPES}
  extraction-pipeline:
    external-id: ${COGNITE_EXTRACTION_PIPELINE}
extractor:
  state-store:
    raw:
      database: ${COGNITE_STATE_DB}
      table: ${COGNITE_STATE_TABLE}
  poll-time: 900
  snapshot-interval: 900
  subscription-batch-size: 2000
  ingest-batch-size: 100000
  s3-ingest-batch-size: 1000
data_modeling:
  - space: analytics-space
    data_models:
      - external_id: CustomerModel
  - space: test-space
    data_models:
      - external_id: TestModel
        version: "2"
        views: [CustomerView, OrderView, ProductView]
destination:
  s3:
    bucket: ${AWS_S3_BUCKET}
    prefix: ${S3_PREFIX}
    region: ${AWS_REGION}
"""

SEED_ENV = {
    "COGNITE_BASE_URL": "https://westeurope-1.cognitedata.com/",
    "COGNITE_PROJECT": "acme",
    "COGNITE_TOKEN_URL": "https://login.microsoftonline.com/tenant-1/oauth2/v2.0/token",
    "COGNITE_CLIENT_ID": "client-1",
    "COGNITE_CLIENT_SECRET": "hunter2-very-secret",
    "COGNITE_TOKEN_SCOPES": "https://westeurope-1.cognitedata.com/.default",
    "COGNITE_EXTRACTION_PIPELINE": "s3-data-modeling-replicator",
    "COGNITE_STATE_DB": "s3_replicator_state",
    "COGNITE_STATE_TABLE": "data_modeling_state",
    "AWS_S3_BUCKET": "my-bucket",
    "S3_PREFIX": "cdf-data/",
    "AWS_REGION": "us-east-1",
}

# A small valid file to which tests add or change one thing.
MINIMAL = """
cognite:
  host: http://127.0.0.1:8585
  project: emulated
  token: ${TOKEN}
data_modeling:
  - space: demo_model
    data_models:
      - external_id: Plant
destination:
  path: /data/warehouse
"""
MINIMAL_ENV = {"TOKEN": "static-token-value"}


def parse(text: str, env: dict[str, str] | None = None, base_dir: Path = Path("/configs")) -> Config:
    return parse_config(textwrap.dedent(text), "test.yaml", MINIMAL_ENV if env is None else env, base_dir=base_dir)


def error_of(text: str, env: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        parse(text, env)
    return str(caught.value)


def with_extractor(lines: str) -> str:
    return MINIMAL + "extractor:\n" + textwrap.indent(textwrap.dedent(lines), "  ")


# ------------------------------------------------------------------------------------------------ valid files
def test_seed_shape_loads_into_the_whole_expected_config() -> None:
    config = parse(SEED_SHAPE, SEED_ENV)

    assert config == Config(
        cognite=CogniteConfig(
            host="https://westeurope-1.cognitedata.com",
            project="acme",
            oauth=OAuthConfig(
                token_url="https://login.microsoftonline.com/tenant-1/oauth2/v2.0/token",
                client_id="client-1",
                secret=Secret("hunter2-very-secret"),
                scopes=("https://westeurope-1.cognitedata.com/.default",),
            ),
            extraction_pipeline="s3-data-modeling-replicator",
        ),
        extractor=ExtractorConfig(
            state_store=RawStateStoreConfig(database="s3_replicator_state", table="data_modeling_state"),
            poll_time=900.0,
            snapshot_interval=900.0,
            subscription_batch_size=2000,
            ingest_batch_size=100_000,
            s3_ingest_batch_size=1000,
        ),
        data_modeling=(
            SpaceConfig("analytics-space", (DataModelConfig("CustomerModel"),)),
            SpaceConfig(
                "test-space", (DataModelConfig("TestModel", "2", ("CustomerView", "OrderView", "ProductView")),)
            ),
        ),
        destination=DestinationConfig(
            root_uri="s3a://my-bucket/cdf-data",
            s3=S3Config(bucket="my-bucket", region="us-east-1", prefix="cdf-data", endpoint_url=None, path_style=False),
        ),
        logger=LoggerConfig(console=ConsoleLogConfig("INFO")),
        origin="test.yaml",
    )
    assert config.root_uri == "s3a://my-bucket/cdf-data"
    assert config.state_root is None


def test_seed_page_size_of_10000_is_rejected_naming_the_cdf_limit() -> None:
    text = SEED_SHAPE.replace("subscription-batch-size: 2000", "subscription-batch-size: 10000")
    assert error_of(text, SEED_ENV) == (
        "test.yaml: extractor.subscription-batch-size: 10000 is above 2000, the largest page CDF's sync API "
        "returns; use at most 2000"
    )


def test_defaults_of_a_minimal_file() -> None:
    config = parse(MINIMAL)

    assert config.cognite == CogniteConfig(
        host="http://127.0.0.1:8585", project="emulated", token=Secret("static-token-value")
    )
    assert config.cognite.client_name == "cdf-replicator"
    assert config.cognite.connection == ConnectionConfig(timeout=60.0, max_retries=10, disable_ssl=False)
    assert config.extractor == ExtractorConfig(
        state_store=DeltaStateStoreConfig(path="file:/data/warehouse/_state"),
        poll_time=3600.0,
        snapshot_interval=900.0,
        subscription_batch_size=1000,
        ingest_batch_size=200_000,
        s3_ingest_batch_size=None,
        workers=4,
        max_page_buffer=2,
    )
    assert config.root_uri == "file:/data/warehouse"
    assert config.state_root == "file:/data/warehouse/_state"
    assert config.data_modeling == (SpaceConfig("demo_model", (DataModelConfig("Plant", None, None),), None),)


def test_s3_with_endpoint_defaults_to_path_style() -> None:
    text = MINIMAL.replace(
        "  path: /data/warehouse",
        "  s3:\n    bucket: lake\n    prefix: /cdf/replica/\n    region: eu-west-1\n    endpoint-url: http://127.0.0.1:5000/",
    )
    config = parse(text)

    assert config.destination == DestinationConfig(
        root_uri="s3a://lake/cdf/replica",
        s3=S3Config(
            bucket="lake",
            region="eu-west-1",
            prefix="cdf/replica",
            endpoint_url="http://127.0.0.1:5000",
            path_style=True,
        ),
    )
    assert config.state_root == "s3a://lake/cdf/replica/_state"


def test_s3_without_prefix_is_the_bucket_root_and_path_style_can_be_turned_off() -> None:
    text = MINIMAL.replace(
        "  path: /data/warehouse",
        "  s3:\n    bucket: lake\n    region: eu-west-1\n    endpoint-url: http://minio:9000\n    path-style: false",
    )
    config = parse(text)

    assert config.root_uri == "s3a://lake"
    assert config.destination.s3 is not None and config.destination.s3.path_style is False


def test_new_tables_get_deletion_vectors_unless_turned_off() -> None:
    assert parse(MINIMAL).destination.deletion_vectors is True
    off = parse(MINIMAL.replace("  path: /data/warehouse", "  path: /data/warehouse\n  deletion-vectors: false"))
    assert off.destination.deletion_vectors is False
    from_variable = MINIMAL.replace("  path: /data/warehouse", "  path: /data/warehouse\n  deletion-vectors: ${DV}")
    assert parse(from_variable, {**MINIMAL_ENV, "DV": "off"}).destination.deletion_vectors is False
    assert "destination.deletion-vectors" in error_of(
        MINIMAL.replace("  path: /data/warehouse", "  path: /data/warehouse\n  deletion-vectors: maybe")
    )


@pytest.mark.parametrize(
    ("path", "root"),
    [
        ("warehouse", "file:/configs/warehouse"),
        ("./out/../warehouse/", "file:/configs/warehouse"),
        ("../demo-output", "file:/demo-output"),
        ("/abs/folder", "file:/abs/folder"),
        ("file:///abs/folder/", "file:/abs/folder"),
        ("file:relative", "file:/configs/relative"),
        ("s3a://bucket/prefix/", "s3a://bucket/prefix"),
        ("dbfs:/mnt/lake", "dbfs:/mnt/lake"),
        ("abfss://c@acct.dfs.core.windows.net/x", "abfss://c@acct.dfs.core.windows.net/x"),
    ],
)
def test_destination_path_resolution(path: str, root: str) -> None:
    assert parse(MINIMAL.replace("/data/warehouse", path)).root_uri == root


def test_relative_paths_resolve_against_the_config_files_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "conf"
    folder.mkdir()
    text = (
        MINIMAL.replace("/data/warehouse", "${ROOT:-../out}") + "extractor:\n  state-store:\n    delta:\n      path: st"
    )
    (folder / "replicator.yaml").write_text(text)
    monkeypatch.chdir(tmp_path)  # the working directory must not matter

    config = load_config(folder / "replicator.yaml", MINIMAL_ENV)

    assert config.root_uri == f"file:{(tmp_path / 'out').as_posix()}"
    assert config.state_root == f"file:{(folder / 'st').as_posix()}"
    assert config.origin == str(folder / "replicator.yaml")


def test_memory_state_store_and_all_extractor_keys() -> None:
    config = parse(
        with_extractor("""
            state-store:
              memory: {}
            poll-time: 15m
            snapshot-interval: 1h30m
            subscription-batch-size: 1
            ingest-batch-size: 5000
            workers: 8
            max-page-buffer: 0
        """)
    )
    assert config.extractor == ExtractorConfig(
        state_store=MemoryStateStoreConfig(),
        poll_time=900.0,
        snapshot_interval=5400.0,
        subscription_batch_size=1,
        ingest_batch_size=5000,
        workers=8,
        max_page_buffer=0,
    )


def test_variable_defaults_and_typed_values_from_variables() -> None:
    text = with_extractor("poll-time: ${POLL:-600}\nworkers: ${WORKERS}\n") + (
        "spark:\n  master: ${MASTER:-local[2]}\n  conf:\n    spark.ui.enabled: false\n    spark.x.n: 3\n"
    )
    config = parse(text, {**MINIMAL_ENV, "WORKERS": "3", "MASTER": ""})

    assert config.extractor.poll_time == 600.0
    assert config.extractor.workers == 3
    assert config.spark.master == "local[2]"  # :- also applies to a set but empty variable
    assert dict(config.spark.conf) == {"spark.ui.enabled": "false", "spark.x.n": "3"}


def test_variables_inside_strings_and_escaped_dollar() -> None:
    text = MINIMAL.replace("project: emulated", "project: pre-${P}-$${NOT_A_VAR}")
    assert parse(text, {**MINIMAL_ENV, "P": "x"}).cognite.project == "pre-x-${NOT_A_VAR}"


def test_a_variable_value_cannot_change_the_yaml_structure() -> None:
    config = parse(MINIMAL, {"TOKEN": "a: b\n  # c"})
    assert config.cognite.token == Secret("a: b\n  # c")


def test_tenant_builds_the_entra_token_url_and_audience_is_kept() -> None:
    text = MINIMAL.replace(
        "  token: ${TOKEN}",
        "  idp-authentication:\n    tenant: t-1\n    client-id: c\n    secret: ${TOKEN}\n    audience: aud",
    )
    oauth = parse(text).cognite.oauth
    assert oauth == OAuthConfig(
        token_url="https://login.microsoftonline.com/t-1/oauth2/v2.0/token",
        client_id="c",
        secret=Secret("static-token-value"),
        scopes=(),
        audience="aud",
    )


def test_model_version_written_as_a_number_becomes_text() -> None:
    text = MINIMAL.replace("- external_id: Plant", "- external_id: Plant\n        version: 3")
    assert parse(text).data_modeling[0].data_models[0].version == "3"


def test_log_file_resolves_against_the_config_folder() -> None:
    config = parse(MINIMAL + "logger:\n  console:\n    level: debug\n  file:\n    path: logs/r.log\n")
    assert config.logger.console.level == "DEBUG"
    assert config.logger.file is not None and config.logger.file.path == "/configs/logs/r.log"


def test_shipped_example_and_demo_files_load() -> None:
    demo = load_config(REPO / "conf" / "demo.yaml", {})
    assert demo.cognite.project == "emulated"
    assert demo.cognite.oauth is not None and demo.cognite.oauth.token_url == "http://127.0.0.1:8585/oauth2/token"
    assert demo.data_modeling == (SpaceConfig("demo_model", (DataModelConfig("Plant", "v1"),)),)
    assert demo.root_uri == f"file:{(REPO / 'demo-output').as_posix()}"
    assert demo.state_root == demo.root_uri + "/_state"

    example = load_config(REPO / "conf" / "example.yaml", {**SEED_ENV, "S3_PREFIX": ""})
    assert example.root_uri == "s3a://my-bucket"
    assert example.extractor.subscription_batch_size == 1000


def test_an_optional_key_with_an_empty_variable_counts_as_absent() -> None:
    pipeline = "  token: ${TOKEN}\n  extraction-pipeline:\n    external-id: ${PIPELINE:-}"
    text = MINIMAL.replace("  token: ${TOKEN}", pipeline) + "extractor:\n  workers: ${WORKERS:-}\n"
    config = parse(text)
    assert (config.cognite.extraction_pipeline, config.extractor.workers) == (None, 4)
    assert parse(text, {**MINIMAL_ENV, "PIPELINE": "p-1"}).cognite.extraction_pipeline == "p-1"
