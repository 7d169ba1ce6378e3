"""The Cognite OpenAPI document, corrected on load and indexed by URL path template, method and status.

The document is the public snapshot described in ``shared/reference/README.md``. Read literally, a few of its
schemas reject what real CDF sends; :func:`correct_known_defects` rewrites them to what they mean:

- ``NodeOrEdgeExternalId`` (and ``RecordExternalId``, same text): 1-256 characters, no NUL;
- the timezone pattern that does not compile;
- ``RawPropertyValueV3``: ``anyOf`` instead of ``oneOf``, plus ``[]`` and ``null``;
- ``EnumProperty.values``: the property-count bounds belong to the map, not to each value;
- ``DatapointsOrAggregatesResponse`` items: ``anyOf`` (a raw numeric datapoint also matches the aggregate form);
- OpenAPI 3.0's ``nullable: true``, left in this 3.1 document, allows ``null``.

Schemas are
never copied out of the document: validators reference them by JSON pointer through a ``referencing`` registry,
so every ``$ref`` into ``#/components/...`` resolves inside the one loaded document.
"""

from __future__ import annotations

import functools
import json
import os
import re
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_ENV = "CDF_OPENAPI_SPEC"
SPEC_RELATIVE_PATH = Path("shared") / "reference" / "cdf-openapi-v1.json"
SPEC_URI = "urn:cdf-openapi-v1"
ERROR_ENVELOPE = "/components/responses/ErrorResponse/content/application~1json/schema"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

_NO_NUL_1_TO_256 = "^[^\\x00]{1,256}$"
_EXTERNAL_ID_SCHEMAS = ("NodeOrEdgeExternalId", "RecordExternalId")
_TIMEZONE_SCHEMA = "UserPreferencesTimezoneField"
_TIMEZONE_PATTERN = "^(GMT|UTC)[+-][0-9]{2}:[0-9]{2}$"


class SpecNotFoundError(FileNotFoundError):
    """The OpenAPI document is not where the repository layout (or ``CDF_OPENAPI_SPEC``) says."""


class SpecDefectError(RuntimeError):
    """A known defect could not be corrected: the document is not the snapshot this suite was written for."""


def locate_spec(environ: Mapping[str, str] = os.environ) -> Path:
    """The document: ``$CDF_OPENAPI_SPEC`` if set, else ``shared/reference/`` beside the repository."""
    override = environ.get(SPEC_ENV)
    if override:
        path = Path(override)
        if not path.is_file():
            raise SpecNotFoundError(f"{SPEC_ENV}={override!r} is not a file")
        return path
    path = Path(__file__).resolve().parents[2] / SPEC_RELATIVE_PATH
    if not path.is_file():
        raise SpecNotFoundError(
            f"the CDF OpenAPI document is not at {path}; set {SPEC_ENV} to its location "
            "(response validation cannot be skipped)"
        )
    return path


def correct_known_defects(document: dict[str, Any]) -> None:
    """Rewrite, in place, the schemas that reject what real CDF sends (see ``shared/reference/README.md``)."""
    schemas = document["components"]["schemas"]
    for name in _EXTERNAL_ID_SCHEMAS:
        # The pattern is escaped one level too deep: literally it forbids backslash, 'x' and '0'.
        _schema(schemas, name)["pattern"] = _NO_NUL_1_TO_256
    # '(GMT|UTC)(+|-)hh:mm' does not compile ('+' repeats nothing); the example is 'GMT+02:00'.
    _schema(schemas, _TIMEZONE_SCHEMA)["pattern"] = _TIMEZONE_PATTERN
    _correct_raw_property_value(_schema(schemas, "RawPropertyValueV3"))
    _correct_enum_values(_schema(schemas, "EnumProperty"))
    _correct_datapoint_items(_schema(schemas, "DatapointsOrAggregatesResponse"))
    _correct_apply_deleted(document)
    _honour_nullable(document)


def _schema(schemas: dict[str, Any], name: str) -> dict[str, Any]:
    if name not in schemas:
        raise SpecDefectError(f"components.schemas.{name} is missing; cannot correct its known defect")
    schema: dict[str, Any] = schemas[name]
    return schema


