"""The jobs/ entry scripts: each runs its own subcommand with the script's arguments and exits with its code."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHIMS = ("replicate", "publish", "run")


def run_shim(name: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    script = REPO / "jobs" / f"{name}.py"
    return subprocess.run(
        [sys.executable, str(script), *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.parametrize("name", SHIMS)
def test_shim_hands_its_arguments_to_its_own_subcommand(name: str, tmp_path: Path) -> None:
    result = run_shim(name, "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: cdf-replicator {name} ")
    assert "--config CONFIG" in result.stdout


@pytest.mark.parametrize("name", SHIMS)
def test_shim_exits_with_the_commands_code(name: str, tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    result = run_shim(name, "--config", str(missing), cwd=tmp_path)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert f"{missing}: cannot read the config file" in result.stderr


@pytest.mark.parametrize("name", SHIMS)
def test_shim_is_thin_and_documented(name: str) -> None:
    """A docstring, only ``sys`` and ``cdf_replicator.cli.main`` imported, and the call behind a main guard, so
    importing the file (a test, a notebook) runs nothing."""
    tree = ast.parse((REPO / "jobs" / f"{name}.py").read_text(encoding="utf-8"))
    assert ast.get_docstring(tree)
    imports = [node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)]
    assert [ast.unparse(node) for node in imports] == ["import sys", "from cdf_replicator.cli import main"]
    [guard] = [node for node in tree.body if isinstance(node, ast.If)]
    assert ast.unparse(guard.test) == "__name__ == '__main__'"
    assert ast.unparse(guard.body[0]) == f"sys.exit(main(['{name}', *sys.argv[1:]]))"
