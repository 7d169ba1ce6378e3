"""Fixtures shared by every test layer: one Spark session per run, emulators started and stopped per test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from cdf_emulator import Emulator


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """The one local Spark + Delta session of the test run (UI off, 2 shuffle partitions)."""
    from cdf_replicator.spark import create_local_session

    session = create_local_session(app_name="cdf-replicator-tests", shuffle_partitions=2)
    yield session
    session.stop()


@pytest.fixture()
def emulator_factory() -> Iterator[Any]:
    """Start emulators with any options; all are stopped after the test."""
    started: list[Emulator] = []

    def start(**options: Any) -> Emulator:
        emulator = Emulator(**options).start()
        started.append(emulator)
        return emulator

    yield start
    for emulator in started:
        emulator.stop()
