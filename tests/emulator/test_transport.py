"""Transport, auth and fault injection, through the real cognite-sdk and plain HTTP."""

from __future__ import annotations

import asyncio
import base64
import gzip
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from cognite.client import ClientConfig, CogniteClient, global_config
from cognite.client.credentials import OAuthClientCredentials, Token
from cognite.client.exceptions import CogniteAPIError, CogniteConnectionError, CogniteProjectAccessError

from cdf_emulator import Emulator
from cdf_emulator.routing import Router
from tests.emulator.raw_http import Recorder, add_echo_route, request
from tests.openapi_validator import ResponseValidator

INSPECT = "/api/v1/token/inspect"


@pytest.fixture()
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the SDK's retry backoff at its 0.1 s floor so retry tests stay quick (the policy itself is unchanged)."""
    monkeypatch.setattr(global_config, "max_retry_backoff", 0)


@pytest.fixture()
def recorded(validated_emulator: Any) -> Iterator[tuple[Emulator, Recorder]]:
    recorder = Recorder()
    yield validated_emulator(on_response=recorder), recorder


@pytest.fixture()
def echo_emulator(emulator_factory: Any) -> tuple[Emulator, str]:
    """An emulator (no response validation) with a test route that answers what it received."""
    emulator = emulator_factory()
    return emulator, add_echo_route(emulator)


def _sdk_client(emulator: Emulator, credentials: Any, project: str | None = None) -> CogniteClient:
    global_config.disable_pypi_version_check = True
    config = ClientConfig(
        client_name="transport-tests",
        project=project or emulator.project,
        credentials=credentials,
        base_url=emulator.base_url,
    )
    return CogniteClient(config)


def _assert_cdf_error(response: Any, status: int) -> None:
    assert response.status == status
    body = response.json()
    assert body["error"]["code"] == status
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert response.headers.get("x-request-id")


# gzip and booleans ------------------------------------------------------------------------------------------
def test_sdk_gzips_post_bodies_and_the_server_decodes_them(echo_emulator: tuple[Emulator, str]) -> None:
    emulator, echo = echo_emulator
    payload = {"items": [{"externalId": 'quote"d', "value": 1.5}], "cursor": None}
    answer = emulator.client().post(echo, json=payload).json()
    assert answer["contentEncoding"] == "gzip"
    assert answer["json"] == payload


def test_disable_gzip_sends_plain_json(echo_emulator: tuple[Emulator, str], monkeypatch: pytest.MonkeyPatch) -> None:
    emulator, echo = echo_emulator
    monkeypatch.setattr(global_config, "disable_gzip", True)
    answer = emulator.client().post(echo, json={"a": [1, 2]}).json()
    assert answer["contentEncoding"] == ""
    assert answer["json"] == {"a": [1, 2]}


def test_gzip_body_over_plain_http(emulator: Emulator) -> None:
    before = emulator.clock.now_ms()
    body = gzip.compress(b'{"duration": "1h"}')
    response = request(emulator, "POST", "/_emulator/clock/advance", body, {"Content-Encoding": "gzip"})
    assert response.status == 200
    assert response.json()["now"] >= before + 3_600_000


def test_sdk_sends_lowercase_booleans_and_both_spellings_parse(echo_emulator: tuple[Emulator, str]) -> None:
    emulator, echo = echo_emulator
    answer = emulator.client().get(echo, params={"flag": True}).json()
    assert (answer["query"]["flag"], answer["flag"]) == ("true", True)
    for spelling, expected in (("True", True), ("TRUE", True), ("False", False), ("false", False)):
        assert request(emulator, "GET", f"{echo}?flag={spelling}").json()["flag"] is expected
    _assert_cdf_error(request(emulator, "GET", f"{echo}?flag=maybe"), 400)


def test_sdk_7_style_boolean_on_a_real_endpoint(emulator: Emulator) -> None:
    """``includeGlobal=True`` (SDK 7.x) and ``=true`` (8.x) give the same answer; garbage is a 400."""
    path = f"/api/v1/projects/{emulator.project}/models/spaces"
    titled = request(emulator, "GET", f"{path}?includeGlobal=True")
    lowered = request(emulator, "GET", f"{path}?includeGlobal=true")
    assert titled.status == lowered.status == 200
    assert titled.json() == lowered.json()
    _assert_cdf_error(request(emulator, "GET", f"{path}?includeGlobal=yes-please"), 400)


