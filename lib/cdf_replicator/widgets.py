"""Notebook parameters: Databricks widgets on Databricks, environment variables or defaults anywhere else.

A notebook passes its ``dbutils`` (``globals().get("dbutils")``: Databricks puts it in every notebook's globals,
plain Python has none) and the defaults of its parameters. On Databricks each parameter becomes a text widget
(a job's ``base_parameters`` fill them); elsewhere ``CDF_REPLICATOR_<NAME>`` overrides the default, so the same
file runs under ``python`` and in tests.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from cdf_replicator.errors import ConfigError

ENV_PREFIX = "CDF_REPLICATOR_"
TRUE_WORDS = frozenset({"true", "yes", "1", "on"})
FALSE_WORDS = frozenset({"false", "no", "0", "off", ""})


def read_parameters(
    dbutils: Any | None, defaults: Mapping[str, str], environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The value of each parameter in ``defaults``, stripped: the widget's, else the environment's, else the default."""
    if dbutils is not None:
        for name, default in defaults.items():
            dbutils.widgets.text(name, default)
        return {name: str(dbutils.widgets.get(name)).strip() for name in defaults}
    env = os.environ if environ is None else environ
    return {name: env.get(env_name(name), default).strip() for name, default in defaults.items()}


def env_name(parameter: str) -> str:
    """The environment variable of a parameter off Databricks: ``drop_tables`` -> ``CDF_REPLICATOR_DROP_TABLES``."""
    return ENV_PREFIX + parameter.upper()


def parse_flag(name: str, value: str) -> bool:
    """A yes/no parameter (``true``/``false``, ``yes``/``no``, ``1``/``0``, ``on``/``off``; empty is no)."""
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ConfigError(f"must be true or false, not {value!r}", path=name)


def parse_int(name: str, value: str, minimum: int = 0) -> int:
    """A whole-number parameter of at least ``minimum``."""
    try:
        number = int(value.strip())
    except ValueError:
        raise ConfigError(f"must be a whole number, not {value!r}", path=name) from None
    if number < minimum:
        raise ConfigError(f"must be at least {minimum}, not {number}", path=name)
    return number


def require(name: str, value: str) -> str:
    """A parameter that has no sensible default: an error naming it (and its variable) when it is empty."""
    if not value:
        raise ConfigError(f"is required: set the widget {name}, or {env_name(name)} off Databricks", path=name)
    return value


def split_list(value: str) -> list[str]:
    """A comma-separated parameter as a list, blanks dropped."""
    return [item.strip() for item in value.split(",") if item.strip()]
