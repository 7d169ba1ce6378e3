"""Bad input through the CLI: one clear error line naming what is wrong, no traceback, nothing written.

Each case fails before Spark starts, so these run in milliseconds. One case also runs as a real
``python -m cdf_replicator.cli`` process, to see what a user's terminal shows.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.lake import ModelRef, local_lake, run_cli, write_config

pytestmark = pytest.mark.e2e

MOVIES = ModelRef("movies", "Movies", "1")
ERROR_PREFIX = "cdf-replicator: error:"


def _closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _edit(config: str, change: Any) -> str:
    data = yaml.safe_load(Path(config).read_text())
    change(data)
    Path(config).write_text(yaml.safe_dump(data, sort_keys=False))
    return config


def _malformed_yaml(config: str) -> str:
    Path(config).write_text(Path(config).read_text() + "extractor: [unclosed\n")
    return config


def _unknown_key(data: dict[str, Any]) -> None:
    data["extractor"]["pol-time"] = 60


def _unknown_model(data: dict[str, Any]) -> None:
    data["data_modeling"][0]["data_models"][0]["external_id"] = "Moviez"


def _unknown_view(data: dict[str, Any]) -> None:
    data["data_modeling"][0]["data_models"][0]["views"] = ["Person", "Persn"]


def _missing_credential(data: dict[str, Any]) -> None:
    data["cognite"]["token"] = "${E2E_UNSET_COGNITE_TOKEN}"


def _unreachable(data: dict[str, Any]) -> None:
    data["cognite"]["host"] = f"http://127.0.0.1:{_closed_port()}"
    data["cognite"]["connection"] = {"max-retries": 0, "timeout": 5}


# (case, how to break the config, words the error line must contain)
CASES = [
    ("malformed-yaml", _malformed_yaml, ["replicator.yaml"]),
    ("unknown-key", lambda c: _edit(c, _unknown_key), ["extractor.pol-time"]),
    ("unknown-model", lambda c: _edit(c, _unknown_model), ["Moviez"]),
    ("unknown-view", lambda c: _edit(c, _unknown_view), ["Persn"]),
    ("missing-credential", lambda c: _edit(c, _missing_credential), ["E2E_UNSET_COGNITE_TOKEN", "cognite.token"]),
    ("unreachable-cdf", lambda c: _edit(c, _unreachable), ["127.0.0.1"]),
]


def _error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith(ERROR_PREFIX)]


@pytest.mark.parametrize(("case", "breaker", "words"), CASES, ids=[case[0] for case in CASES])
def test_bad_input_gives_one_clear_error_line_and_writes_nothing(
    case: str, breaker: Any, words: list[str], emulator_factory: Any, tmp_path: Path, capsys: Any, monkeypatch: Any
) -> None:
    monkeypatch.delenv("E2E_UNSET_COGNITE_TOKEN", raising=False)
    emulator = emulator_factory(seed="movies")
    lake = local_lake(tmp_path / "lake")
    config = breaker(write_config(tmp_path, emulator, lake, MOVIES))

    run = run_cli(["replicate", "--config", config], capsys)

    assert run.code != 0
    lines = _error_lines(run.err)
    assert len(lines) == 1, run.err
    assert all(word in lines[0] for word in words), lines[0]
    assert "Traceback" not in run.err and run.out == ""
    assert not Path(lake.root).exists()

    verbose = run_cli(["replicate", "--config", config, "--verbose"], capsys)
    assert verbose.code != 0 and "Traceback" in verbose.err and _error_lines(verbose.err) == lines


def test_bad_input_in_a_real_process_prints_one_line_on_stderr(tmp_path: Path) -> None:
    lake = local_lake(tmp_path / "lake")
    config = _edit(write_config(tmp_path, "http://127.0.0.1:1", lake, MOVIES), _unknown_key)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYSPARK_")}
    done = subprocess.run(
        [sys.executable, "-m", "cdf_replicator.cli", "replicate", "--config", config],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [line for line in _error_lines(done.stderr)], done.stderr
    assert "extractor.pol-time" in done.stderr and done.stdout == ""
    assert not Path(lake.root).exists()
