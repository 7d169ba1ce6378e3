"""The jobs/ scripts under a real ``spark-submit`` with the built wheel as the only source of ``cdf_replicator``.

As on EMR: the wheel arrives through ``--py-files``, the script is the application, and spark-submit's exit code
is the script's. The driver's Python sees the test environment's third-party packages through PYTHONPATH, but
not the editable install of this repository (its ``.pth`` file is read only for site directories), so the
package can come from the wheel alone.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SPARK_SUBMIT = Path(sys.executable).with_name("spark-submit")

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("java") is None, reason="spark-submit needs Java"),
]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built from setup.py as the Databricks bundle builds it."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(out), str(REPO)],
        check=True,
        timeout=600,
    )
    [built] = out.glob("cdf_replicator-*-py3-none-any.whl")
    return built


@pytest.fixture(scope="module")
def driver_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """An interpreter without this project installed, with the test environment's packages on PYTHONPATH."""
    bare = tmp_path_factory.mktemp("bare-python")
    venv.create(bare, with_pip=False)
    python = bare / "bin" / "python"
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYSPARK_", "SPARK_"))}
    env.update(
        PYSPARK_PYTHON=str(python),
        PYSPARK_DRIVER_PYTHON=str(python),
        PYTHONPATH=os.pathsep.join(site.getsitepackages()),
    )
    probe = subprocess.run([str(python), "-c", "import cdf_replicator"], env=env, capture_output=True, check=False)
    assert probe.returncode != 0, "the bare interpreter must not find cdf_replicator by itself"
    return env


def spark_submit(
    wheel: Path, env: dict[str, str], script: str, *args: str, cwd: Path
) -> subprocess.CompletedProcess[str]:
    command = [str(SPARK_SUBMIT), "--master", "local[1]", "--py-files", str(wheel), str(REPO / "jobs" / script), *args]
    return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)


def test_the_script_runs_its_command_from_the_wheel(wheel: Path, driver_env: dict[str, str], tmp_path: Path) -> None:
    # One script is enough here (each start costs a JVM); tests/unit/test_job_shims.py covers all three.
    result = spark_submit(wheel, driver_env, "run.py", "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "usage: cdf-replicator run " in result.stdout


def test_spark_submit_exits_with_the_commands_code(wheel: Path, driver_env: dict[str, str], tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    result = spark_submit(wheel, driver_env, "replicate.py", "--config", str(missing), cwd=tmp_path)
    assert result.returncode == 2, result.stderr[-2000:]
    # spark-submit merges the Python driver's stderr into its stdout.
    assert f"{missing}: cannot read the config file" in result.stdout
