"""Config variables from a Databricks secret scope, for compute that has no environment to carry them.

Serverless jobs cannot set environment variables from ``{{secrets/...}}`` references. With ``--secret-scope``,
a ``${NAME}`` the environment does not define is read from the scope instead, under the key ``name`` in lower
case with ``-`` for ``_`` (``COGNITE_CLIENT_SECRET`` -> ``cognite-client-secret``, the keys the job-cluster
variant maps). Values are read once, kept in memory only, and never logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from cdf_replicator.errors import ConfigError

logger = logging.getLogger(__name__)

SecretFetcher = Callable[[str, str], str | None]


def secret_key(variable: str) -> str:
    """The secret-scope key of a config variable: ``COGNITE_CLIENT_SECRET`` -> ``cognite-client-secret``."""
    return variable.lower().replace("_", "-")


class SecretScopeEnvironment(Mapping[str, str]):
    """The environment, falling back to a secret scope for names it lacks."""

    def __init__(self, environ: Mapping[str, str], scope: str, fetch: SecretFetcher) -> None:
        self._environ = environ
        self._scope = scope
        self._fetch = fetch
        self._cache: dict[str, str | None] = {}

    def __getitem__(self, name: str) -> str:
        if name in self._environ:
            return self._environ[name]
        if name not in self._cache:
            self._cache[name] = self._fetch(self._scope, secret_key(name))
        value = self._cache[name]
        if value is None:
            raise KeyError(name)
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._environ)

    def __len__(self) -> int:
        return len(self._environ)


def databricks_secret_fetcher(spark: Any = None) -> SecretFetcher:
    """Read secrets through ``dbutils.secrets`` (Databricks only); a missing key reads as unset."""
    try:
        from pyspark.dbutils import DBUtils  # Databricks runtimes only
    except ImportError:
        raise ConfigError("--secret-scope works on Databricks only (no dbutils here)", path="--secret-scope") from None
    from pyspark.sql import SparkSession

    dbutils = DBUtils(spark or SparkSession.builder.getOrCreate())

    def fetch(scope: str, key: str) -> str | None:
        try:
            return str(dbutils.secrets.get(scope=scope, key=key))
        except Exception:  # dbutils raises a generic error for a missing key; treat it as unset
            logger.debug("secret scope %s has no key %s", scope, key)
            return None

    return fetch
