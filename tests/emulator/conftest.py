"""Emulator fixtures whose every response is checked against the OpenAPI document."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from cdf_emulator import Emulator
from tests.openapi_spec import OpenApiIndex, load_index
from tests.openapi_validator import ResponseValidator


@pytest.fixture(scope="session")
def openapi_index() -> OpenApiIndex:
    """The corrected OpenAPI document, loaded once per session; a missing document fails every test using it."""
    return load_index()


@pytest.fixture()
def validated_emulator(openapi_index: OpenApiIndex) -> Iterator[Any]:
    """``start(**Emulator options)`` -> a running Emulator; the test fails on any schema violation.

    An ``on_response`` option is kept: it is called after the validator, for tests that record responses.
    """
    validator = ResponseValidator(openapi_index)
    started: list[Emulator] = []

    def start(**options: Any) -> Emulator:
        emulator = Emulator(on_response=_chain(validator.check, options.pop("on_response", None)), **options)
        started.append(emulator.start())
        return emulator

    yield start
    for emulator in started:
        emulator.stop()
    assert not validator.violations, "responses that break the OpenAPI document:\n" + "\n".join(validator.violations)


@pytest.fixture()
def emulator(validated_emulator: Any) -> Emulator:
    """A running, empty emulator (project ``emulated``) with response validation."""
    emulator: Emulator = validated_emulator()
    return emulator


@pytest.fixture()
def client(emulator: Emulator) -> Any:
    """A real ``CogniteClient`` on :func:`emulator`."""
    return emulator.client()


def _chain(first: Callable[..., None], second: Callable[..., None] | None) -> Callable[..., None]:
    if second is None:
        return first

    def both(method: str, path: str, response: Any) -> None:
        first(method, path, response)
        second(method, path, response)

    return both
