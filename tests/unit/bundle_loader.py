"""Load a Databricks Asset Bundle as the Databricks CLI sees it, and validate it against the bundle's JSON schema.

The CLI cannot be installed here, so these helpers do its first steps: read ``databricks.yml``, expand the
``include`` globs (relative to the bundle root), merge every included file into one document (maps merge; a
value defined twice is an error, as a resource defined in two files is for the CLI), and apply a target's
overrides. The schema is the one the CLI publishes (``bundle/schema/jsonschema.json``).
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator, ValidationError, validators

SCHEMA_ENV = "CDF_BUNDLE_SCHEMA"
SCHEMA_NAME = "databricks-bundle-schema.json"
# List items of these jobs fields are matched by key when a target overrides them, as the CLI does.
KEYED_LISTS = {"tasks": "task_key", "job_clusters": "job_cluster_key", "environments": "environment_key"}
VAR_REFERENCE = re.compile(r"\$\{var\.([A-Za-z][\w-]*)")


class BundleError(Exception):
    """The bundle's files cannot be read or merged (missing include, a value defined twice)."""


def schema_path(repo_root: Path) -> Path:
    """The bundle schema: ``$CDF_BUNDLE_SCHEMA``, else ``shared/reference/`` beside the repository."""
    override = os.environ.get(SCHEMA_ENV)
    return Path(override) if override else repo_root.parent / "shared" / "reference" / SCHEMA_NAME


def load_schema(path: Path) -> dict[str, Any]:
    """Read the schema; a missing file is an error that says where it was looked for and how to point to it."""
    if not path.is_file():
        raise FileNotFoundError(f"bundle schema not found at {path}; set {SCHEMA_ENV} to its location")
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


def included_files(root: Path, document: Mapping[str, Any]) -> list[Path]:
    """The files the ``include`` globs of ``databricks.yml`` name, in a stable order; a glob matching nothing fails."""
    files: list[Path] = []
    for pattern in document.get("include") or []:
        matches = sorted(path for path in root.glob(pattern) if path.is_file())
        if not matches:
            raise BundleError(f"include '{pattern}' matches no file under {root}")
        files.extend(match for match in matches if match not in files)
    return files


def load_bundle(root: Path) -> dict[str, Any]:
    """``databricks.yml`` with every included file merged in (``include`` itself kept, as the CLI keeps it)."""
    main_file = root / "databricks.yml"
    merged = read_yaml(main_file)
    for path in included_files(root, merged):
        merge_into(merged, read_yaml(path), origin=path.relative_to(root).as_posix())
    return merged


