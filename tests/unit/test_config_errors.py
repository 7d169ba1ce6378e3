"""Config errors: each kind, with its exact message; and secrets never shown by repr, str, describe or errors."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from cdf_replicator.config import load_config, parse_config
from cdf_replicator.errors import ConfigError, ReplicatorError
from tests.unit.test_config import MINIMAL, MINIMAL_ENV, SEED_ENV, SEED_SHAPE, error_of, parse, with_extractor

SECRET = SEED_ENV["COGNITE_CLIENT_SECRET"]


def two_models(second: str) -> str:
    return MINIMAL.replace("      - external_id: Plant", "      - external_id: Plant\n" + second)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            two_models("      - external_id: Other\n        verison: v1"),
            "test.yaml: data_modeling[0].data_models[1].verison: unknown key (did you mean 'version'?)",
        ),
        (with_extractor("poll_time: 5"), "test.yaml: extractor.poll_time: unknown key (did you mean 'poll-time'?)"),
        (
            MINIMAL.replace("data_modeling:", "data-modeling:"),
            "test.yaml: data-modeling: unknown key (did you mean 'data_modeling'? This key is spelled with an "
            "underscore)",
        ),
        (
            MINIMAL + "colour: blue\n",
            "test.yaml: colour: unknown key (expected one of: cognite, data_modeling, destination, extractor, "
            "logger, spark)",
        ),
        (
            MINIMAL.replace("  - space: demo_model", "  - space: demo_model\n    views: [Asset]"),
            "test.yaml: data_modeling[0].views: unknown key (views belong to a data model: data_models[].views)",
        ),
        (
            with_extractor("state-store:\n  raw:\n    database: d\n    tabel: t"),
            "test.yaml: extractor.state-store.raw.tabel: unknown key (did you mean 'table'?)",
        ),
    ],
)
def test_unknown_keys_name_their_path(text: str, message: str) -> None:
    assert error_of(text) == message


def test_unset_variable_names_the_variable_and_the_path() -> None:
    env = {key: value for key, value in SEED_ENV.items() if key != "COGNITE_CLIENT_SECRET"}
    assert error_of(SEED_SHAPE, env) == (
        "test.yaml: cognite.idp-authentication.secret: environment variable COGNITE_CLIENT_SECRET is not set"
    )


def test_unset_variable_inside_a_list_names_the_index() -> None:
    env = {key: value for key, value in SEED_ENV.items() if key != "COGNITE_TOKEN_SCOPES"}
    assert error_of(SEED_SHAPE, env) == (
        "test.yaml: cognite.idp-authentication.scopes[0]: environment variable COGNITE_TOKEN_SCOPES is not set"
    )


def test_malformed_variable_reference() -> None:
    assert error_of(MINIMAL.replace("${TOKEN}", "${TOKEN")) == (
        "test.yaml: cognite.token: malformed variable reference (expected ${NAME} or ${NAME:-default})"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (with_extractor("workers: four"), "test.yaml: extractor.workers: expected an integer, got the string 'four'"),
        (with_extractor("workers: true"), "test.yaml: extractor.workers: expected an integer, got a boolean"),
        (with_extractor("workers: 0"), "test.yaml: extractor.workers: must be at least 1, got 0"),
        (
            with_extractor("poll-time: soon"),
            "test.yaml: extractor.poll-time: expected seconds or a duration like '15m' or '1h30m', got the string "
            "'soon'",
        ),
        (with_extractor("poll-time: 0"), "test.yaml: extractor.poll-time: must be greater than 0, got 0"),
        (
            with_extractor("subscription-batch-size: 2001"),
            "test.yaml: extractor.subscription-batch-size: 2001 is above 2000, the largest page CDF's sync API "
            "returns; use at most 2000",
        ),
        (
            MINIMAL.replace("- external_id: Plant", "- external_id: Plant\n        version: 1.0"),
            "test.yaml: data_modeling[0].data_models[0].version: expected a string, got a number (quote it: '1.0')",
        ),
        (
            MINIMAL.replace("- external_id: Plant", "- external_id: Plant\n        views: Asset"),
            "test.yaml: data_modeling[0].data_models[0].views: expected a list of strings, got a string",
        ),
        (
            MINIMAL.replace("project: emulated", "project: 42"),
            "test.yaml: cognite.project: expected a string, got an integer",
        ),
        (MINIMAL.replace("project: emulated", "project:"), "test.yaml: cognite.project: required value is empty"),
        (MINIMAL.replace("  project: emulated\n", ""), "test.yaml: cognite.project: required key missing"),
        (
            MINIMAL.replace("http://127.0.0.1:8585", "127.0.0.1:8585"),
            "test.yaml: cognite.host: expected an http(s) URL like 'https://host', got '127.0.0.1:8585'",
        ),
        (
            MINIMAL + "logger:\n  console:\n    level: LOUD\n",
            "test.yaml: logger.console.level: expected one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got 'LOUD'",
        ),
        (MINIMAL + "extractor: 5\n", "test.yaml: extractor: expected a mapping, got an integer"),
    ],
)
def test_type_and_value_errors_name_the_path_and_the_expectation(text: str, message: str) -> None:
    assert error_of(text) == message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            MINIMAL.replace("  path: /data/warehouse", "  path: /x\n  s3:\n    bucket: b\n    region: r"),
            "test.yaml: destination: 'path' and 's3' are mutually exclusive; give only one",
        ),
        (
            MINIMAL.replace("  path: /data/warehouse", "  {}"),
            "test.yaml: destination: one of 'path' or 's3' is required",
        ),
        (
            MINIMAL.replace("  token: ${TOKEN}", ""),
            "test.yaml: cognite: one of 'idp-authentication' or 'token' is required",
        ),
        (
            with_extractor("state-store:\n  memory: {}\n  raw: {database: d, table: t}"),
            "test.yaml: extractor.state-store: 'delta' and 'raw' and 'memory' are mutually exclusive; give only one",
        ),
        (
            MINIMAL.replace("      - external_id: Plant\n", "").replace("    data_models:\n", ""),
            "test.yaml: data_modeling[0].data_models: space 'demo_model' has no data_models (the older "
            "cdf-s3-replicator silently ignored such entries); list the data models to replicate",
        ),
        (
            two_models("      - external_id: Plant"),
            "test.yaml: data_modeling[0].data_models[1]: data model demo_model/Plant is listed twice",
        ),
        (
            MINIMAL.replace("/data/warehouse", "dbfs:/"),
            "test.yaml: destination.path: 'dbfs:/' names no location after the scheme",
        ),
    ],
)
def test_structure_errors(text: str, message: str) -> None:
    assert error_of(text) == message


def test_empty_data_modeling() -> None:
    text = MINIMAL.split("data_modeling:")[0] + "data_modeling: []\ndestination:\n  path: /x\n"
    assert error_of(text) == "test.yaml: data_modeling: empty list: list the spaces and data models to replicate"


def test_yaml_errors_give_the_line_and_never_echo_the_text() -> None:
    message = error_of("cognite:\n  host: [unclosed\n  secret: hunter2\n")
    assert message.startswith("test.yaml: line ")
    assert "invalid YAML" in message and "hunter2" not in message


def test_duplicate_keys_are_errors() -> None:
    assert error_of(MINIMAL + "cognite:\n  project: x\n") == "test.yaml: line 12: duplicate key 'cognite'"


def test_empty_and_unreadable_files(tmp_path: Path) -> None:
    assert error_of("# nothing\n") == "test.yaml: the config is empty"
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "missing.yaml", {})
    assert str(caught.value) == f"{tmp_path / 'missing.yaml'}: cannot read the config file: No such file or directory"
    assert isinstance(caught.value, ReplicatorError)


def test_errors_carry_path_and_origin_as_attributes() -> None:
    with pytest.raises(ConfigError) as caught:
        parse(with_extractor("workers: 0"))
    assert (caught.value.origin, caught.value.path, caught.value.problem) == (
        "test.yaml",
        "extractor.workers",
        "must be at least 1, got 0",
    )


# ------------------------------------------------------------------------------------------------ secrets
def test_secrets_never_appear_in_repr_str_describe_or_redacted(caplog: pytest.LogCaptureFixture) -> None:
    config = parse(SEED_SHAPE, SEED_ENV)
    token_config = parse(MINIMAL, {"TOKEN": "tok-secret-123"})

    for shown in (repr(config), str(config), config.describe(), str(config.redacted()), repr(config.cognite)):
        assert SECRET not in shown
    for shown in (repr(token_config), token_config.describe(), str(token_config.redacted())):
        assert "tok-secret-123" not in shown
    assert config.redacted()["cognite"]["oauth"]["secret"] == "***"
    assert token_config.redacted()["cognite"]["token"] == "***"
    with caplog.at_level(logging.INFO):
        logging.getLogger("test").info("config %s %r", config, config.cognite.oauth)
    assert SECRET not in caplog.text
    assert config.cognite.oauth is not None and config.cognite.oauth.secret.reveal() == SECRET


def test_redacted_keeps_the_state_store_kind_and_describe_summarises() -> None:
    config = parse(SEED_SHAPE, SEED_ENV)
    assert config.redacted()["extractor"]["state_store"] == {
        "raw": {"database": "s3_replicator_state", "table": "data_modeling_state"}
    }
    assert config.describe() == (
        "CDF: project acme at https://westeurope-1.cognitedata.com (OAuth client client-1)\n"
        "Destination: s3a://my-bucket/cdf-data\n"
        "State store: CDF RAW s3_replicator_state/data_modeling_state\n"
        "Model: analytics-space/CustomerModel/latest (all views)\n"
        "Model: test-space/TestModel/2 (CustomerView, OrderView, ProductView)"
    )


def test_a_wrongly_typed_secret_is_not_echoed() -> None:
    text = SEED_SHAPE.replace("secret: ${COGNITE_CLIENT_SECRET}", "secret: 918273645")
    message = error_of(text, SEED_ENV)
    assert message == "test.yaml: cognite.idp-authentication.secret: expected a string, got an integer"


def test_parse_config_reads_os_environ_when_env_is_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKEN", "from-os-environ")
    config = parse_config(MINIMAL, "env.yaml", None)
    assert config.cognite.token is not None and config.cognite.token.reveal() == "from-os-environ"
    assert MINIMAL_ENV["TOKEN"] != "from-os-environ"
