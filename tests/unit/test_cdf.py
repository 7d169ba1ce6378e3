"""The CDF adapter against the bundled emulator over real HTTP: static token and OAuth client credentials."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from cognite.client import global_config

from cdf_emulator import Emulator
from cdf_replicator.cdf import create_client, verify_access
from cdf_replicator.config import CogniteConfig, ConnectionConfig, OAuthConfig, Secret
from cdf_replicator.errors import CdfAccessError

CLIENT_SECRET = "emulator-client-secret-42"


@pytest.fixture(autouse=True)
def restore_sdk_globals(monkeypatch: pytest.MonkeyPatch) -> None:
    """create_client sets cognite-sdk's process-wide settings; put them back after each test."""
    for name in ("max_retries", "disable_ssl", "disable_pypi_version_check"):
        monkeypatch.setattr(global_config, name, getattr(global_config, name))


@pytest.fixture()
def recorded() -> list[tuple[str, str, int]]:
    return []


@pytest.fixture()
def emulator(emulator_factory: Any, recorded: list[tuple[str, str, int]]) -> Iterator[Emulator]:
    def record(method: str, path: str, response: Any) -> None:
        recorded.append((method, path.split("?")[0], response.status))

    yield emulator_factory(project="emulated", on_response=record)


def oauth_config(emulator: Emulator, **changes: Any) -> CogniteConfig:
    oauth = OAuthConfig(
        token_url=emulator.token_url,
        client_id="replicator-test",
        secret=Secret(CLIENT_SECRET),
        scopes=(f"{emulator.base_url}/.default",),
    )
    fields: dict[str, Any] = {"host": emulator.base_url, "project": "emulated", "oauth": oauth, **changes}
    return CogniteConfig(**fields)


def test_static_token_client_inspects_its_token(emulator: Emulator, recorded: list[tuple[str, str, int]]) -> None:
    config = CogniteConfig(host=emulator.base_url, project="emulated", token=Secret("static-token"))
    client = create_client(config)

    inspection = client.iam.token.inspect()

    assert [project.url_name for project in inspection.projects] == ["emulated"]
    assert recorded == [("GET", "/api/v1/token/inspect", 200)]  # no token endpoint call with a static token


def test_oauth_client_credentials_fetch_a_token_from_the_token_url(
    emulator: Emulator, recorded: list[tuple[str, str, int]]
) -> None:
    client = create_client(oauth_config(emulator))

    assert verify_access(client, oauth_config(emulator)) == ["emulated"]
    assert recorded == [("POST", "/oauth2/token", 200), ("GET", "/api/v1/token/inspect", 200)]


def test_client_settings_come_from_the_config(emulator: Emulator) -> None:
    connection = ConnectionConfig(timeout=12.5, max_retries=2, disable_ssl=False)
    client = create_client(oauth_config(emulator, client_name="nightly-replicator", connection=connection))

    assert (client.config.client_name, client.config.project) == ("nightly-replicator", "emulated")
    assert client.config.base_url == emulator.base_url
    assert client.config.timeout == 13
    assert (global_config.max_retries, global_config.disable_pypi_version_check) == (2, True)


def test_rejected_client_credentials_are_one_line_without_the_secret(emulator: Emulator) -> None:
    bad = OAuthConfig(token_url=emulator.token_url, client_id="", secret=Secret(CLIENT_SECRET))
    config = oauth_config(emulator, oauth=bad)

    with pytest.raises(CdfAccessError) as caught:
        verify_access(create_client(config), config)

    message = str(caught.value)
    assert message.startswith(f"cannot access project 'emulated' at {emulator.base_url}: ")
    assert "invalid_client" in message and "\n" not in message and CLIENT_SECRET not in message


def test_secrets_echoed_by_an_endpoint_are_scrubbed(emulator: Emulator) -> None:
    # The emulator's 404 body repeats the request path, as some identity providers repeat request values.
    echoing = OAuthConfig(
        token_url=f"{emulator.base_url}/wrong/{CLIENT_SECRET}", client_id="c", secret=Secret(CLIENT_SECRET)
    )
    config = CogniteConfig(host=emulator.base_url, project="emulated", oauth=echoing)

    with pytest.raises(CdfAccessError) as caught:
        verify_access(create_client(config), config)

    assert "/wrong/***" in str(caught.value) and CLIENT_SECRET not in str(caught.value)


def test_a_project_the_token_cannot_access_is_named(emulator: Emulator) -> None:
    config = oauth_config(emulator, project="someone-else")

    with pytest.raises(CdfAccessError) as caught:
        verify_access(create_client(config), config)

    assert str(caught.value) == (
        f"the credentials give no access to project 'someone-else' at {emulator.base_url} (projects: emulated)"
    )


def test_unreachable_cdf_is_an_access_error() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    host = f"http://127.0.0.1:{port}"
    config = CogniteConfig(
        host=host, project="p", token=Secret("t"), connection=ConnectionConfig(timeout=2, max_retries=0)
    )

    with pytest.raises(CdfAccessError) as caught:
        verify_access(create_client(config), config)

    assert str(caught.value).startswith(f"cannot access project 'p' at {host}: ")


def test_unreachable_token_url_is_an_access_error(emulator: Emulator) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    unreachable = OAuthConfig(token_url=f"http://127.0.0.1:{port}/token", client_id="c", secret=Secret(CLIENT_SECRET))
    config = CogniteConfig(host=emulator.base_url, project="emulated", oauth=unreachable)

    with pytest.raises(CdfAccessError) as caught:
        verify_access(create_client(config), config)

    assert str(caught.value).startswith(f"cannot access project 'emulated' at {emulator.base_url}: ")
    assert CLIENT_SECRET not in str(caught.value)


def test_config_without_credentials_is_refused() -> None:
    with pytest.raises(CdfAccessError, match="no credentials configured for project 'p' at http://h"):
        create_client(CogniteConfig(host="http://h", project="p"))
