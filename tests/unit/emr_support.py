"""Read the EMR examples in ``conf/emr/`` and check them the way AWS would.

``SparkSubmit`` splits a spark-submit argument list into options, ``--conf`` settings, the application and its
arguments, so the shell script, the EMR step and the EMR Serverless request can be compared. ``api_errors``
runs botocore's own parameter validation, then the model constraints botocore leaves to the service (enums,
maximum lengths, patterns), so a request that passes here is one the API accepts in shape.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import botocore.session
from botocore.handlers import generate_idempotent_uuid
from botocore.validate import ParamValidator

# spark-submit options that take a value; the others (--verbose, --supervise) are flags.
VALUED_OPTIONS = {
    "--master", "--deploy-mode", "--class", "--name", "--jars", "--packages", "--exclude-packages",
    "--repositories", "--py-files", "--files", "--archives", "--conf", "--properties-file", "--driver-memory",
    "--driver-java-options", "--driver-library-path", "--driver-class-path", "--executor-memory",
    "--proxy-user", "--driver-cores", "--executor-cores", "--num-executors", "--queue", "--total-executor-cores",
}  # fmt: skip
SHELL_DEFAULT = re.compile(r'^(\w+)="\$\{\w+:-([^}"]*)\}"$', re.M)


@dataclass(frozen=True)
class SparkSubmit:
    """One spark-submit invocation, parsed: options (without ``--conf``), settings, application, arguments."""

    options: dict[str, str] = field(default_factory=dict)
    conf: dict[str, str] = field(default_factory=dict)
    application: str = ""
    arguments: tuple[str, ...] = ()


def parse_spark_submit(args: list[str]) -> SparkSubmit:
    """Split spark-submit's arguments (without the ``spark-submit`` word itself); a repeated option fails."""
    options: dict[str, str] = {}
    conf: dict[str, str] = {}
    index = 0
    while index < len(args) and args[index].startswith("--"):
        name = args[index]
        if name not in VALUED_OPTIONS:
            raise ValueError(f"unknown spark-submit option {name}")
        value = args[index + 1]
        if name == "--conf":
            key, _, setting = value.partition("=")
            _put(conf, key, setting)
        else:
            _put(options, name, value)
        index += 2
    if index >= len(args):
        raise ValueError("spark-submit arguments name no application")
    return SparkSubmit(options, conf, args[index], tuple(args[index + 1 :]))


def _put(target: dict[str, str], key: str, value: str) -> None:
    if key in target:
        raise ValueError(f"{key} given twice")
    target[key] = value


def script_spark_submit(path: Path) -> list[str]:
    """The arguments of the ``exec spark-submit`` command in a shell script, its ``${VAR:-default}`` variables
    replaced by their defaults and the trailing ``"$@"`` dropped."""
    text = path.read_text(encoding="utf-8")
    defaults = dict(SHELL_DEFAULT.findall(text))
    joined = re.sub(r"\\\n\s*", " ", text)
    [command] = [line for line in joined.splitlines() if line.strip().startswith("exec spark-submit ")]
    words = shlex.split(command.strip())[2:]
    if words and words[-1] == "$@":
        words = words[:-1]
    return [_expand(word, defaults) for word in words]


def _expand(word: str, defaults: Mapping[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        if match.group(1) not in defaults:
            raise ValueError(f"${{{match.group(1)}}} has no default in the script")
        return defaults[match.group(1)]

    return re.sub(r"\$\{(\w+)\}", value, word)


def submit_differences(first: SparkSubmit, second: SparkSubmit, ignore: frozenset[str] = frozenset()) -> list[str]:
    """What two invocations set differently: packages, files, every setting, the application and its arguments."""
    differences = []
    for name in sorted((set(first.options) | set(second.options)) - ignore):
        if first.options.get(name) != second.options.get(name):
            differences.append(f"{name}: {first.options.get(name)!r} != {second.options.get(name)!r}")
    for key in sorted(set(first.conf) | set(second.conf)):
        if first.conf.get(key) != second.conf.get(key):
            differences.append(f"--conf {key}: {first.conf.get(key)!r} != {second.conf.get(key)!r}")
    if (first.application, first.arguments) != (second.application, second.arguments):
        differences.append(
            f"application: {first.application} {first.arguments} != {second.application} {second.arguments}"
        )
    return differences


def read_json(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


# --- AWS API validation ------------------------------------------------------------------------------------


def api_errors(service: str, operation: str, params: dict[str, Any]) -> list[str]:
    """botocore's validation of ``params`` for ``service.operation``, then the model's enums, lengths and patterns.

    Idempotency tokens are filled in first, as every botocore client (and so the AWS CLI) does before sending.
    """
    model = botocore.session.get_session().get_service_model(service).operation_model(operation)
    params = json.loads(json.dumps(params))
    generate_idempotent_uuid(params, model)
    report = ParamValidator().validate(params, model.input_shape)
    if report.has_errors():
        return [report.generate_report()]
    return list(_constraint_errors(model.input_shape, params, operation))


def _constraint_errors(shape: Any, value: Any, path: str) -> Iterator[str]:
    if shape.type_name == "structure":
        for name, member in shape.members.items():
            if name in value:
                yield from _constraint_errors(member, value[name], f"{path}.{name}")
    elif shape.type_name == "list":
        for index, item in enumerate(value):
            yield from _constraint_errors(shape.member, item, f"{path}[{index}]")
    elif shape.type_name == "map":
        for key, item in value.items():
            yield from _constraint_errors(shape.value, item, f"{path}.{key}")
    elif shape.type_name == "string":
        yield from _string_errors(shape.metadata, value, path)


def _string_errors(metadata: Mapping[str, Any], value: str, path: str) -> Iterator[str]:
    if "enum" in metadata and value not in metadata["enum"]:
        yield f"{path}: {value!r} is not one of {metadata['enum']}"
    if "max" in metadata and len(value) > metadata["max"]:
        yield f"{path}: longer than {metadata['max']}"
    pattern = _python_pattern(metadata.get("pattern"))
    if pattern is not None and not pattern.fullmatch(value):
        yield f"{path}: {value!r} does not match {metadata['pattern']}"


def _python_pattern(pattern: str | None) -> re.Pattern[str] | None:
    """The model's (Java) pattern, or None where Python cannot compile it: those are EMR's any-XML-character
    classes written with surrogate pairs, which every string here satisfies anyway."""
    if pattern is None:
        return None
    try:
        return re.compile(pattern)
    except re.error:
        return None