# error format -----------------------------------------------------------------------------------------------
def test_malformed_json_is_a_400_in_cdf_format(emulator: Emulator) -> None:
    response = request(emulator, "POST", f"/api/v1/projects/{emulator.project}/models/spaces", b'{"items": [')
    _assert_cdf_error(response, 400)
    assert "Invalid JSON" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/v1/projects/emulated/no/such/resource", 404),
        ("GET", "/not-an-api-path", 404),
        ("POST", INSPECT, 405),
        ("PATCH", INSPECT, 405),
        ("GET", "/oauth2/token", 405),
        ("DELETE", "/_emulator/faults/fail", 405),
        ("HEAD", "/api/v1/projects/emulated/no/such/resource", 404),
    ],
)
def test_unroutable_requests_answer_in_cdf_format(emulator: Emulator, method: str, path: str, status: int) -> None:
    response = request(emulator, method, path)
    assert response.status == status
    assert response.headers.get("x-request-id")
    if method != "HEAD":
        _assert_cdf_error(response, status)


def test_sdk_error_carries_the_request_id(emulator: Emulator) -> None:
    emulator.faults.fail("token/inspect", 500)
    with pytest.raises(CogniteAPIError) as raised:
        emulator.client().iam.token.inspect()
    assert raised.value.code == 500
    assert raised.value.x_request_id and len(raised.value.x_request_id) == 16


# auth ------------------------------------------------------------------------------------------------------
class _BasicCredentials:
    """A credential provider that sends no bearer token (what a misconfigured client does)."""

    def authorization_header(self) -> tuple[str, str]:
        return "Authorization", "Basic " + base64.b64encode(b"user:pass").decode()


def test_missing_bearer_token_is_401_over_http(emulator: Emulator) -> None:
    _assert_cdf_error(request(emulator, "GET", f"/api/v1/projects/{emulator.project}/models/spaces", token=None), 401)
    _assert_cdf_error(request(emulator, "GET", INSPECT, token=None), 401)


def test_missing_bearer_token_raises_project_access_error(recorded: tuple[Emulator, Recorder]) -> None:
    emulator, recorder = recorded
    with pytest.raises(CogniteProjectAccessError) as raised:
        _sdk_client(emulator, _BasicCredentials()).iam.token.inspect()
    assert raised.value.x_request_id
    assert recorder.statuses(INSPECT)[0] == 401


def test_wrong_project_is_401_and_the_sdk_suggests_the_right_one(recorded: tuple[Emulator, Recorder]) -> None:
    emulator, recorder = recorded
    client = _sdk_client(emulator, Token("any-token"), project="not-this-one")
    with pytest.raises(CogniteProjectAccessError):
        client.get("/api/v1/projects/not-this-one/models/spaces")
    assert recorder.statuses("/not-this-one/") == [401]
    # The SDK caches its project lookup process-wide for 5 s whatever the client, so call it uncached:
    lookup = CogniteProjectAccessError._attempt_to_get_projects.__wrapped__  # type: ignore[attr-defined]
    suggestions = asyncio.run(lookup(client.get_async_client(), "not-this-one"))
    assert suggestions == [emulator.project]


def test_sdk_oauth_client_credentials_end_to_end(recorded: tuple[Emulator, Recorder]) -> None:
    emulator, recorder = recorded
    credentials = OAuthClientCredentials(
        token_url=emulator.token_url,
        client_id="replicator",
        client_secret="s3cret",
        scopes=[f"{emulator.base_url}/.default"],
        audience="cdf",
    )
    inspection = _sdk_client(emulator, credentials).iam.token.inspect()
    assert [project.project_url_name for project in inspection.projects] == [emulator.project]
    assert [(method, path, status) for method, path, status, _ in recorder.calls] == [
        ("POST", "/oauth2/token", 200),
        ("GET", INSPECT, 200),
    ]


