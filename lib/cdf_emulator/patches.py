"""CDF's update-patch language (``set``/``setNull`` and ``add``/``remove``) applied to resource dicts.

Used by the ``/update`` endpoints of time series and extraction pipelines. Pure functions: a patch is checked
against a per-resource field table and applied to a copy of the resource.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cdf_emulator.errors import ApiError

Validator = Callable[[Any, str], Any]


def any_value(value: Any, where: str) -> Any:
    return value


@dataclass(frozen=True)
class PatchField:
    """How one updatable field is patched: ``kind`` is ``primitive``, ``map`` or ``list``."""

    kind: str
    validate: Validator = any_value
    nullable: bool = True


def apply_patch(resource: dict[str, Any], update: Any, fields: dict[str, PatchField]) -> dict[str, Any]:
    """A copy of ``resource`` with ``update`` (the item's ``update`` object) applied; 400 on a malformed patch."""
    if not isinstance(update, dict):
        raise ApiError(400, "Expected an object at 'update'")
    result = dict(resource)
    for name, patch in update.items():
        spec = fields.get(name)
        if spec is None:
            raise ApiError(400, f"Unrecognized field 'update.{name}'")
        where = f"update.{name}"
        if not isinstance(patch, dict) or not patch:
            raise ApiError(400, f"Expected a patch object at '{where}'")
        if spec.kind == "primitive":
            _patch_primitive(result, name, patch, spec, where)
        elif spec.kind == "map":
            _patch_map(result, name, patch, spec, where)
        else:
            _patch_list(result, name, patch, spec, where)
    return result


def _patch_primitive(result: dict[str, Any], name: str, patch: dict[str, Any], spec: PatchField, where: str) -> None:
    _only_keys(patch, {"set", "setNull"}, where)
    if "set" in patch and "setNull" in patch:
        raise ApiError(400, f"'{where}' cannot have both 'set' and 'setNull'")
    if "setNull" in patch:
        if patch["setNull"] is not True:
            raise ApiError(400, f"'{where}.setNull' must be true")
        if not spec.nullable:
            raise ApiError(400, f"'{name}' cannot be set to null")
        result.pop(name, None)
        return
    value = patch["set"]
    if value is None:
        raise ApiError(400, f"'{where}.set' cannot be null; use setNull")
    result[name] = spec.validate(value, f"{where}.set")


def _patch_map(result: dict[str, Any], name: str, patch: dict[str, Any], spec: PatchField, where: str) -> None:
    _only_keys(patch, {"set", "add", "remove"}, where)
    if "set" in patch:
        if len(patch) > 1:
            raise ApiError(400, f"'{where}' cannot combine 'set' with 'add' or 'remove'")
        result[name] = spec.validate(patch["set"], f"{where}.set")
        return
    current = dict(result.get(name) or {})
    removals = patch.get("remove", [])
    if not isinstance(removals, list) or not all(isinstance(key, str) for key in removals):
        raise ApiError(400, f"'{where}.remove' must be a list of keys")
    for key in removals:
        current.pop(key, None)
    if "add" in patch:
        current.update(spec.validate(patch["add"], f"{where}.add"))
    result[name] = current


def _patch_list(result: dict[str, Any], name: str, patch: dict[str, Any], spec: PatchField, where: str) -> None:
    _only_keys(patch, {"set", "add", "remove"}, where)
    if "set" in patch:
        if len(patch) > 1:
            raise ApiError(400, f"'{where}' cannot combine 'set' with 'add' or 'remove'")
        result[name] = spec.validate(patch["set"], f"{where}.set")
        return
    current = list(result.get(name) or [])
    removals = patch.get("remove", [])
    if not isinstance(removals, list):
        raise ApiError(400, f"'{where}.remove' must be a list")
    current = [element for element in current if element not in removals]
    for element in spec.validate(patch.get("add", []), f"{where}.add"):
        if element not in current:
            current.append(element)
    result[name] = current


def _only_keys(patch: dict[str, Any], allowed: set[str], where: str) -> None:
    for key in patch:
        if key not in allowed:
            raise ApiError(400, f"Unrecognized field '{where}.{key}'")
