"""Config text -> YAML tree -> ``${VAR}`` substitution: the first two steps of loading a config file.

Substitution runs on the parsed tree, not the text, so a variable's value can never change the YAML structure
(a secret holding ``: `` or ``#`` stays one string). Values that came from a variable are marked with
:class:`Substituted` so that numeric and boolean fields may accept ``poll-time: ${POLL_TIME}``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import yaml

from cdf_replicator.errors import ConfigError

# ${NAME} or ${NAME:-default}; "$${" is a literal "${"; any other "${" is malformed. A default cannot contain "}".
_VARIABLE = re.compile(r"\$\$\{|\$\{([^}:]*)(?::-([^}]*))?\}|\$\{")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class Substituted(str):
    """A string whose text came (at least partly) from an environment variable."""

    __slots__ = ()


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate mapping keys (PyYAML silently keeps the last one)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if not isinstance(key, (str, int, float, bool)):
            continue  # construct_mapping below reports unhashable keys; others are rejected as unknown keys later
        if key in seen:
            line = key_node.start_mark.line + 1
            raise ConfigError(f"line {line}: duplicate key {key!r}")
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(text: str) -> Any:
    """Parse YAML text into plain Python values; errors give the line and column but never echo the text."""
    try:
        return yaml.load(text, Loader=_StrictLoader)  # safe: _StrictLoader is a SafeLoader subclass
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = error.problem or error.context or "invalid YAML"
        raise ConfigError(f"{where}invalid YAML: {problem}") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"invalid YAML: {type(error).__name__}") from None


def substitute_variables(tree: Any, env: Mapping[str, str], path: str = "") -> Any:
    """Replace ``${VAR}`` and ``${VAR:-default}`` in every string value of ``tree`` (keys are left alone).

    An unset variable without a default is a :class:`ConfigError` naming the variable and the dotted path.
    As in the shell, ``:-`` also applies when the variable is set but empty.
    """
    if isinstance(tree, dict):
        return {key: substitute_variables(value, env, _child(path, key)) for key, value in tree.items()}
    if isinstance(tree, list):
        return [substitute_variables(value, env, f"{path}[{i}]") for i, value in enumerate(tree)]
    if isinstance(tree, str) and "${" in tree:
        return _substitute_text(tree, env, path)
    return tree


def _substitute_text(text: str, env: Mapping[str, str], path: str) -> str:
    replaced = False

    def replace(match: re.Match[str]) -> str:
        nonlocal replaced
        if match.group(0) == "$${":
            return "${"
        name, default = match.group(1), match.group(2)
        if name is None or not _NAME.fullmatch(name):
            raise ConfigError("malformed variable reference (expected ${NAME} or ${NAME:-default})", path=path)
        replaced = True
        value = env.get(name)
        if value is None or (value == "" and default is not None):
            if default is None:
                raise ConfigError(f"environment variable {name} is not set", path=path)
            return default
        return value

    result = _VARIABLE.sub(replace, text)
    return Substituted(result) if replaced else result


def _child(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)
