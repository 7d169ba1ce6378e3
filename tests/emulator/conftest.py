"""Emulator fixtures whose every response is checked against the OpenAPI document."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from cdf_emulator import Emulator
from tests.openapi_validator import ResponseValidator


@pytest.fixture()
def validated_emulator() -> Iterator[Any]:
    """``start(**Emulator options)`` -> a running Emulator; the test fails on any schema violation."""
    validator = ResponseValidator()
    started: list[Emulator] = []

    def start(**options: Any) -> Emulator:
        emulator = Emulator(on_response=validator.check, **options).start()
        started.append(emulator)
        return emulator

    yield start
    for emulator in started:
        emulator.stop()
    assert not validator.violations, "responses that break the OpenAPI document:\n" + "\n".join(validator.violations)


@pytest.fixture()
def emulator(validated_emulator: Any) -> Emulator:
    """A running, empty emulator (project ``emulated``) with response validation."""
    return validated_emulator()


@pytest.fixture()
def client(emulator: Emulator) -> Any:
    """A real ``CogniteClient`` on :func:`emulator`."""
    return emulator.client()
