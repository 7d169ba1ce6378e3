"""The Databricks bundle: ``databricks.yml`` with its includes is valid for the bundle schema and deploys what we mean.

The schema is ``shared/reference/databricks-bundle-schema.json`` beside the repository (or ``$CDF_BUNDLE_SCHEMA``);
without it these tests fail rather than skip, since nothing else checks the bundle before a real deploy.
"""

from __future__ import annotations

import ast
import copy
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from cdf_replicator.config import load_config
from tests.unit.bundle_loader import (
    BundleError,
    apply_target,
    bundle_validator,
    included_files,
    load_bundle,
    load_schema,
    python_pattern,
    schema_errors,
    schema_path,
    variable_references,
)
from tests.unit.secret_scan import secret_literals

REPO = Path(__file__).resolve().parents[2]
RESOURCES = REPO / "resources"
JOBS = ("cdf_replicator", "cdf_replicator_serverless")
CLUSTER_JOB, SERVERLESS_JOB = JOBS
REQUIRED_VARIABLES = {"config_path", "storage_root", "secret_scope", "node_type_id", "spark_version"}
SECRET_REFERENCE = re.compile(r"^\{\{secrets/\$\{var\.secret_scope\}/[\w-]+\}\}$")
UNDEFAULTED_ENV = re.compile(r"\$\{([A-Za-z_]\w*)\}")


@pytest.fixture(scope="module")
def validator() -> Any:
    path = schema_path(REPO)
    if not path.is_file():
        pytest.fail(f"bundle schema missing at {path}: set CDF_BUNDLE_SCHEMA to databricks-bundle-schema.json")
    return bundle_validator(load_schema(path))


@pytest.fixture(scope="module")
def bundle() -> dict[str, Any]:
    return load_bundle(REPO)


def job(document: dict[str, Any], name: str) -> dict[str, Any]:
    return document["resources"]["jobs"][name]