def _correct_raw_property_value(schema: dict[str, Any]) -> None:
    """JSON objects match both the 'object' and 'direct relation' branches, so ``oneOf`` fails on them."""
    branches = schema.pop("oneOf", None) or schema.get("anyOf")
    if not isinstance(branches, list):
        raise SpecDefectError("RawPropertyValueV3 has neither oneOf nor anyOf")
    legal_extras = [{"type": "array", "maxItems": 0}, {"type": "null"}]
    schema["anyOf"] = [branch for branch in branches if branch not in legal_extras] + legal_extras


def _correct_enum_values(schema: dict[str, Any]) -> None:
    """``minProperties``/``maxProperties`` bound the number of enum values, not the keys of each value."""
    values = schema.get("properties", {}).get("values")
    if not isinstance(values, dict) or not isinstance(values.get("additionalProperties"), dict):
        raise SpecDefectError("EnumProperty.values is not an object schema with additionalProperties")
    per_value = values["additionalProperties"]
    for bound in ("minProperties", "maxProperties"):
        if bound in per_value:
            values[bound] = per_value.pop(bound)


def _correct_datapoint_items(schema: dict[str, Any]) -> None:
    """Raw numeric datapoints ``{timestamp, value}`` also match the aggregate branch, so ``oneOf`` fails on them."""
    items = schema.get("properties", {}).get("items", {}).get("items")
    if not isinstance(items, dict) or not isinstance(items.get("oneOf", items.get("anyOf")), list):
        raise SpecDefectError("DatapointsOrAggregatesResponse.items.items is not a oneOf/anyOf")
    if "oneOf" in items:
        items["anyOf"] = items.pop("oneOf")


def _correct_apply_deleted(document: dict[str, Any]) -> None:
    """The apply answer's required ``deleted`` reuses the request's 1..1000 list, so an apply without deletes
    (an empty ``deleted``) could never be valid: allow the empty list."""
    response = document["components"]["responses"].get("SlimNodeAndEdgeCollectionResponse")
    try:
        properties = response["content"]["application/json"]["schema"]["properties"]
    except (KeyError, TypeError):
        raise SpecDefectError("SlimNodeAndEdgeCollectionResponse has no JSON schema with properties") from None
    deleted = _schema(document["components"]["schemas"], "DeletedInstances")
    properties["deleted"] = {key: value for key, value in deleted.items() if key != "minItems"}


def _honour_nullable(node: Any) -> None:
    """OpenAPI 3.0's ``nullable: true`` left in a 3.1 document: read it as 'null is also allowed'."""
    if isinstance(node, list):
        for item in node:
            _honour_nullable(item)
        return
    if not isinstance(node, dict):
        return
    for value in node.values():
        _honour_nullable(value)
    if node.get("nullable") is True:
        original = {key: value for key, value in node.items() if key != "nullable"}
        node.clear()
        node["anyOf"] = [original, {"type": "null"}]


@dataclass(frozen=True)
class Operation:
    """One documented operation: its full URL path template and the pointer to its ``responses`` object."""

    template: str
    method: str
    responses_pointer: str


@dataclass(frozen=True)
class DocumentedResponse:
    """What the document says one status of one operation returns: content types -> schema pointer (or None)."""

    pointer: str
    content: dict[str, str | None]


