"""Config variables from a secret scope (the serverless Databricks path), with a fake scope."""

from __future__ import annotations

import pytest

from cdf_replicator.config import parse_config
from cdf_replicator.errors import ConfigError
from cdf_replicator.secrets import SecretScopeEnvironment, secret_key

CONFIG = """
cognite:
  host: https://example.cognitedata.com
  project: p
  idp-authentication:
    token-url: https://login.example.com/token
    client-id: ${COGNITE_CLIENT_ID}
    secret: ${COGNITE_CLIENT_SECRET}
    scopes: [https://example.cognitedata.com/.default]
data_modeling:
  - space: sp
    data_models: [{external_id: M}]
destination:
  path: /tmp/lake
"""


class FakeScope:
    def __init__(self, values: dict[str, str]) -> None:
        self.values = values
        self.asked: list[tuple[str, str]] = []

    def __call__(self, scope: str, key: str) -> str | None:
        self.asked.append((scope, key))
        return self.values.get(key)


def test_secret_key_naming() -> None:
    assert secret_key("COGNITE_CLIENT_SECRET") == "cognite-client-secret"


def test_environment_wins_and_scope_fills_the_rest() -> None:
    scope = FakeScope({"cognite-client-secret": "s3cr3t", "cognite-client-id": "from-scope"})
    env = SecretScopeEnvironment({"COGNITE_CLIENT_ID": "from-env"}, "cdf", scope)
    config = parse_config(CONFIG, "c.yaml", env)
    assert config.cognite.oauth is not None
    assert config.cognite.oauth.client_id == "from-env"
    assert config.cognite.oauth.secret.reveal() == "s3cr3t"
    assert scope.asked == [("cdf", "cognite-client-secret")]
    assert "s3cr3t" not in repr(config) and "s3cr3t" not in config.describe()


def test_a_key_missing_from_the_scope_is_an_unset_variable() -> None:
    env = SecretScopeEnvironment({}, "cdf", FakeScope({"cognite-client-id": "id"}))
    with pytest.raises(ConfigError, match="COGNITE_CLIENT_SECRET is not set"):
        parse_config(CONFIG, "c.yaml", env)