def test_sdk_uses_the_issued_token_as_bearer(emulator_factory: Any) -> None:
    recorder = Recorder()
    emulator = emulator_factory(on_response=recorder)
    echo = add_echo_route(emulator)
    credentials = OAuthClientCredentials(emulator.token_url, "replicator", "s3cret", ["scope"])
    answer = _sdk_client(emulator, credentials).get(echo).json()
    issued = next(body for _, path, _, body in recorder.calls if path == "/oauth2/token")
    assert answer["authorization"] == f"Bearer {issued['access_token']}"


def test_basic_auth_token_request_sdk_7_style(emulator: Emulator) -> None:
    basic = base64.b64encode(b"replicator:s3cret").decode()
    headers = {"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"}
    response = request(emulator, "POST", "/oauth2/token", b"grant_type=client_credentials&scope=x", headers, None)
    assert response.status == 200
    token = response.json()
    assert token["access_token"] and token["expires_in"] > 30
    inspect = request(emulator, "GET", INSPECT, token=token["access_token"])
    assert inspect.status == 200


@pytest.mark.parametrize(
    ("form", "status", "code"),
    [
        (b"grant_type=password&client_id=a&client_secret=b", 400, "unsupported_grant_type"),
        (b"client_id=a&client_secret=b", 400, "unsupported_grant_type"),
        (b"grant_type=client_credentials&client_id=a", 401, "invalid_client"),
    ],
)
def test_bad_token_requests_get_oauth_errors(emulator: Emulator, form: bytes, status: int, code: str) -> None:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    response = request(emulator, "POST", "/oauth2/token", form, headers, None)
    assert response.status == status
    assert response.json()["error"] == code
    assert response.json()["error_description"]


# faults ----------------------------------------------------------------------------------------------------
@pytest.mark.usefixtures("fast_retries")
def test_429_burst_is_retried_and_succeeds(recorded: tuple[Emulator, Recorder]) -> None:
    emulator, recorder = recorded
    emulator.faults.fail("token/inspect", 429, count=3)
    assert emulator.client().iam.token.inspect().subject
    assert recorder.statuses(INSPECT) == [429, 429, 429, 200]


@pytest.mark.usefixtures("fast_retries")
def test_faults_over_the_admin_endpoints(recorded: tuple[Emulator, Recorder]) -> None:
    emulator, recorder = recorded
    rule = {"path": "token/inspect", "status": 503, "count": 2, "method": "GET"}
    assert request(emulator, "POST", "/_emulator/faults/fail", rule).status == 200
    assert emulator.client().iam.token.inspect().subject
    assert recorder.statuses(INSPECT) == [503, 503, 200]


@pytest.mark.parametrize("status", [500, 408])
def test_500_and_408_are_not_retried(recorded: tuple[Emulator, Recorder], status: int) -> None:
    emulator, recorder = recorded
    emulator.faults.fail("token/inspect", status, count=5)
    with pytest.raises(CogniteAPIError) as raised:
        emulator.client().iam.token.inspect()
    assert raised.value.code == status
    assert recorder.statuses(INSPECT) == [status]


@pytest.mark.usefixtures("fast_retries")
def test_auto_retryable_header_makes_the_sdk_retry_a_500(recorded: tuple[Emulator, Recorder]) -> None:
    emulator, recorder = recorded
    rule = {"path": "token/inspect", "status": 500, "count": 2, "autoRetryable": True}
    assert request(emulator, "POST", "/_emulator/faults/fail", rule).status == 200
    assert emulator.client().iam.token.inspect().subject
    assert recorder.statuses(INSPECT) == [500, 500, 200]
    last_error = [body for _, path, status, body in recorder.calls if status == 500][-1]
    assert last_error["error"]["isAutoRetryable"] is True


@pytest.mark.usefixtures("fast_retries")
def test_dropped_connections_are_retried(recorded: tuple[Emulator, Recorder]) -> None:
    emulator, recorder = recorded
    emulator.faults.drop("token/inspect", count=2)
    assert emulator.client().iam.token.inspect().subject
    assert recorder.statuses(INSPECT) == [200]  # dropped requests get no response