class OpenApiIndex:
    """The corrected document with a path-template index and a cache of compiled validators."""

    def __init__(self, document: dict[str, Any]) -> None:
        correct_known_defects(document)
        self.document = document
        resource: Resource[Any] = DRAFT202012.create_resource(document)
        self.registry: Registry[Any] = Registry().with_resource(SPEC_URI, resource)
        self._templates = _index_templates(document)
        self._validators: dict[str, Draft202012Validator] = {}
        self._lock = threading.Lock()

    def operations(self, path: str) -> dict[str, Operation]:
        """Operations by lower-case method for a concrete URL path; the most literal template wins per method."""
        found: dict[str, Operation] = {}
        for _, regex, operations in self._templates.get(_segment_count(path), ()):
            if regex.match(path):
                for method, operation in operations.items():
                    found.setdefault(method, operation)
        return found

    def response(self, operation: Operation, status: int) -> DocumentedResponse | None:
        """The documented response of ``operation`` for ``status``, following a ``components.responses`` ref."""
        responses = self.resolve(operation.responses_pointer)
        key = str(status) if str(status) in responses else f"{str(status)[0]}XX"
        if key not in responses:
            key = "default" if "default" in responses else ""
        if not key:
            return None
        pointer = f"{operation.responses_pointer}/{key}"
        response = self.resolve(pointer)
        while "$ref" in response:
            pointer = _local_pointer(response["$ref"])
            response = self.resolve(pointer)
        content: dict[str, str | None] = {}
        for media_type, media in response.get("content", {}).items():
            has_schema = isinstance(media, dict) and "schema" in media
            content[media_type] = f"{pointer}/content/{_escape(media_type)}/schema" if has_schema else None
        return DocumentedResponse(pointer=pointer, content=content)

    def resolve(self, pointer: str) -> Any:
        """The node at a JSON pointer into the document."""
        node: Any = self.document
        for token in pointer.lstrip("/").split("/") if pointer.strip("/") else []:
            token = token.replace("~1", "/").replace("~0", "~")
            node = node[int(token)] if isinstance(node, list) else node[token]
        return node

    def validator(self, pointer: str) -> Draft202012Validator:
        """A Draft 2020-12 validator for the schema at ``pointer``, built once and cached."""
        with self._lock:
            cached = self._validators.get(pointer)
            if cached is None:
                cached = Draft202012Validator({"$ref": f"{SPEC_URI}#{pointer}"}, registry=self.registry)
                self._validators[pointer] = cached
            return cached


_Template = tuple[tuple[int, ...], re.Pattern[str], dict[str, Operation]]


def _index_templates(document: dict[str, Any]) -> dict[int, list[_Template]]:
    """Full path templates (server base + path) grouped by segment count, literal segments first."""
    default_bases = _server_bases(document.get("servers", []))
    index: dict[int, list[_Template]] = {}
    for spec_path, item in document["paths"].items():
        path_bases = _server_bases(item.get("servers", [])) or default_bases
        for method in HTTP_METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict):
                continue
            bases = _server_bases(operation.get("servers", [])) or path_bases
            pointer = f"/paths/{_escape(spec_path)}/{method}/responses"
            for base in bases:
                _add_operation(index, Operation(base + spec_path, method, pointer))
    for templates in index.values():
        templates.sort(key=lambda entry: entry[0])
    return index


def _add_operation(index: dict[int, list[_Template]], operation: Operation) -> None:
    template = operation.template.rstrip("/") or "/"
    segments = template.strip("/").split("/")
    specificity = tuple(1 if "{" in segment else 0 for segment in segments)
    pattern = _template_regex(template)
    for entry in index.setdefault(len(segments), []):
        if entry[1].pattern == pattern:
            entry[2].setdefault(operation.method, operation)
            return
    index[len(segments)].append((specificity, re.compile(pattern), {operation.method: operation}))


def _template_regex(template: str) -> str:
    parts = re.split(r"(\{[^}/]+\})", template)
    return "^" + "".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts) + "$"


def _server_bases(servers: list[dict[str, Any]]) -> list[str]:
    """URL path prefixes of the servers that are CDF clusters (the emulator plays one cluster)."""
    bases = []
    for server in servers:
        url = urlsplit(server["url"])
        if url.hostname and url.hostname.endswith("cognitedata.com"):
            bases.append(url.path.rstrip("/"))
    return bases


def _segment_count(path: str) -> int:
    return len((path.rstrip("/") or "/").strip("/").split("/"))


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _local_pointer(ref: str) -> str:
    if not ref.startswith("#"):
        raise SpecDefectError(f"only local $refs are supported in response objects, got {ref!r}")
    return ref[1:]


@functools.cache
def load_index(path: str | None = None) -> OpenApiIndex:
    """The corrected, indexed document, loaded once per process (per path)."""
    spec_path = Path(path) if path else locate_spec()
    with spec_path.open(encoding="utf-8") as handle:
        return OpenApiIndex(json.load(handle))


def iter_documented_operations(index: OpenApiIndex) -> Iterator[Operation]:
    """Every indexed operation (for diagnostics and tests of the index)."""
    for templates in index._templates.values():
        for _, _, operations in templates:
            yield from operations.values()
