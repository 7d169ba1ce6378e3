"""Find secret literals in deployment files: credentials must arrive through references, never as values.

Two checks. By name: a key that names a secret (``secret``, ``password``, ``token``, ``api_key``, ...) must hold
only a reference: ``${NAME}`` (an environment or bundle variable, without a literal fallback),
``{{secrets/<scope>/<key>}}`` (a Databricks secret) or ``EMR.secret@<id>`` (AWS Secrets Manager, resolved by EMR
Serverless). By shape: anywhere in the text, including comments, nothing may look like a real credential (AWS
access key id, JWT, Databricks token, private key block).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

SECRET_KEY = re.compile(r"secret|passw(or)?d|token|credential|private[-_]?key|api[-_]?key|access[-_]?key", re.I)
# Keys that mention a secret but hold none: where a secret lives, or how to ask for one.
NOT_A_SECRET_KEY = re.compile(r"(url|uri|scopes?|path|name|file|id|arn|description|mode|type)$", re.I)
ENV_REFERENCE = r"\$\{[A-Za-z_][\w.]*\}"
# A secret scope or key name; the bundle may interpolate it (``{{secrets/${var.secret_scope}/key}}``).
SECRET_SEGMENT = rf"(?:[\w.-]|{ENV_REFERENCE})+"
REFERENCE = re.compile(
    rf"^(?:{ENV_REFERENCE}|\{{\{{secrets/{SECRET_SEGMENT}/{SECRET_SEGMENT}\}}\}}|EMR\.secret@[\w/+=.@-]+)$",
)
CREDENTIAL_SHAPES = {
    "AWS access key id": re.compile(r"\b(?:AKIA|ASIA|A3T[A-Z0-9])[A-Z0-9]{16}\b"),
    "JSON web token": re.compile(r"\beyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]{8,}"),
    "Databricks token": re.compile(r"\bdapi[0-9a-f]{32}\b"),
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "AWS secret access key": re.compile(r"(?i)aws_secret_access_key\s*[=:]\s*['\"]?[A-Za-z0-9/+=]{40}"),
}


def secret_literals(document: Any, text: str, origin: str) -> list[str]:
    """Every secret literal found in a parsed ``document`` and its raw ``text``, as ``origin: where: what``."""
    found = [f"{origin}: {where}: secret-named key holds a literal" for where in _literal_secret_keys(document, "")]
    for label, shape in CREDENTIAL_SHAPES.items():
        for match in shape.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.append(f"{origin}: line {line}: looks like a {label}")
    return found


def _literal_secret_keys(node: Any, path: str) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            where = f"{path}.{key}" if path else str(key)
            if _names_secret(str(key)) and not _only_references(value):
                yield where
            yield from _literal_secret_keys(value, where)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _literal_secret_keys(item, f"{path}[{index}]")


def _names_secret(key: str) -> bool:
    return bool(SECRET_KEY.search(key)) and not NOT_A_SECRET_KEY.search(key)


def _only_references(value: Any) -> bool:
    """A scalar must be a reference (or empty); a bundle variable by its default; other containers by their keys."""
    if isinstance(value, dict) and "default" in value:
        return _only_references(value["default"])
    if isinstance(value, dict | list) or value is None or value == "":
        return True
    return isinstance(value, str) and bool(REFERENCE.match(value.strip()))