def test_dropped_connection_is_a_reset_and_admin_drop_works(emulator: Emulator) -> None:
    """A reset, not a clean close: the SDK retries network errors but not a server that closed politely."""
    assert request(emulator, "POST", "/_emulator/faults/drop", {"path": "token/inspect", "count": 1}).status == 200
    with socket.create_connection((emulator.host, emulator.port), timeout=5) as sock:
        sock.sendall(f"GET {INSPECT} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\n\r\n".encode())
        with pytest.raises(ConnectionResetError):
            sock.recv(1024)
    assert request(emulator, "GET", INSPECT).status == 200


@pytest.mark.usefixtures("fast_retries")
def test_connections_dropped_every_time_end_in_a_connection_error(emulator: Emulator) -> None:
    emulator.faults.drop("token/inspect", count=10)
    with pytest.raises(CogniteConnectionError):
        emulator.client().iam.token.inspect()


def test_latency_from_python_and_over_http(emulator: Emulator) -> None:
    client = emulator.client()
    emulator.faults.delay("token/inspect", 0.3, count=1)
    started = time.monotonic()
    client.iam.token.inspect()
    assert time.monotonic() - started >= 0.3
    rule = {"path": "token/inspect", "latency": "400ms", "count": 1}
    assert request(emulator, "POST", "/_emulator/faults/latency", rule).status == 200
    started = time.monotonic()
    client.iam.token.inspect()
    assert time.monotonic() - started >= 0.4
    started = time.monotonic()
    client.iam.token.inspect()
    assert time.monotonic() - started < 0.4  # count=1: the rule is used up


def test_clear_removes_pending_faults(emulator: Emulator) -> None:
    emulator.faults.fail("token/inspect", 500, count=3)
    assert request(emulator, "POST", "/_emulator/faults/clear").status == 200
    assert emulator.client().iam.token.inspect().subject


def test_clock_advance_over_http(emulator: Emulator) -> None:
    before = request(emulator, "GET", "/_emulator/clock").json()["now"]
    advanced = request(emulator, "POST", "/_emulator/clock/advance", {"duration": "3d"}).json()["now"]
    assert advanced >= before + 3 * 86_400_000
    assert emulator.clock.now_ms() >= advanced


def test_reset_over_http_forgets_data_and_faults(emulator: Emulator) -> None:
    state = emulator.state
    emulator.faults.fail("token/inspect", 500, count=3)
    assert request(emulator, "POST", "/_emulator/reset", {"seed": "none"}).status == 200
    assert emulator.state is not state
    assert request(emulator, "GET", INSPECT).status == 200


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/_emulator/faults/fail", {"path": "x", "status": 418}),
        ("/_emulator/faults/fail", {"status": 500}),
        ("/_emulator/faults/fail", {"path": "(", "status": 500}),
        ("/_emulator/faults/fail", {"path": "x", "status": 500, "count": 0}),
        ("/_emulator/faults/latency", {"path": "x", "latency": "soon"}),
        ("/_emulator/faults/drop", {"path": ["x"]}),
        ("/_emulator/clock/advance", {"duration": "-1d"}),
        ("/_emulator/clock/advance", {}),
        ("/_emulator/reset", {"seed": "no-such-seed"}),
    ],
)
def test_invalid_admin_requests_are_400(emulator: Emulator, path: str, body: dict[str, Any]) -> None:
    state = emulator.state
    _assert_cdf_error(request(emulator, "POST", path, body), 400)
    assert emulator.state is state


# the validation hook itself ---------------------------------------------------------------------------------
def test_validator_sees_every_response_before_the_client_does(emulator_factory: Any, openapi_index: Any) -> None:
    validator = ResponseValidator(openapi_index)
    emulator = emulator_factory(on_response=validator.check)
    emulator.router = Router()
    emulator.router.add("GET", "/models/spaces", lambda request: {"items": "not-a-list"})
    assert request(emulator, "GET", f"/api/v1/projects/{emulator.project}/models/spaces").status == 200
    assert validator.violations == [
        "GET /api/v1/projects/emulated/models/spaces -> 200: $.items: 'not-a-list' is not of type 'array'"
    ]