def read_yaml(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(document, dict):
        raise BundleError(f"{path}: a bundle file must hold a mapping")
    return document


def merge_into(target: dict[str, Any], extra: Mapping[str, Any], origin: str, path: str = "") -> None:
    """Merge ``extra`` into ``target`` in place: maps recursively; the same leaf defined twice is an error."""
    for key, value in extra.items():
        dotted = f"{path}.{key}" if path else str(key)
        if key not in target:
            target[key] = copy.deepcopy(value)
        elif isinstance(target[key], dict) and isinstance(value, dict):
            merge_into(target[key], value, origin, dotted)
        else:
            raise BundleError(f"{origin}: '{dotted}' is already defined")


def apply_target(bundle: Mapping[str, Any], name: str) -> dict[str, Any]:
    """The bundle as deployed to target ``name``: its overrides applied, the ``targets`` section removed."""
    targets = bundle.get("targets") or {}
    if name not in targets:
        raise BundleError(f"no target '{name}'")
    result = {key: copy.deepcopy(value) for key, value in bundle.items() if key != "targets"}
    overrides = copy.deepcopy(targets[name] or {})
    for key, value in overrides.items():
        if key == "variables":
            _override_variables(result.setdefault("variables", {}), value)
        elif key in ("mode", "default"):
            continue  # properties of the target itself, not of the deployed document
        elif isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = override(result[key], value)
        else:
            result[key] = value
    return result


def _override_variables(declared: dict[str, Any], values: Mapping[str, Any]) -> None:
    """A target sets a variable's value either directly or as ``{default: ...}``."""
    for name, value in values.items():
        if name not in declared:
            raise BundleError(f"target sets undeclared variable '{name}'")
        declared[name] = {**declared[name], "default": value["default"] if isinstance(value, dict) else value}


def override(base: Any, top: Any) -> Any:
    """``top`` over ``base``: maps merge recursively, keyed job lists merge by key, anything else is replaced."""
    if isinstance(base, dict) and isinstance(top, dict):
        merged = dict(base)
        for key, value in top.items():
            if key in KEYED_LISTS and isinstance(value, list) and isinstance(base.get(key), list):
                merged[key] = _override_keyed(base[key], value, KEYED_LISTS[key])
            else:
                merged[key] = override(base.get(key), value) if key in base else value
        return merged
    return top


def _override_keyed(base: list[Any], top: list[Any], key: str) -> list[Any]:
    merged = list(base)
    positions = {item.get(key): index for index, item in enumerate(merged) if isinstance(item, dict)}
    for item in top:
        if isinstance(item, dict) and item.get(key) in positions:
            index = positions[item[key]]
            merged[index] = override(merged[index], item)
        else:
            merged.append(item)
    return merged


def variable_references(node: Any) -> Iterator[str]:
    """Every ``${var.NAME}`` reference in a document's strings (keys included)."""
    if isinstance(node, str):
        yield from VAR_REFERENCE.findall(node)
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from variable_references(key)
            yield from variable_references(value)
    elif isinstance(node, list):
        for item in node:
            yield from variable_references(item)


# --- schema validation -------------------------------------------------------------------------------------


def python_pattern(pattern: str) -> str:
    r"""The schema's ECMAScript/Go pattern in Python ``re`` syntax.

    The interpolation patterns (``\$\{(var(\.\p{L}+([-_]*[\p{L}\p{N}]+)*(\[[0-9]+\])*)+)\}``) use Unicode
    property classes, which ``re`` lacks: ``[\p{L}\p{N}]`` (letters or digits) is ``[^\W_]``, and ``\p{L}``
    (letters) is ``[^\W\d_]``. A property class of another shape fails loudly rather than matching wrongly.
    """
    translated = pattern.replace(r"[\p{L}\p{N}]", r"[^\W_]").replace(r"\p{L}", r"[^\W\d_]")
    if r"\p{" in translated or r"\P{" in translated:
        raise ValueError(f"schema pattern with an unsupported Unicode class: {pattern}")
    return translated


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(python_pattern(pattern))


def _pattern_keyword(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    """JSON Schema ``pattern`` (an unanchored search, as the standard says) with the translated expression."""
    if validator.is_type(instance, "string") and not _compiled(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


BundleValidator = validators.extend(Draft202012Validator, {"pattern": _pattern_keyword})


def bundle_validator(schema: Mapping[str, Any]) -> Any:
    """A validator for bundle documents; every pattern of the schema is compiled up front, so none fails late."""
    for pattern in _patterns(schema):
        _compiled(pattern)
    return BundleValidator(schema)


def _patterns(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern" and isinstance(value, str):
                yield value
            else:
                yield from _patterns(value)
    elif isinstance(node, list):
        for item in node:
            yield from _patterns(item)


def schema_errors(validator: Any, document: Mapping[str, Any]) -> list[str]:
    """Every violation as ``path: message``; a failed ``oneOf`` reports its deepest cause, the useful one."""
    messages = []
    for error in sorted(validator.iter_errors(document), key=lambda error: list(error.path)):
        cause = _deepest_cause(error)
        where = "/".join(str(part) for part in cause.absolute_path) or "<root>"
        messages.append(f"{where}: {cause.message}")
    return messages


def _deepest_cause(error: ValidationError) -> ValidationError:
    if not error.context:
        return error
    causes = [_deepest_cause(sub) for sub in error.context]
    return max(causes, key=lambda cause: len(cause.absolute_path))