def tasks_by_key(job_settings: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {task["task_key"]: task for task in job_settings["tasks"]}


def run_order(job_settings: dict[str, Any]) -> list[str]:
    """Task keys in the order the job runs them (a topological sort of ``depends_on``); a cycle fails."""
    pending = {
        key: {dep["task_key"] for dep in task.get("depends_on", [])} for key, task in tasks_by_key(job_settings).items()
    }
    order: list[str] = []
    while pending:
        ready = sorted(key for key, deps in pending.items() if deps <= set(order))
        assert ready, f"dependency cycle or unknown task among {pending}"
        order.extend(ready)
        for key in ready:
            del pending[key]
    return order


# --- the schema --------------------------------------------------------------------------------------------


def test_include_globs_pick_up_every_resource_file(bundle: dict[str, Any]) -> None:
    assert bundle["include"] == ["resources/*.yml"]
    assert included_files(REPO, bundle) == sorted(RESOURCES.glob("*.yml"))
    assert set(bundle["resources"]["jobs"]) == set(JOBS)


def test_bundle_with_its_includes_is_valid_for_the_schema(bundle: dict[str, Any], validator: Any) -> None:
    assert schema_errors(validator, bundle) == []


@pytest.mark.parametrize("target", ["dev", "prod"])
def test_each_target_as_deployed_is_valid_for_the_schema(bundle: dict[str, Any], validator: Any, target: str) -> None:
    assert schema_errors(validator, apply_target(bundle, target)) == []


BROKEN = [
    ("misspelt task field", ("resources", "jobs", CLUSTER_JOB, "tasks", 0), "spark_python_taks", {"python_file": "x"}),
    ("unknown pause status", ("resources", "jobs", CLUSTER_JOB, "schedule"), "pause_status", "SOMETIMES"),
    ("bad interpolation in an int", ("resources", "jobs", CLUSTER_JOB), "max_concurrent_runs", "${vars.runs}"),
    ("text in an int", ("resources", "jobs", CLUSTER_JOB, "job_clusters", 0, "new_cluster"), "num_workers", "two"),
    ("unknown bundle key", ("bundle",), "nmae", "cdf-replicator"),
    ("misspelt target mode", ("targets", "prod"), "mdoe", "production"),
    ("unknown artifact key", ("artifacts", "cdf_replicator_wheel"), "bulid", "make"),
    ("schedule without timezone", ("resources", "jobs", CLUSTER_JOB, "schedule"), "timezone_id", None),
]


@pytest.mark.parametrize(("case", "where", "key", "value"), BROKEN, ids=[case[0] for case in BROKEN])
def test_a_broken_copy_fails_validation(
    bundle: dict[str, Any], validator: Any, case: str, where: tuple[Any, ...], key: str, value: Any
) -> None:
    broken = copy.deepcopy(bundle)
    node = broken
    for part in where:
        node = node[part]
    if value is None:
        del node[key]
    else:
        node[key] = value
    errors = schema_errors(validator, broken)
    assert errors, case
    assert any("/".join(map(str, where)) in error for error in errors), errors


def test_interpolations_validate_wherever_a_typed_value_may_be_one(bundle: dict[str, Any], validator: Any) -> None:
    interpolated = copy.deepcopy(bundle)
    settings = job(interpolated, CLUSTER_JOB)
    settings["max_concurrent_runs"] = "${var.max_runs}"
    settings["schedule"]["pause_status"] = "${var.pause_status}"
    settings["tasks"][0]["run_if"] = "${var.run_if}"
    settings["tasks"][0]["max_retries"] = "${resources.jobs.other.max_retries}"
    settings["tasks"][0]["retry_on_timeout"] = "${var.retry_on_timeout}"
    settings["job_clusters"][0]["new_cluster"]["data_security_mode"] = "${var.security_mode}"
    assert schema_errors(validator, interpolated) == []


def test_pattern_translation_keeps_the_interpolation_grammar() -> None:
    pattern = re.compile(python_pattern(r"\$\{(var(\.\p{L}+([-_]*[\p{L}\p{N}]+)*(\[[0-9]+\])*)+)\}"))
    for good in ("${var.storage_root}", "${var.a-b_c1}", "${var.list[0]}", "${var.größe}"):
        assert pattern.search(good), good
    for bad in ("${var.}", "${vars.x}", "${var.1x}", "var.x", "${var.x"):
        assert not pattern.search(bad), bad
    with pytest.raises(ValueError, match="unsupported"):
        python_pattern(r"\p{Lu}+")


def test_broken_files_on_disk_are_caught(tmp_path: Path, validator: Any) -> None:
    shutil.copy(REPO / "databricks.yml", tmp_path / "databricks.yml")
    shutil.copytree(RESOURCES, tmp_path / "resources")
    job_file = tmp_path / "resources" / "cdf_replicator.job.yml"
    job_file.write_text(job_file.read_text().replace("depends_on:", "depend_on:"), encoding="utf-8")
    errors = schema_errors(validator, load_bundle(tmp_path))
    assert any("depend_on" in error for error in errors), errors

    shutil.copy(RESOURCES / "cdf_replicator.job.yml", tmp_path / "resources" / "copy.yml")
    with pytest.raises(BundleError, match=r"resources\.jobs\.cdf_replicator.* already defined"):
        load_bundle(tmp_path)

    shutil.rmtree(tmp_path / "resources")
    with pytest.raises(BundleError, match="matches no file"):
        load_bundle(tmp_path)


# --- what the bundle deploys -------------------------------------------------------------------------------


def test_the_wheel_is_built_from_setup_py_into_the_folder_the_tasks_install_from(bundle: dict[str, Any]) -> None:
    assert bundle["bundle"]["name"] == "cdf-replicator"
    [artifact] = bundle["artifacts"].values()
    assert artifact["type"] == "whl"
    assert (REPO / artifact["path"] / "setup.py").is_file()
    assert re.search(r"(pip wheel|setup\.py bdist_wheel|-m build --wheel)", artifact["build"])
    wheel_dir = re.search(r"--wheel-dir\s+(\S+)", artifact["build"])
    assert wheel_dir and (REPO / wheel_dir.group(1)).resolve() == (REPO / "dist").resolve()
    for task in job(bundle, CLUSTER_JOB)["tasks"]:
        assert [(RESOURCES / lib["whl"]).resolve() for lib in task["libraries"]] == [(REPO / "dist/*.whl").resolve()]
    [environment] = job(bundle, SERVERLESS_JOB)["environments"]
    assert [(RESOURCES / dep).resolve() for dep in environment["spec"]["dependencies"]] == [
        (REPO / "dist/*.whl").resolve()
    ]


@pytest.mark.parametrize("name", JOBS)
def test_jobs_replicate_then_publish(bundle: dict[str, Any], name: str) -> None:
    settings = job(bundle, name)
    assert run_order(settings) == ["replicate", "publish"]
    tasks = tasks_by_key(settings)
    assert "depends_on" not in tasks["replicate"]
    assert tasks["publish"]["depends_on"] == [{"task_key": "replicate"}]
    assert settings["max_concurrent_runs"] == 1


@pytest.mark.parametrize("name", JOBS)
def test_tasks_run_the_job_script_of_their_command_with_the_configured_config(
    bundle: dict[str, Any], name: str
) -> None:
    for key, task in tasks_by_key(job(bundle, name)).items():
        script = (RESOURCES / task["spark_python_task"]["python_file"]).resolve()
        assert script == REPO / "jobs" / f"{key}.py"
        assert script_command(script) == key
        expected = ["--config", "${var.config_path}"]
        if name == "cdf_replicator_serverless":  # no cluster environment: secrets come through the scope
            expected += ["--secret-scope", "${var.secret_scope}"]
        assert task["spark_python_task"]["parameters"] == expected


def script_command(script: Path) -> str:
    """The subcommand a jobs/ shim hands to ``cdf_replicator.cli.main``: the first item of its argument list."""
    for node in ast.walk(ast.parse(script.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "main":
            first = node.args[0].elts[0]  # type: ignore[attr-defined]
            assert isinstance(first, ast.Constant)
            return str(first.value)
    raise AssertionError(f"{script} does not call main([...])")


def test_job_cluster_gets_runtime_node_type_and_cdf_secrets_from_the_scope(bundle: dict[str, Any]) -> None:
    settings = job(bundle, CLUSTER_JOB)
    [cluster] = settings["job_clusters"]
    assert {task["job_cluster_key"] for task in settings["tasks"]} == {cluster["job_cluster_key"]}
    spec = cluster["new_cluster"]
    assert (spec["spark_version"], spec["node_type_id"]) == ("${var.spark_version}", "${var.node_type_id}")
    env = spec["spark_env_vars"]
    for name in ("COGNITE_CLIENT_ID", "COGNITE_CLIENT_SECRET"):
        assert SECRET_REFERENCE.match(env[name]), env[name]
    assert env["CDF_REPLICATOR_ROOT"] == "${var.storage_root}"


def test_the_default_config_needs_only_what_the_job_cluster_sets(bundle: dict[str, Any]) -> None:
    config_file = REPO / "conf" / "databricks.yaml"
    assert bundle["variables"]["config_path"]["default"] == "${workspace.file_path}/conf/databricks.yaml"
    env = job(bundle, CLUSTER_JOB)["job_clusters"][0]["new_cluster"]["spark_env_vars"]
    needed = set(UNDEFAULTED_ENV.findall(config_file.read_text(encoding="utf-8")))
    assert needed <= set(env), needed - set(env)
    fake = {name: f"https://value-of-{name.lower()}.example" for name in env}
    fake["CDF_REPLICATOR_ROOT"] = "s3://lake/cdf-replicator"
    config = load_config(config_file, fake)
    assert config.destination.root_uri == "s3://lake/cdf-replicator"


def test_serverless_variant_installs_the_wheel_through_its_environment(bundle: dict[str, Any]) -> None:
    settings = job(bundle, SERVERLESS_JOB)
    assert "job_clusters" not in settings
    keys = {environment["environment_key"] for environment in settings["environments"]}
    for task in settings["tasks"]:
        assert task["environment_key"] in keys
        assert not {"libraries", "new_cluster", "job_cluster_key", "existing_cluster_id"} & set(task)


def test_schedule_is_paused_in_dev_and_runs_in_prod(bundle: dict[str, Any]) -> None:
    targets = bundle["targets"]
    assert (targets["dev"]["mode"], targets["dev"]["default"]) == ("development", True)
    assert targets["prod"]["mode"] == "production"
    dev, prod = apply_target(bundle, "dev"), apply_target(bundle, "prod")
    assert dev["presets"]["trigger_pause_status"] == "PAUSED"
    assert {name: job(dev, name)["schedule"]["pause_status"] for name in JOBS} == dict.fromkeys(JOBS, "PAUSED")
    assert job(prod, CLUSTER_JOB)["schedule"]["pause_status"] == "UNPAUSED"
    for document in (dev, prod):
        assert re.fullmatch(r"[0-9*?/,\- ]+", variable_default(document, job(document, CLUSTER_JOB)["schedule"]))


def variable_default(document: dict[str, Any], schedule: dict[str, Any]) -> str:
    name = re.fullmatch(r"\$\{var\.(\w+)\}", schedule["quartz_cron_expression"])
    assert name, schedule
    return str(document["variables"][name.group(1)]["default"])


@pytest.mark.parametrize("target", ["dev", "prod"])
def test_at_most_one_variant_is_scheduled(bundle: dict[str, Any], target: str) -> None:
    deployed = apply_target(bundle, target)
    running = [name for name in JOBS if job(deployed, name)["schedule"].get("pause_status") != "PAUSED"]
    assert len(running) <= 1, f"{running} would write the same tables concurrently"


def test_every_variable_used_is_declared_with_the_expected_defaults(bundle: dict[str, Any]) -> None:
    declared = bundle["variables"]
    assert set(declared) >= REQUIRED_VARIABLES
    assert set(variable_references(bundle)) <= set(declared), set(variable_references(bundle)) - set(declared)
    assert re.fullmatch(r"1[56]\.4\.x-scala2\.1[23]", declared["spark_version"]["default"])
    assert "default" not in declared["storage_root"], "a guessed default would write to somebody's bucket"
    assert all(variable.get("description") for variable in declared.values())


# --- secrets -----------------------------------------------------------------------------------------------


def deployment_yaml() -> list[Path]:
    return [REPO / "databricks.yml", *sorted(RESOURCES.glob("*.yml")), REPO / "conf" / "databricks.yaml"]


@pytest.mark.parametrize("path", deployment_yaml(), ids=lambda path: path.name)
def test_no_secret_literal_in_the_deployment_yaml(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert secret_literals(yaml.safe_load(text), text, path.name) == []


def test_secret_scan_catches_a_literal_in_a_copy(bundle: dict[str, Any]) -> None:
    leaked = copy.deepcopy(bundle)
    env = job(leaked, CLUSTER_JOB)["job_clusters"][0]["new_cluster"]["spark_env_vars"]
    env["COGNITE_CLIENT_SECRET"] = "s3cr3t-value"
    leaked["variables"]["api_key"] = {"default": "${var.x}-plus-literal"}
    text = yaml.safe_dump(leaked) + "\n# old token: dapi0123456789abcdef0123456789abcdef\n"
    found = secret_literals(leaked, text, "copy")
    assert any("spark_env_vars.COGNITE_CLIENT_SECRET" in item for item in found), found
    assert any("variables.api_key" in item for item in found), found
    assert any("Databricks token" in item for item in found), found
