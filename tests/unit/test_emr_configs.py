"""The EMR examples in conf/emr/: valid for the AWS APIs, and the same spark-submit everywhere.

The step and the EMR Serverless request go through botocore's own parameter validation (plus the model's
enums and patterns); the shell script, the step's arguments and the Serverless parameters must agree on
packages, settings, files, application and arguments, and those must match the project's pins.
"""

from __future__ import annotations

import copy
import importlib.metadata
import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

import cdf_replicator
from cdf_replicator.spark import DELTA_CATALOG, DELTA_EXTENSION
from tests.unit.emr_support import (
    SparkSubmit,
    api_errors,
    parse_spark_submit,
    read_json,
    script_spark_submit,
    submit_differences,
)
from tests.unit.secret_scan import secret_literals

REPO = Path(__file__).resolve().parents[2]
EMR = REPO / "conf" / "emr"
STEP = EMR / "step.json"
SERVERLESS = EMR / "serverless-start-job-run.json"
SCRIPT = EMR / "spark-submit.sh"
DRIVER_ENV = "spark.emr-serverless.driverEnv."


def add_steps_input(step: dict[str, Any]) -> dict[str, Any]:
    return {"JobFlowId": "j-XXXX", "Steps": [step]}


def step_submit(step: dict[str, Any]) -> SparkSubmit:
    args = step["HadoopJarStep"]["Args"]
    assert args[0] == "spark-submit", args[:1]
    return parse_spark_submit(args[1:])


def serverless_submit(request: dict[str, Any]) -> SparkSubmit:
    """The Serverless job as the spark-submit EMR Serverless runs: parameters, entry point, its arguments."""
    driver = request["jobDriver"]["sparkSubmit"]
    args = [*shlex.split(driver["sparkSubmitParameters"]), driver["entryPoint"], *driver["entryPointArguments"]]
    return parse_spark_submit(args)


@pytest.fixture()
def step() -> dict[str, Any]:
    return read_json(STEP)


@pytest.fixture()
def request_json() -> dict[str, Any]:
    return read_json(SERVERLESS)


# --- AWS API validation ------------------------------------------------------------------------------------


def test_step_is_valid_for_add_job_flow_steps(step: dict[str, Any]) -> None:
    assert api_errors("emr", "AddJobFlowSteps", add_steps_input(step)) == []
    assert step["HadoopJarStep"]["Jar"] == "command-runner.jar"


def test_serverless_request_is_valid_for_start_job_run(request_json: dict[str, Any]) -> None:
    assert api_errors("emr-serverless", "StartJobRun", request_json) == []
    # A fixed token would make every later start return the first run: the CLI fills in a fresh one.
    assert "clientToken" not in request_json
    assert request_json["configurationOverrides"]["monitoringConfiguration"]["s3MonitoringConfiguration"][
        "logUri"
    ].startswith("s3://")


def broken_copy(document: dict[str, Any], path: tuple[str, ...], change: str, value: Any = None) -> dict[str, Any]:
    """A copy with the key at ``path`` renamed to ``value``, set to ``value``, or deleted."""
    broken = copy.deepcopy(document)
    parent = broken
    for key in path[:-1]:
        parent = parent[key]
    if change == "rename":
        parent[value] = parent.pop(path[-1])
    elif change == "set":
        parent[path[-1]] = value
    else:
        del parent[path[-1]]
    return broken


STEP_BREAKAGES = [
    ("misspelt key", ("ActionOnFailure",), "rename", "ActionOnFailur"),
    ("misspelt nested key", ("HadoopJarStep", "Args"), "rename", "Arg"),
    ("missing jar", ("HadoopJarStep", "Jar"), "delete", "Jar"),
    ("args as one string", ("HadoopJarStep", "Args"), "set", "spark-submit x.py"),
    ("unknown action", ("ActionOnFailure",), "set", "CONTINUES"),
]


@pytest.mark.parametrize(("case", "path", "change", "value"), STEP_BREAKAGES, ids=[case[0] for case in STEP_BREAKAGES])
def test_a_broken_step_fails_validation(
    step: dict[str, Any], case: str, path: tuple[str, ...], change: str, value: Any
) -> None:
    errors = api_errors("emr", "AddJobFlowSteps", add_steps_input(broken_copy(step, path, change, value)))
    assert errors, case
    assert (value if change == "rename" else path[-1]) in errors[0]


DRIVER = ("jobDriver", "sparkSubmit")
REQUEST_BREAKAGES = [
    ("misspelt driver key", (*DRIVER, "entryPoint"), "rename", "entrypoint"),
    ("misspelt top-level key", ("executionRoleArn",), "rename", "executionRole"),
    ("arguments as one string", (*DRIVER, "entryPointArguments"), "set", "--config x"),
    ("role that is no ARN", ("executionRoleArn",), "set", "cdf-replicator-emr-serverless-role"),
    ("application id with capitals", ("applicationId",), "set", "MyApplication"),
    ("timeout as text", ("executionTimeoutMinutes",), "set", "180"),
    ("missing entry point", (*DRIVER, "entryPoint"), "delete", None),
]


@pytest.mark.parametrize(
    ("case", "path", "change", "value"), REQUEST_BREAKAGES, ids=[case[0] for case in REQUEST_BREAKAGES]
)
def test_a_broken_serverless_request_fails_validation(
    request_json: dict[str, Any], case: str, path: tuple[str, ...], change: str, value: Any
) -> None:
    errors = api_errors("emr-serverless", "StartJobRun", broken_copy(request_json, path, change, value))
    assert errors, case
    assert (value if change == "rename" else path[-1]) in errors[0]


# --- one spark-submit, three places --------------------------------------------------------------------------


def test_step_runs_exactly_the_scripts_spark_submit(step: dict[str, Any]) -> None:
    assert step["HadoopJarStep"]["Args"][1:] == script_spark_submit(SCRIPT)


def test_serverless_submits_the_same_packages_settings_files_and_application(request_json: dict[str, Any]) -> None:
    script = parse_spark_submit(script_spark_submit(SCRIPT))
    # EMR Serverless chooses the deploy mode itself and rejects one in the parameters.
    assert "--deploy-mode" not in serverless_submit(request_json).options
    assert submit_differences(script, serverless_submit(request_json), ignore=frozenset({"--deploy-mode"})) == []


def test_a_difference_between_the_copies_is_reported(step: dict[str, Any], request_json: dict[str, Any]) -> None:
    script = parse_spark_submit(script_spark_submit(SCRIPT))
    drifted = copy.deepcopy(request_json)
    driver = drifted["jobDriver"]["sparkSubmit"]
    driver["sparkSubmitParameters"] = driver["sparkSubmitParameters"].replace(
        "delta-spark_2.12:3.3.2", "delta-spark_2.12:3.2.0"
    )
    driver["entryPointArguments"] = ["--config", "s3://elsewhere/replicator.yaml"]
    found = submit_differences(script, serverless_submit(drifted), ignore=frozenset({"--deploy-mode"}))
    assert [line.split(":")[0] for line in found] == ["--packages", "application"]
    step["HadoopJarStep"]["Args"].insert(3, "--conf")
    step["HadoopJarStep"]["Args"].insert(4, "spark.sql.shuffle.partitions=7")
    assert submit_differences(script, step_submit(step)) == ["--conf spark.sql.shuffle.partitions: None != '7'"]


def test_the_command_matches_the_project_pins() -> None:
    submit = parse_spark_submit(script_spark_submit(SCRIPT))
    delta = importlib.metadata.version("delta-spark")
    assert submit.options["--packages"] == f"io.delta:delta-spark_2.12:{delta}"
    assert "hadoop-aws" not in submit.options["--packages"], "EMR 7 ships hadoop-aws; a second copy conflicts"
    assert submit.conf["spark.sql.extensions"] == DELTA_EXTENSION
    assert submit.conf["spark.sql.catalog.spark_catalog"] == DELTA_CATALOG
    assert submit.options["--deploy-mode"] == "client"
    wheel = submit.options["--py-files"].rsplit("/", 1)[1]
    assert wheel == f"cdf_replicator-{cdf_replicator.__version__}-py3-none-any.whl"
    assert submit.application.endswith("/jobs/run.py") and (REPO / "jobs" / "run.py").is_file()
    assert list(submit.arguments[:1]) == ["--config"] and re.match(r"s3a?://", submit.arguments[1])
    python = submit.conf["spark.pyspark.python"]
    assert python == submit.conf["spark.pyspark.driver.python"]
    assert re.search(r"python3\.(1[0-9])$", python), "cdf-replicator needs Python 3.10 or newer"


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
@pytest.mark.parametrize("script", ["spark-submit.sh", "bootstrap.sh"])
def test_shell_scripts_parse(script: str) -> None:
    result = subprocess.run(["bash", "-n", str(EMR / script)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


# --- secrets -----------------------------------------------------------------------------------------------


def test_serverless_passes_cdf_credentials_as_secrets_manager_references(request_json: dict[str, Any]) -> None:
    [defaults] = [
        item["properties"]
        for item in request_json["configurationOverrides"]["applicationConfiguration"]
        if item["classification"] == "spark-defaults"
    ]
    driver_env = {key.removeprefix(DRIVER_ENV): value for key, value in defaults.items() if key.startswith(DRIVER_ENV)}
    assert set(driver_env) == {"COGNITE_CLIENT_ID", "COGNITE_CLIENT_SECRET"}
    assert all(value.startswith("EMR.secret@") for value in driver_env.values())
    # The names are the variables the documented config reads.
    example = (REPO / "conf" / "example.yaml").read_text(encoding="utf-8")
    assert all(f"${{{name}}}" in example for name in driver_env)


@pytest.mark.parametrize("path", sorted(EMR.iterdir()), ids=lambda path: path.name)
def test_no_secret_literal_in_the_emr_files(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    document = json.loads(text) if path.suffix == ".json" else None
    found = secret_literals(document, text, path.name)
    if path == SERVERLESS:
        found += secret_literals(serverless_submit(read_json(path)).conf, "", "sparkSubmitParameters")
    if path == STEP:
        found += secret_literals(step_submit(read_json(path)).conf, "", "step Args")
    assert found == []


def test_secret_scan_catches_a_literal_in_the_submit_settings(request_json: dict[str, Any]) -> None:
    driver = request_json["jobDriver"]["sparkSubmit"]
    driver["sparkSubmitParameters"] += f" --conf {DRIVER_ENV}COGNITE_CLIENT_SECRET=plain-text"
    properties = request_json["configurationOverrides"]["applicationConfiguration"][0]["properties"]
    properties[f"{DRIVER_ENV}COGNITE_CLIENT_ID"] = "also-plain"
    assert secret_literals(serverless_submit(request_json).conf, "", "p") == [
        f"p: {DRIVER_ENV}COGNITE_CLIENT_SECRET: secret-named key holds a literal"
    ]
    assert secret_literals(request_json, "", "r") == []  # a client id is not a secret; the scan must not cry wolf
